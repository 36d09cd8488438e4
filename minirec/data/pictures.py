"""Item pictures read and checked at load: decodable, complete, 8-bit (or converted), one size.

A picture that fails here would otherwise fail late (a stack of tensors of different sizes deep
inside feature extraction) or silently (a 16-bit grey picture read as all white).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from minirec.data.errors import DataFormatError
from minirec.data.io import require_file

SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")


def read_picture(path: str | Path) -> np.ndarray:
    """The picture at ``path`` as a writable ``(H, W, 3)`` uint8 array.

    8-bit modes (RGB, RGBA, grey, palette, CMYK) are converted to RGB; 16-bit grey is scaled to
    8 bits; anything else (32-bit integer or float pixels) is refused, as are files that are not
    pictures or are truncated.
    """
    path = require_file(path, "a picture file")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in SIXTEEN_BIT_MODES:
                grey = (np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8)
                return np.repeat(grey[:, :, None], 3, axis=2)
            if image.mode in ("I", "F"):
                raise DataFormatError(
                    path, f"has {image.mode!r} pixels (32-bit); expected an 8-bit or 16-bit picture"
                )
            return np.array(image.convert("RGB"))
    except UnidentifiedImageError:
        raise DataFormatError(path, "is not a picture PIL can read; expected a PNG or JPEG file") from None
    except Image.DecompressionBombError as err:
        raise DataFormatError(path, f"is too large to decode safely ({err})") from None
    except (OSError, SyntaxError, ValueError) as err:
        if isinstance(err, DataFormatError):
            raise
        raise DataFormatError(path, f"is truncated or corrupt ({err}); expected a complete picture") from None


def check_same_size(paths: Sequence[Path], pictures: Sequence[np.ndarray]) -> None:
    """Every picture has the size of the first one; the first that differs is named."""
    if not pictures:
        return
    height, width = pictures[0].shape[:2]
    for path, picture in zip(paths, pictures, strict=True):
        if picture.shape[:2] != (height, width):
            raise DataFormatError(
                path,
                f"is {picture.shape[1]}x{picture.shape[0]} pixels; expected {width}x{height} like "
                f"{paths[0].name} (every picture of a dataset has one size)",
            )
