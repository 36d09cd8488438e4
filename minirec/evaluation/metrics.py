"""Ranking metrics used across the notebooks.

Conventions: higher score = more relevant; ``rank`` is 1-based (1 = top of the list).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def auc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count one half)."""
    pos = np.asarray(positive_scores, dtype=np.float64).ravel()
    neg = np.asarray(negative_scores, dtype=np.float64).ravel()
    if pos.size == 0 or neg.size == 0:
        raise ValueError(f"auc needs at least one positive and one negative, got {pos.size} and {neg.size}")
    # Sorting the negatives once gives, per positive, how many negatives lie below and tie.
    neg_sorted = np.sort(neg)
    below = np.searchsorted(neg_sorted, pos, side="left")
    tied = np.searchsorted(neg_sorted, pos, side="right") - below
    return float((below + 0.5 * tied).sum() / (pos.size * neg.size))


def mean_user_auc(
    users: np.ndarray, positive_scores: np.ndarray, negative_users: np.ndarray, negative_scores: np.ndarray
) -> float:
    """AUC computed per user over that user's positives and negatives, averaged over users.

    Users with no positive or no negative are skipped (as in the Fashion Hash Net evaluation).
    """
    users, negative_users = np.asarray(users), np.asarray(negative_users)
    values = []
    for user in np.unique(users):
        pos = positive_scores[users == user]
        neg = negative_scores[negative_users == user]
        if pos.size and neg.size:
            values.append(auc(pos, neg))
    if not values:
        raise ValueError("mean_user_auc: no user has both a positive and a negative")
    return float(np.mean(values))


def rank_of_target(scores: np.ndarray, target: int, excluded: np.ndarray | None = None) -> int:
    """1-based rank of ``scores[target]`` among the non-excluded entries; ties rank pessimistically.

    Pessimistic tie-breaking (the target goes below every item with an equal score) keeps a
    model that outputs constant scores from getting a perfect rank.
    """
    scores = np.asarray(scores, dtype=np.float64)
    keep = np.ones(scores.shape[0], dtype=bool)
    if excluded is not None and len(excluded):
        keep[np.asarray(excluded)] = False
        keep[target] = True
    return int((scores[keep] >= scores[target]).sum())


def hit_rate_at_k(ranks: np.ndarray, k: int) -> float:
    """HR@k: fraction of targets ranked within the top ``k``."""
    return float((np.asarray(ranks) <= k).mean())


def ndcg_at_k(ranks: np.ndarray, k: int) -> float:
    """NDCG@k with one relevant item per query: ``1 / log2(rank + 1)`` if ``rank <= k`` else 0."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return float(np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0).mean())


def fitb_accuracy(candidate_scores: np.ndarray, answers: np.ndarray) -> float:
    """Fill-in-the-blank accuracy: the true candidate must have the highest score.

    Ties are shared: a question whose true candidate ties with ``t - 1`` others counts ``1/t``
    (the expected accuracy under random tie-breaking). Binary codes tie often, so this matters.
    """
    scores = np.asarray(candidate_scores, dtype=np.float64)
    answers = np.asarray(answers)
    best = scores == scores.max(axis=1, keepdims=True)
    hit = best[np.arange(len(answers)), answers]
    return float(np.mean(hit / best.sum(axis=1)))


def ndcg_standard(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Standard NDCG@k of one ranked list with binary labels: discount ``log2(rank + 1)``.

    Equals ``sklearn.metrics.ndcg_score([labels], [scores], k=k)`` when scores have no ties.
    """
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    discounts = 1.0 / np.log2(np.arange(2, len(scores) + 2))
    dcg = (labels[order][:k] * discounts[:k]).sum()
    ideal = (np.sort(labels)[::-1][:k] * discounts[:k]).sum()
    return float(dcg / ideal) if ideal > 0 else 0.0


def ndcg_fhn(scores: np.ndarray, labels: np.ndarray) -> float:
    """NDCG as the Fashion Hash Net code reports it: NDCG@k averaged over every cut-off k = 1..n.

    Gains ``2^label - 1``, discount ``log2(max(rank, 2))`` (so ranks 1 and 2 weigh the same).
    """
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    discounts = np.log2(np.maximum(np.arange(1, len(scores) + 1), 2.0))
    dcg = np.cumsum((2.0 ** labels[order] - 1) / discounts)
    ideal = np.cumsum((2.0 ** np.sort(labels)[::-1] - 1) / discounts)
    return float(np.mean(dcg / ideal))


def mean_user_ndcg(
    users: np.ndarray,
    positive_scores: np.ndarray,
    negative_users: np.ndarray,
    negative_scores: np.ndarray,
    form: str = "standard",
    k: int = 10,
) -> float:
    """Per-user NDCG over that user's positives (label 1) and negatives (label 0), averaged.

    ``form="standard"`` is NDCG@k (:func:`ndcg_standard`); ``form="fhn"`` is the all-cut-off
    average of the official code (:func:`ndcg_fhn`).
    """
    if form not in ("standard", "fhn"):
        raise ValueError(f"form should be 'standard' or 'fhn', got {form!r}")
    values = []
    for user in np.unique(users):
        pos, neg = positive_scores[users == user], negative_scores[negative_users == user]
        if pos.size and neg.size:
            scores = np.concatenate([pos, neg])
            labels = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])
            value = ndcg_standard(scores, labels, k) if form == "standard" else ndcg_fhn(scores, labels)
            values.append(value)
    return float(np.mean(values))


def mrr(ranks: np.ndarray) -> float:
    """Mean reciprocal rank."""
    return float(np.mean(1.0 / np.asarray(ranks, dtype=np.float64)))


def sample_negatives(num_items: int, excluded: set[int], count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct item ids from ``1..num_items`` that are not in ``excluded``, uniformly."""
    available = num_items - len({i for i in excluded if 1 <= i <= num_items})
    if available < count:
        raise ValueError(f"only {available} items are left to sample {count} negatives from")
    chosen: list[int] = []
    taken = set(excluded)
    while len(chosen) < count:
        for item in rng.integers(1, num_items + 1, 2 * (count - len(chosen))).tolist():
            if item not in taken:
                taken.add(item)
                chosen.append(item)
                if len(chosen) == count:
                    break
    return np.array(chosen, dtype=np.int64)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; 0 for a single value) of per-seed results."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


def spread(values: Sequence[float], digits: int = 3) -> str:
    """``"0.242 ± 0.004"`` over seeds; just the value when there is one (a deterministic scorer)."""
    mean, std = mean_std(values)
    return f"{mean:.{digits}f}" if len(values) == 1 else f"{mean:.{digits}f} ± {std:.{digits}f}"


def clearly_above(values: Sequence[float], reference: Sequence[float]) -> bool:
    """Is the mean of ``values`` above that of ``reference`` by more than two standard deviations
    (the larger of the two)? Anything less is a tie."""
    (mean, std), (reference_mean, reference_std) = mean_std(values), mean_std(reference)
    return mean - reference_mean > 2 * max(std, reference_std)
