"""The hidden ground truth of the synthetic shopping sequences.

Every product has three hidden properties, and each one shows in exactly one modality:

- its **leaf category** (cleanser, toner, ...) is in its category path (the multi-hot
  attributes), and leaves follow each other by a Markov chain -- cleanser -> toner ->
  moisturizer is the likely routine;
- its **palette** (pastel, dark, neon, earthy) is the colour of its packaging, seen only in the
  picture (the bottle's shape is random and says nothing);
- its **ingredient** (floral, mineral, citrus, hydrating) is a word of its title, seen only in
  the text (the rest of the title is brand, product line and size: no hint of the leaf).

A shopper has a hidden favourite palette and a favourite ingredient, each redrawn now and then.
At each step the next leaf is drawn from ``TRANSITION[current leaf]`` and the item within it with
weight ``popularity * PALETTE_BOOST^[palette matches] * INGREDIENT_BOOST^[ingredient matches]``,
never an item already bought.

Popularity follows a Zipf law, so many items are rare: a model that only learns item IDs knows
little about them, but their picture and title say which shoppers they suit. That is the effect
the multimodal sequential recommender (notebooks 05-06) should exploit, and the reason each
modality carries a signal of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEPARTMENTS: tuple[str, ...] = ("Skin Care", "Makeup", "Hair Care", "Fragrance")

#: (department, leaf name); the list order is the routine cycle.
LEAVES: tuple[tuple[str, str], ...] = (
    ("Skin Care", "Cleanser"),
    ("Skin Care", "Toner"),
    ("Skin Care", "Moisturizer"),
    ("Makeup", "Foundation"),
    ("Makeup", "Eyeshadow"),
    ("Makeup", "Lipstick"),
    ("Fragrance", "Perfume"),
    ("Fragrance", "Body Mist"),
    ("Hair Care", "Shampoo"),
    ("Hair Care", "Conditioner"),
    ("Hair Care", "Hair Oil"),
    ("Fragrance", "Cologne"),
)

#: Packaging shapes: drawn at random for every product, independent of its leaf.
SHAPES: tuple[str, ...] = (
    "pump bottle", "bottle", "jar", "squat bottle", "palette", "lipstick",
    "flask", "spray can", "tall bottle", "tube", "dropper", "tall flask",
)  # fmt: skip

#: The visual taste: packaging colours (RGB) of each palette.
PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "pastel": ((244, 194, 214), (190, 220, 246), (200, 238, 206)),
    "dark": ((28, 28, 34), (36, 44, 92), (96, 20, 40)),
    "neon": ((255, 40, 170), (120, 255, 40), (20, 230, 255)),
    "earthy": ((128, 84, 48), (120, 124, 56), (196, 108, 64)),
}

#: The text taste: title words of each ingredient family.
INGREDIENTS: dict[str, tuple[str, ...]] = {
    "floral": ("Rose", "Jasmine", "Lavender"),
    "mineral": ("Charcoal", "Clay", "Sea Salt"),
    "citrus": ("Vitamin C", "Lemon", "Grapefruit"),
    "hydrating": ("Hyaluronic", "Ceramide", "Aloe"),
}

PALETTE_NAMES: tuple[str, ...] = tuple(PALETTES)
INGREDIENT_NAMES: tuple[str, ...] = tuple(INGREDIENTS)

ROUTINE_PROBABILITY = 0.5  # next leaf = the routine successor
SAME_DEPARTMENT_PROBABILITY = 0.2  # spread over the other leaves of the department
PALETTE_BOOST = 25.0
INGREDIENT_BOOST = 25.0


def transition_matrix() -> np.ndarray:
    """``T[a, b]`` = probability that a purchase in leaf ``a`` is followed by one in leaf ``b``."""
    n = len(LEAVES)
    matrix = np.full((n, n), (1.0 - ROUTINE_PROBABILITY - SAME_DEPARTMENT_PROBABILITY) / n)
    for a, (department, _) in enumerate(LEAVES):
        matrix[a, (a + 1) % n] += ROUTINE_PROBABILITY
        siblings = [b for b, leaf in enumerate(LEAVES) if leaf[0] == department and b != a]
        for b in siblings:
            matrix[a, b] += SAME_DEPARTMENT_PROBABILITY / len(siblings)
    return matrix


@dataclass(frozen=True)
class ShopperTaste:
    """A shopper's hidden favourites at one step (indices into PALETTE_NAMES / INGREDIENT_NAMES)."""

    palette: int
    ingredient: int


@dataclass(frozen=True)
class CatalogueTruth:
    """Hidden facts per item (index = 0-based item position in the catalogue)."""

    leaf: np.ndarray  # (items,) int
    palette: np.ndarray  # (items,) int: shown by the picture
    ingredient: np.ndarray  # (items,) int: shown by the title
    popularity: np.ndarray  # (items,) float: Zipf weight

    def choice_weights(self, taste: ShopperTaste) -> np.ndarray:
        """Unnormalised weight of every item for a shopper with this ``taste``."""
        palette = np.where(self.palette == taste.palette, PALETTE_BOOST, 1.0)
        ingredient = np.where(self.ingredient == taste.ingredient, INGREDIENT_BOOST, 1.0)
        return self.popularity * palette * ingredient


def zipf_popularity(ranks: np.ndarray, exponent: float) -> np.ndarray:
    """Popularity weight ``rank ** -exponent`` for 1-based ranks.

    Computed with scalar ``math.pow``: numpy's vectorised power may use CPU-specific SIMD
    kernels whose last bit differs between machines, and the sample data must not.
    """
    return np.array([math.pow(float(r), -exponent) for r in np.asarray(ranks).ravel()])


def oracle_next_item_probabilities(
    truth: CatalogueTruth, previous_item: int, taste: ShopperTaste, history: np.ndarray
) -> np.ndarray:
    """The generator's exact distribution of the next item given the hidden state.

    ``history`` holds the items already bought (never bought again). Returns a vector over all
    items that sums to one; bought items get probability 0.
    """
    weights = truth.choice_weights(taste).copy()
    weights[np.asarray(history, dtype=np.int64)] = 0.0
    leaf_totals = np.bincount(truth.leaf, weights=weights, minlength=len(LEAVES))
    leaf_probability = transition_matrix()[truth.leaf[previous_item]]
    if np.any(leaf_totals == 0):  # a leaf bought out: the generator redraws among all leaves
        leaf_probability = np.where(leaf_totals > 0, leaf_probability, 0.0)
        leaf_probability /= leaf_probability.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        within_leaf = np.where(leaf_totals[truth.leaf] > 0, weights / leaf_totals[truth.leaf], 0.0)
    return leaf_probability[truth.leaf] * within_leaf
