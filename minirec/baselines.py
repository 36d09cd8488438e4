"""Non-learned baselines: popularity for outfits and for next items."""

from __future__ import annotations

import numpy as np


def item_counts(train_tuples: np.ndarray, num_items: dict[str, int]) -> dict[str, np.ndarray]:
    """How often each item of each category appears in the training outfits."""
    return {category: np.bincount(train_tuples[:, 1 + slot], minlength=num_items[category])
            for slot, category in enumerate(num_items)}


def outfit_popularity_scores(counts: dict[str, np.ndarray], tuples: np.ndarray) -> np.ndarray:
    """Score ``(user, items...)`` rows by ``sum_n log(1 + count(item_n))``; ignores the user."""
    return sum(np.log1p(counts[category][tuples[:, 1 + slot]])
               for slot, category in enumerate(counts))


def most_popular_scores(train: dict[int, list[int]], num_items: int) -> np.ndarray:
    """Training counts of each item id (index 0 = padding, count 0)."""
    counts = np.zeros(num_items + 1, np.float64)
    for sequence in train.values():
        np.add.at(counts, sequence, 1.0)
    return counts
