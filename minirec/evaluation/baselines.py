"""Non-learned reference scorers: popularity and transition heuristics, the oracle ceiling of the samples."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from minirec.data.samples import ShoppingSample, shopping_truth
from minirec.data.shopping_world import oracle_next_item_probabilities
from minirec.evaluation.metrics import rank_of_target


def item_counts(train_tuples: np.ndarray, num_items: dict[str, int]) -> dict[str, np.ndarray]:
    """How often each item of each category appears in the training outfits."""
    return {
        category: np.bincount(train_tuples[:, 1 + slot], minlength=num_items[category])
        for slot, category in enumerate(num_items)
    }


def outfit_popularity_scores(counts: dict[str, np.ndarray], tuples: np.ndarray) -> np.ndarray:
    """Score ``(user, items...)`` rows by ``sum_n log(1 + count(item_n))``; ignores the user."""
    return sum(np.log1p(counts[category][tuples[:, 1 + slot]]) for slot, category in enumerate(counts))


def most_popular_scores(train: dict[int, list[int]], num_items: int) -> np.ndarray:
    """Training counts of each item id (index 0 = padding, count 0)."""
    counts = np.zeros(num_items + 1, np.float64)
    for sequence in train.values():
        np.add.at(counts, sequence, 1.0)
    return counts


def item_transition_scores(
    train: dict[int, list[int]], num_items: int
) -> Callable[[list[list[int]]], np.ndarray]:
    """The first-order item heuristic: after item ``i``, rank ``j`` by how often ``i -> j`` was seen.

    Counts consecutive pairs in ``train``; ties (and items never seen after ``i``) are broken by
    popularity, scaled below 1 so that it never outweighs one observed transition. Returns a
    scorer ``histories -> (len(histories), num_items + 1)`` for :func:`evaluate_scores`.
    """
    pairs = [np.stack([s[:-1], s[1:]]) for s in map(np.asarray, train.values()) if len(s) >= 2]
    before, after = np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), np.int64)
    keys, counts = np.unique(before.astype(np.int64) * (num_items + 1) + after, return_counts=True)
    first, then = np.divmod(keys, num_items + 1)  # sorted by the first item
    starts = np.searchsorted(first, np.arange(num_items + 2))
    popularity = most_popular_scores(train, num_items)
    tie_break = popularity / (popularity.max() + 1.0)

    def score(histories: list[list[int]]) -> np.ndarray:
        scores = np.tile(tie_break, (len(histories), 1))
        for row, history in enumerate(histories):
            last = history[-1] if history else 0
            span = slice(starts[last], starts[last + 1])
            scores[row, then[span]] += counts[span]
        return scores

    return score


def category_transition_scores(
    train: dict[int, list[int]], item_category: np.ndarray, popularity: np.ndarray
) -> np.ndarray:
    """A first-order heuristic: ``T_hat[c, c'] * (1 + count(j))`` for every last category ``c``.

    ``T_hat`` is the category transition matrix observed in ``train`` (add-one smoothed);
    ``item_category[i]`` is item ``i``'s category index (index 0 = padding). Returns
    ``(categories, num_items + 1)``: row ``c`` scores every item after an item of category ``c``.
    """
    size = int(item_category.max()) + 1
    counts = np.ones((size, size))
    for sequence in train.values():
        np.add.at(counts, (item_category[sequence[:-1]], item_category[sequence[1:]]), 1.0)
    transition = counts / counts.sum(axis=1, keepdims=True)
    return transition[:, item_category] * (1.0 + popularity)


def shopping_oracle_ranks(sample: ShoppingSample, stage: str = "test") -> np.ndarray:
    """Rank of each user's held-out item under the generator's true next-item distribution.

    Full ranking over all item ids with the user's history masked; every user is evaluated.
    The oracle knows the hidden taste, so this is a ceiling, not a baseline.
    """
    catalogue, tastes = shopping_truth(sample)
    split = sample.split()
    target = split.test if stage == "test" else split.valid
    ranks = []
    for user in sample.sequences:
        history = np.array(split.history(user, stage))
        step = len(history)  # index of the target in the full sequence
        probabilities = oracle_next_item_probabilities(catalogue, history[-1], tastes[user][step], history)
        ranks.append(rank_of_target(probabilities, target[user], excluded=np.append(history, 0)))
    return np.array(ranks)
