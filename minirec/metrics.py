"""Ranking metrics used across the notebooks.

Conventions: higher score = more relevant; ``rank`` is 1-based (1 = top of the list).
"""

from __future__ import annotations

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
