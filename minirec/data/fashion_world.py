"""The hidden ground truth of the synthetic fashion outfits.

The generator (:mod:`minirec.data.synth_fashion`) draws items, users and outfits from the
rules below; notebooks use the same rules as an *oracle* to report a ceiling that no learned
model can beat on average. All scores are integer "points", so the oracle is exact.

A user ``u`` likes an outfit ``O = (top, bottom, shoe)`` with probability proportional to
``exp(score(u, O) / temperature)``, where

    score(u, O) = sum_n preference(u, x_n) + sum_{n<m} compatibility(x_n, x_m).

This has exactly the structure Fashion Hash Net assumes: a user-item term plus an item-item
term, so the model family can represent the truth and the remaining gap is learnability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORIES: tuple[str, ...] = ("top", "bottom", "shoe")
STYLES: tuple[str, ...] = ("casual", "formal", "sporty", "boho")
COLOURS: tuple[str, ...] = ("black", "white", "grey", "navy", "red", "yellow", "green", "pink")
NEUTRAL_COLOURS: frozenset[str] = frozenset({"black", "white", "grey", "navy"})
PATTERNS: tuple[str, ...] = ("solid", "striped", "dotted", "checked")

#: One silhouette per (category, style): the picture shows the style.
SHAPES: dict[str, tuple[str, ...]] = {
    "top": ("t-shirt", "shirt", "tank top", "blouse"),
    "bottom": ("jeans", "pencil skirt", "shorts", "maxi skirt"),
    "shoe": ("sneakers", "heels", "running shoes", "boots"),
}

# Compatibility points for one pair of items (see pair_compatibility).
SAME_STYLE_POINTS = 2
CLASHING_STYLE_POINTS = -1
TONAL_COLOUR_POINTS = 1
NEUTRAL_WITH_BRIGHT_POINTS = 1
CLASHING_BRIGHTS_POINTS = -2
CLASHING_PATTERNS_POINTS = -2


@dataclass(frozen=True)
class Item:
    """One fashion item's attributes (indices into the vocabularies above)."""

    category: int
    style: int
    colour: int
    pattern: int

    @property
    def shape(self) -> str:
        return SHAPES[CATEGORIES[self.category]][self.style]

    def as_record(self) -> dict[str, str]:
        return {
            "category": CATEGORIES[self.category],
            "style": STYLES[self.style],
            "shape": self.shape,
            "colour": COLOURS[self.colour],
            "pattern": PATTERNS[self.pattern],
        }


@dataclass(frozen=True)
class UserTaste:
    """A user's hidden preferences: integer points per style and per colour."""

    style_points: tuple[int, ...]  # len(STYLES)
    colour_points: tuple[int, ...]  # len(COLOURS)


def pair_compatibility(a: Item, b: Item) -> int:
    """Points for wearing items ``a`` and ``b`` together (symmetric)."""
    points = 0
    if a.style == b.style:
        points += SAME_STYLE_POINTS
    elif STYLES[a.style] != "casual" and STYLES[b.style] != "casual":
        points += CLASHING_STYLE_POINTS  # casual goes with anything; other styles clash
    colour_a, colour_b = COLOURS[a.colour], COLOURS[b.colour]
    neutral_a, neutral_b = colour_a in NEUTRAL_COLOURS, colour_b in NEUTRAL_COLOURS
    if not neutral_a and not neutral_b:
        points += TONAL_COLOUR_POINTS if colour_a == colour_b else CLASHING_BRIGHTS_POINTS
    elif neutral_a != neutral_b:
        points += NEUTRAL_WITH_BRIGHT_POINTS
    if PATTERNS[a.pattern] != "solid" and PATTERNS[b.pattern] != "solid":
        points += CLASHING_PATTERNS_POINTS
    return points


def preference(taste: UserTaste, item: Item) -> int:
    """Points a user gives a single item."""
    return taste.style_points[item.style] + taste.colour_points[item.colour]


class FashionOracle:
    """Scores (user, outfit) pairs with the generator's own rules, vectorised over tuples.

    Args:
        items: ``items[category][i]`` is item ``i`` of that category.
        tastes: one :class:`UserTaste` per user.
    """

    def __init__(self, items: dict[str, list[Item]], tastes: list[UserTaste]) -> None:
        self.items = items
        self.tastes = tastes
        self._preference = {  # (users, items_in_category)
            cat: np.array([[preference(t, it) for it in items[cat]] for t in tastes], np.int64)
            for cat in CATEGORIES
        }
        self._pairs = {  # (items_in_a, items_in_b) for each slot pair a < b
            (a, b): np.array([[pair_compatibility(x, y) for y in items[b]] for x in items[a]], np.int64)
            for i, a in enumerate(CATEGORIES)
            for b in CATEGORIES[i + 1 :]
        }

    def preference_points(self, tuples: np.ndarray) -> np.ndarray:
        """User-item points of each row ``(user, top, bottom, shoe)``."""
        users = tuples[:, 0]
        return sum(self._preference[c][users, tuples[:, 1 + n]] for n, c in enumerate(CATEGORIES))

    def compatibility_points(self, tuples: np.ndarray) -> np.ndarray:
        """Item-item points of each row ``(user, top, bottom, shoe)``."""
        slot = {c: 1 + n for n, c in enumerate(CATEGORIES)}
        return sum(table[tuples[:, slot[a]], tuples[:, slot[b]]] for (a, b), table in self._pairs.items())

    def score(self, tuples: np.ndarray) -> np.ndarray:
        """Total hidden score (an integer array) of each ``(user, top, bottom, shoe)`` row."""
        tuples = np.asarray(tuples, dtype=np.int64)
        if tuples.ndim != 2 or tuples.shape[1] != 4:
            raise ValueError(f"expected an (n, 4) array of user,top,bottom,shoe; got {tuples.shape}")
        return self.preference_points(tuples) + self.compatibility_points(tuples)
