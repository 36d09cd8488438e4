"""The hidden ground truth of the synthetic shopping sequences.

A user walks through product categories (leaves) with a Markov chain -- cleanser -> toner ->
moisturizer is the likely routine -- while a hidden *style* (natural, luxury, clinical,
playful) drifts slowly. At each step the next leaf is drawn from ``TRANSITION[current leaf]``
and the item within it with weight ``popularity * (STYLE_BOOST if its brand's style is the
user's current style else 1)``, never an item already bought.

Popularity follows a Zipf law, so many items are rare: a model that only learns item IDs knows
little about them, but their category, brand colour and title say where they fit. That is the
effect the multimodal sequential recommender (notebooks 05-06) should exploit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

STYLES: tuple[str, ...] = ("natural", "luxury", "clinical", "playful")
DEPARTMENTS: tuple[str, ...] = ("Skin Care", "Makeup", "Hair Care", "Fragrance")

#: (department, leaf name, picture shape); the list order is the routine cycle.
LEAVES: tuple[tuple[str, str, str], ...] = (
    ("Skin Care", "Cleanser", "pump bottle"),
    ("Skin Care", "Toner", "bottle"),
    ("Skin Care", "Moisturizer", "jar"),
    ("Makeup", "Foundation", "squat bottle"),
    ("Makeup", "Eyeshadow", "palette"),
    ("Makeup", "Lipstick", "lipstick"),
    ("Fragrance", "Perfume", "flask"),
    ("Fragrance", "Body Mist", "spray can"),
    ("Hair Care", "Shampoo", "tall bottle"),
    ("Hair Care", "Conditioner", "tube"),
    ("Hair Care", "Hair Oil", "dropper"),
    ("Fragrance", "Cologne", "tall flask"),
)

#: (brand, style, RGB of its packaging)
BRANDS: tuple[tuple[str, str, tuple[int, int, int]], ...] = (
    ("Fernleaf", "natural", (96, 140, 72)),
    ("Mossé", "natural", (150, 120, 80)),
    ("Greenwell", "natural", (190, 200, 150)),
    ("Aurelle", "luxury", (30, 30, 36)),
    ("Maison Doré", "luxury", (120, 24, 48)),
    ("Velour", "luxury", (70, 40, 110)),
    ("DermaLab", "clinical", (240, 244, 248)),
    ("Purecell", "clinical", (150, 190, 220)),
    ("Clinix", "clinical", (90, 110, 140)),
    ("Pop Pixie", "playful", (250, 120, 200)),
    ("Glitterbug", "playful", (120, 220, 230)),
    ("Jellybean", "playful", (250, 170, 60)),
)

STYLE_LABEL_RGB: dict[str, tuple[int, int, int]] = {
    "natural": (110, 180, 90),
    "luxury": (214, 176, 56),
    "clinical": (60, 120, 220),
    "playful": (236, 60, 170),
}

ROUTINE_PROBABILITY = 0.5  # next leaf = the routine successor
SAME_DEPARTMENT_PROBABILITY = 0.2  # spread over the other leaves of the department
STYLE_BOOST = 6.0


def transition_matrix() -> np.ndarray:
    """``T[a, b]`` = probability that a purchase in leaf ``a`` is followed by one in leaf ``b``."""
    n = len(LEAVES)
    matrix = np.full((n, n), (1.0 - ROUTINE_PROBABILITY - SAME_DEPARTMENT_PROBABILITY) / n)
    for a, (department, _, _) in enumerate(LEAVES):
        matrix[a, (a + 1) % n] += ROUTINE_PROBABILITY
        siblings = [b for b, leaf in enumerate(LEAVES) if leaf[0] == department and b != a]
        for b in siblings:
            matrix[a, b] += SAME_DEPARTMENT_PROBABILITY / len(siblings)
    return matrix


@dataclass(frozen=True)
class CatalogueTruth:
    """Hidden facts per item (index = 0-based item position in the catalogue)."""

    leaf: np.ndarray  # (items,) int: primary leaf
    style: np.ndarray  # (items,) int: style of the item's brand
    popularity: np.ndarray  # (items,) float: Zipf weight

    def choice_weights(self, style: int) -> np.ndarray:
        """Unnormalised weight of every item for a user whose current style is ``style``."""
        return self.popularity * np.where(self.style == style, STYLE_BOOST, 1.0)


def zipf_popularity(ranks: np.ndarray, exponent: float) -> np.ndarray:
    """Popularity weight ``rank ** -exponent`` for 1-based ranks.

    Computed with scalar ``math.pow``: numpy's vectorised power may use CPU-specific SIMD
    kernels whose last bit differs between machines, and the sample data must not.
    """
    return np.array([math.pow(float(r), -exponent) for r in np.asarray(ranks).ravel()])


def oracle_next_item_probabilities(
    truth: CatalogueTruth, previous_item: int, style: int, history: np.ndarray
) -> np.ndarray:
    """The generator's exact distribution of the next item given the hidden state.

    ``history`` holds the items already bought (never bought again). Returns a vector over all
    items that sums to one; bought items get probability 0.
    """
    weights = truth.choice_weights(style).copy()
    weights[np.asarray(history, dtype=np.int64)] = 0.0
    leaf_totals = np.bincount(truth.leaf, weights=weights, minlength=len(LEAVES))
    leaf_probability = transition_matrix()[truth.leaf[previous_item]]
    if np.any(leaf_totals == 0):  # a leaf bought out: the generator redraws among all leaves
        leaf_probability = np.where(leaf_totals > 0, leaf_probability, 0.0)
        leaf_probability /= leaf_probability.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        within_leaf = np.where(leaf_totals[truth.leaf] > 0, weights / leaf_totals[truth.leaf], 0.0)
    return leaf_probability[truth.leaf] * within_leaf
