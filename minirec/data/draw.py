"""Procedural pictures for the synthetic datasets: clothes (48x48) and beauty products (32x32).

Everything is integer arithmetic on numpy arrays (masks from inequalities, integer noise from a
seeded generator), so the same seed gives the same pixels on every CPU and numpy build.
"""

from __future__ import annotations

import numpy as np

Mask = np.ndarray  # (size, size) bool
RGB = tuple[int, int, int]

BACKGROUND: RGB = (222, 226, 232)
OUTLINE: RGB = (55, 55, 60)
DARK: RGB = (40, 40, 44)
LIGHT: RGB = (242, 242, 236)

COLOUR_RGB: dict[str, RGB] = {
    "black": (32, 32, 36),
    "white": (250, 250, 247),
    "grey": (132, 132, 138),
    "navy": (30, 44, 96),
    "red": (204, 36, 44),
    "yellow": (242, 204, 48),
    "green": (44, 146, 66),
    "pink": (242, 136, 176),
}


class Canvas:
    """Integer pixel grid with helpers that return boolean masks of simple shapes."""

    def __init__(self, size: int, dx: int = 0, dy: int = 0) -> None:
        self.size = size
        yy, xx = np.mgrid[0:size, 0:size]
        self.x = xx.astype(np.int64) - dx  # shifting the grid moves the drawing by (dx, dy)
        self.y = yy.astype(np.int64) - dy

    def rect(self, x0: int, y0: int, x1: int, y1: int) -> Mask:
        return (self.x >= x0) & (self.x < x1) & (self.y >= y0) & (self.y < y1)

    def ellipse(self, cx: int, cy: int, rx: int, ry: int) -> Mask:
        return (self.x - cx) ** 2 * ry**2 + (self.y - cy) ** 2 * rx**2 <= rx**2 * ry**2

    def trapezoid(self, cx: int, y0: int, y1: int, half_top: int, half_bottom: int) -> Mask:
        """Rows y0..y1-1, centred on the pixel boundary at ``cx``, width growing linearly."""
        height = y1 - y0
        rows = (self.y >= y0) & (self.y < y1)
        offset = np.abs(2 * self.x + 1 - 2 * cx) * height
        limit = 2 * (half_top * height + (half_bottom - half_top) * (self.y - y0))
        return rows & (offset <= limit)


def _outline(mask: Mask) -> Mask:
    """Pixels of ``mask`` that touch a pixel outside it (4-neighbourhood)."""
    padded = np.pad(mask, 1, constant_values=False)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def _jitter(colour: RGB, rng: np.random.Generator, amount: int) -> np.ndarray:
    return np.clip(np.array(colour, np.int64) + rng.integers(-amount, amount + 1, 3), 0, 255)


def _contrast(colour: np.ndarray) -> np.ndarray:
    luminance = (299 * colour[0] + 587 * colour[1] + 114 * colour[2]) // 1000
    return np.array(DARK if luminance > 150 else LIGHT, np.int64)


