"""The hidden ground truth of the synthetic fashion outfits.

The generator (:mod:`minirec.data.synth_fashion`) draws items, users and outfits from the
rules below; notebooks use the same rules as an *oracle* to report a ceiling that no learned
model can beat on average. All scores are integer "points", so the oracle is exact.

A user ``u`` likes an outfit ``O = (top, bottom, shoe)`` with probability proportional to
``exp(score(u, O) / temperature)``, where

    score(u, O) = sum_n preference(u, x_n) + sum_{n<m} compatibility(x_n, x_m).

This has exactly the structure Fashion Hash Net assumes: a user-item term plus an item-item
term, so the model family can represent the truth and the remaining gap is learnability.

**Tastes** (user-item). Every user ranks the 4 styles (points ``STYLE_GRADES``: +3 for the
favourite, +1, -1, -3 for the most disliked) and the 8 colours (``COLOUR_GRADES``: +3, +2, +1
for three liked colours, 0, 0, -1, -2, -3 for the rest), each order drawn at random.

**Compatibility** (item-item), the points of a pair of items worn together, is the sum of four
small tables that a stylist would recognise:

- *style* (``STYLE_PAIR_POINTS``): the same style +4; casual goes with everything, best with
  sporty (+2); formal and sporty clash hardest (-4), then sporty and boho (-3), formal and boho (-2);
- *colour* (``COLOUR_PAIR_POINTS``): a neutral with a bright +2; two brights of one family
  (red/pink, yellow/green, or the same colour) +2, of different families -3; black with white
  +2, black with navy -2;
- *pattern* (``PATTERN_PAIR_POINTS``): plain goes with everything; the same pattern twice -2,
  two different patterns -3;
- *palette* (``PALETTE_POINTS``, each style's taste in its partner's colour, applied both
  ways): casual likes white, grey and navy partners; formal neutral ones and not brights;
  sporty red, yellow and green but not grey or navy; boho yellow, green and pink but not black.

Every rule reads an attribute that the item's picture shows (silhouette = style, colour,
pattern) and its description names, so a feature extractor that sees the pictures or reads the
texts can recover the truth without ever being given the attributes.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

CATEGORIES: tuple[str, ...] = ("top", "bottom", "shoe")
STYLES: tuple[str, ...] = ("casual", "formal", "sporty", "boho")
COLOURS: tuple[str, ...] = ("black", "white", "grey", "navy", "red", "yellow", "green", "pink")
NEUTRAL_COLOURS: frozenset[str] = frozenset({"black", "white", "grey", "navy"})
#: Brights of one family go together; brights of different families clash.
COLOUR_FAMILIES: tuple[frozenset[str], ...] = (frozenset({"red", "pink"}), frozenset({"yellow", "green"}))
PATTERNS: tuple[str, ...] = ("solid", "striped", "dotted", "checked")

#: One silhouette per (category, style): the picture shows the style.
SHAPES: dict[str, tuple[str, ...]] = {
    "top": ("t-shirt", "shirt", "tank top", "blouse"),
    "bottom": ("jeans", "pencil skirt", "shorts", "maxi skirt"),
    "shoe": ("sneakers", "heels", "running shoes", "boots"),
}

#: A user's points for the styles and the colours, in the user's own (random) order.
STYLE_GRADES: tuple[int, ...] = (3, 1, -1, -3)
COLOUR_GRADES: tuple[int, ...] = (3, 2, 1, 0, 0, -1, -2, -3)

#: Points for a pair of styles worn together (symmetric), rows and columns in STYLES order.
STYLE_PAIR_POINTS: tuple[tuple[int, ...], ...] = (
    # casual formal sporty boho
    (4, 0, 2, 0),  # casual
    (0, 4, -4, -2),  # formal
    (2, -4, 4, -3),  # sporty
    (0, -2, -3, 4),  # boho
)
NEUTRAL_WITH_BRIGHT_POINTS = 2
SAME_FAMILY_BRIGHTS_POINTS = 2
CLASHING_BRIGHTS_POINTS = -3
BLACK_WITH_WHITE_POINTS = 2
BLACK_WITH_NAVY_POINTS = -2
SAME_PATTERN_POINTS = -2
CLASHING_PATTERNS_POINTS = -3
#: ``PALETTE_POINTS[style][colour]``: what an item of ``style`` adds for a partner of ``colour``.
PALETTE_POINTS: tuple[tuple[int, ...], ...] = (
    # black white grey navy red yellow green pink
    (0, 2, 2, 2, 0, 0, 0, 0),  # casual: denim basics
    (2, 2, 2, 2, -2, -2, -2, -2),  # formal: neutrals only
    (0, 0, -2, -2, 2, 2, 2, 0),  # sporty: bold brights
    (-2, 0, 0, 0, 0, 2, 2, 2),  # boho: warm, never black
)


def colour_pair_points(colour_a: str, colour_b: str) -> int:
    """Points for two colours worn together (symmetric)."""
    neutral_a, neutral_b = colour_a in NEUTRAL_COLOURS, colour_b in NEUTRAL_COLOURS
    if neutral_a != neutral_b:
        return NEUTRAL_WITH_BRIGHT_POINTS
    if not neutral_a:  # two brights
        same_family = any({colour_a, colour_b} <= family for family in COLOUR_FAMILIES)
        return SAME_FAMILY_BRIGHTS_POINTS if same_family else CLASHING_BRIGHTS_POINTS
    pair = {colour_a, colour_b}
    if pair == {"black", "white"}:
        return BLACK_WITH_WHITE_POINTS
    if pair == {"black", "navy"}:
        return BLACK_WITH_NAVY_POINTS
    return 0


def pattern_pair_points(pattern_a: str, pattern_b: str) -> int:
    """Points for two patterns worn together (symmetric): only two patterned items interact."""
    if "solid" in (pattern_a, pattern_b):
        return 0
    return SAME_PATTERN_POINTS if pattern_a == pattern_b else CLASHING_PATTERNS_POINTS


COLOUR_PAIR_POINTS: tuple[tuple[int, ...], ...] = tuple(
    tuple(colour_pair_points(a, b) for b in COLOURS) for a in COLOURS
)
PATTERN_PAIR_POINTS: tuple[tuple[int, ...], ...] = tuple(
    tuple(pattern_pair_points(a, b) for b in PATTERNS) for a in PATTERNS
)


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
    """Points for wearing items ``a`` and ``b`` together (symmetric): the four tables summed."""
    return (
        STYLE_PAIR_POINTS[a.style][b.style]
        + COLOUR_PAIR_POINTS[a.colour][b.colour]
        + PATTERN_PAIR_POINTS[a.pattern][b.pattern]
        + PALETTE_POINTS[a.style][b.colour]
        + PALETTE_POINTS[b.style][a.colour]
    )


def preference(taste: UserTaste, item: Item) -> int:
    """Points a user gives a single item."""
    return taste.style_points[item.style] + taste.colour_points[item.colour]


def item_kinds() -> int:
    """How many kinds of item the rules tell apart in one category: style x colour x pattern (128)."""
    return len(STYLES) * len(COLOURS) * len(PATTERNS)


def distinct_tastes() -> int:
    """How many different tastes the grades allow: orders of the styles times orders of the colours.

    Equal grades (the two colours at 0) make some orders the same taste, hence the division.
    """

    def orders(grades: tuple[int, ...]) -> int:
        return math.factorial(len(grades)) // math.prod(math.factorial(k) for k in Counter(grades).values())

    return orders(STYLE_GRADES) * orders(COLOUR_GRADES)


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

    def preference_table(self, category: str) -> np.ndarray:
        """Points of every user for every item of ``category``: ``(users, items)``."""
        return self._preference[category].copy()

    def pair_table(self, category_a: str, category_b: str) -> np.ndarray:
        """Compatibility points of every item of ``category_a`` with every item of ``category_b``."""
        if (category_a, category_b) in self._pairs:
            return self._pairs[(category_a, category_b)].copy()
        return self._pairs[(category_b, category_a)].T.copy()

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


def truth_ranks(oracle: FashionOracle, category: str) -> dict[str, int]:
    """How many independent numbers per item of ``category`` the truth is made of.

    ``preference``: the rank of the users x items table, each user's row centred (a constant per
    user changes no ranking); ``compatibility``: the rank of the item's rows in its two pair
    tables side by side; ``joint``: both together, what one item code must hold. A real-valued
    code with fewer dimensions than ``joint`` cannot reproduce the truth exactly.
    """
    user_item = oracle.preference_table(category).astype(float)
    user_item -= user_item.mean(axis=1, keepdims=True)
    partners = [c for c in CATEGORIES if c != category]
    pairs = np.concatenate([oracle.pair_table(category, c) for c in partners], axis=1).astype(float)
    joint = np.concatenate([user_item.T, pairs], axis=1)
    return {
        "preference": int(np.linalg.matrix_rank(user_item)),
        "compatibility": int(np.linalg.matrix_rank(pairs)),
        "joint": int(np.linalg.matrix_rank(joint)),
    }