def _finish(image: np.ndarray, rng: np.random.Generator, noise: int) -> np.ndarray:
    image = image + rng.integers(-noise, noise + 1, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- clothes


def _top(c: Canvas, shape: str) -> tuple[Mask, Mask]:
    """(garment mask, detail mask) of a top."""
    detail = np.zeros_like(c.x, bool)
    if shape == "t-shirt":
        body = c.trapezoid(24, 12, 42, 9, 10) | c.rect(6, 12, 42, 16)
        body |= c.rect(5, 16, 15, 22) | c.rect(33, 16, 43, 22)
        body &= ~c.ellipse(24, 11, 4, 3)
    elif shape == "shirt":
        body = c.rect(15, 10, 33, 43) | c.rect(8, 10, 15, 38) | c.rect(33, 10, 40, 38)
        body &= ~c.trapezoid(24, 10, 16, 4, 0)
        detail = c.rect(23, 16, 25, 43) | (c.trapezoid(24, 10, 14, 6, 3) & ~c.trapezoid(24, 10, 16, 4, 0))
    elif shape == "tank top":
        body = c.trapezoid(24, 8, 42, 8, 10)
        body &= ~(c.ellipse(14, 12, 4, 7) | c.ellipse(34, 12, 4, 7) | c.ellipse(24, 7, 5, 5))
    elif shape == "blouse":
        body = c.trapezoid(24, 11, 42, 7, 12) | c.rect(12, 11, 36, 15)
        body |= c.trapezoid(10, 11, 31, 2, 6) | c.trapezoid(38, 11, 31, 2, 6)
        body &= ~c.ellipse(24, 11, 5, 3)
    else:
        raise ValueError(f"unknown top shape {shape!r}")
    return body, detail & body


def _bottom(c: Canvas, shape: str) -> tuple[Mask, Mask]:
    if shape == "jeans":
        body = c.rect(14, 6, 34, 13) | c.rect(14, 13, 23, 44) | c.rect(25, 13, 34, 44)
        detail = c.rect(14, 6, 34, 8)
    elif shape == "pencil skirt":
        body = c.trapezoid(24, 8, 38, 9, 8)
        detail = c.rect(15, 8, 33, 10)
    elif shape == "shorts":
        body = c.rect(13, 10, 35, 16) | c.rect(12, 16, 23, 28) | c.rect(25, 16, 36, 28)
        detail = c.rect(13, 10, 35, 12)
    elif shape == "maxi skirt":
        body = c.trapezoid(24, 6, 45, 8, 18)
        detail = c.rect(16, 6, 32, 9)
    else:
        raise ValueError(f"unknown bottom shape {shape!r}")
    return body, detail & body


def _shoe(c: Canvas, shape: str) -> tuple[Mask, Mask]:
    if shape == "sneakers":
        upper = c.ellipse(22, 34, 15, 9) & (c.y < 34)
        sole = c.rect(6, 34, 41, 38)
        detail = sole | (c.rect(16, 27, 28, 28) | c.rect(16, 30, 28, 31))
    elif shape == "heels":
        upper = c.ellipse(27, 33, 14, 6) & (c.y < 33) & ~c.ellipse(24, 27, 7, 4)
        sole = c.trapezoid(27, 33, 35, 14, 14) | c.rect(11, 30, 14, 42)
        detail = sole
    elif shape == "running shoes":
        upper = c.ellipse(23, 32, 16, 11) & (c.y < 32)
        sole = c.rect(5, 32, 42, 39)
        detail = sole | (c.trapezoid(24, 26, 29, 10, 4))
    elif shape == "boots":
        upper = c.rect(12, 6, 24, 34) | (c.ellipse(27, 34, 16, 7) & (c.y < 36))
        sole = c.rect(10, 36, 43, 39)
        detail = sole | c.rect(12, 6, 24, 8)
    else:
        raise ValueError(f"unknown shoe shape {shape!r}")
    body = upper | sole
    return body, detail & body


_GARMENTS = {"top": _top, "bottom": _bottom, "shoe": _shoe}


def _pattern_mask(c: Canvas, pattern: str) -> Mask:
    if pattern == "solid":
        return np.zeros_like(c.x, bool)
    if pattern == "striped":
        return (c.y % 6) < 2
    if pattern == "dotted":
        return ((c.x % 6) - 2) ** 2 + ((c.y % 6) - 2) ** 2 <= 2
    if pattern == "checked":
        return ((c.x // 4) + (c.y // 4)) % 2 == 0
    raise ValueError(f"unknown pattern {pattern!r}")


def draw_garment(
    category: str, shape: str, colour: str, pattern: str, rng: np.random.Generator, size: int = 48
) -> np.ndarray:
    """A ``(size, size, 3)`` uint8 picture of one garment."""
    canvas = Canvas(size, dx=int(rng.integers(-2, 3)), dy=int(rng.integers(-2, 3)))
    body, detail = _GARMENTS[category](canvas, shape)
    main = _jitter(COLOUR_RGB[colour], rng, 12)
    second = _contrast(main)
    image = np.empty((size, size, 3), np.int64)
    image[:] = BACKGROUND
    image[body] = main
    pattern_mask = body & _pattern_mask(canvas, pattern)
    if pattern == "checked":
        image[pattern_mask] = (main * 3 + second) // 4
    else:
        image[pattern_mask] = second
    image[detail] = (main + 2 * second) // 3
    shade = 108 - (canvas.y * 16) // size  # a soft top-lit gradient, in percent
    image[body] = image[body] * shade[body][:, None] // 100
    image[_outline(body)] = OUTLINE
    return _finish(image, rng, noise=6)


# ----------------------------------------------------------------------------- products


def _product(c: Canvas, shape: str) -> tuple[Mask, Mask, Mask]:
    """(body, cap, label) masks of one product silhouette on a 32x32 canvas."""
    if shape == "pump bottle":
        body, cap = c.rect(10, 12, 22, 30), c.rect(14, 8, 18, 12) | c.rect(12, 5, 23, 8)
    elif shape == "bottle":
        body, cap = c.rect(9, 11, 23, 30), c.rect(12, 4, 20, 11)
    elif shape == "jar":
        body, cap = c.rect(5, 17, 27, 29), c.rect(4, 12, 28, 17)
    elif shape == "dropper":
        body, cap = c.rect(11, 15, 21, 30), c.rect(14, 10, 18, 15) | c.ellipse(16, 7, 3, 4)
    elif shape == "squat bottle":
        body, cap = c.rect(8, 15, 24, 30), c.rect(12, 7, 20, 15)
    elif shape == "lipstick":
        body, cap = c.rect(11, 17, 21, 30), c.trapezoid(16, 6, 17, 2, 4)
    elif shape == "palette":
        body = c.rect(3, 9, 29, 25)
        pans = c.ellipse(9, 17, 3, 3) | c.ellipse(16, 17, 3, 3) | c.ellipse(23, 17, 3, 3)
        return body, np.zeros_like(body), pans  # the label colour fills the pans
    elif shape == "tall bottle":
        body, cap = c.rect(10, 7, 22, 30), c.rect(12, 2, 20, 7)
    elif shape == "tube":
        body, cap = c.trapezoid(16, 3, 25, 6, 4), c.rect(11, 25, 21, 30)
    elif shape == "flask":
        body, cap = c.ellipse(16, 21, 10, 8), c.rect(14, 9, 18, 13) | c.rect(12, 4, 20, 9)
    elif shape == "spray can":
        body, cap = c.rect(11, 10, 21, 30), c.ellipse(16, 9, 5, 4) & (c.y < 10)
    elif shape == "tall flask":
        body, cap = c.trapezoid(16, 11, 30, 5, 8), c.rect(13, 3, 19, 11)
    else:
        raise ValueError(f"unknown product shape {shape!r}")
    rows = c.y[body]
    middle = (int(rows.min()) + int(rows.max())) // 2
    label = body & (c.y >= middle - 2) & (c.y < middle + 2)
    return body, cap & ~body, label


def draw_product(
    shape: str, colour: RGB, label_colour: RGB, rng: np.random.Generator, size: int = 32
) -> np.ndarray:
    """A ``(size, size, 3)`` uint8 picture of one beauty product."""
    canvas = Canvas(size, dx=int(rng.integers(-1, 2)), dy=int(rng.integers(-1, 2)))
    body, cap, label = _product(canvas, shape)
    main = _jitter(colour, rng, 14)
    image = np.empty((size, size, 3), np.int64)
    image[:] = BACKGROUND
    image[body] = main
    image[cap] = _contrast(main)
    image[label] = _jitter(label_colour, rng, 6)
    shade = 106 - (canvas.x * 12) // size  # light from the left
    lit = body | cap
    image[lit] = image[lit] * shade[lit][:, None] // 100
    image[_outline(lit)] = OUTLINE
    return _finish(image, rng, noise=5)
