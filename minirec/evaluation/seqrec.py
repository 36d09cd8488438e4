"""Leave-one-out evaluation of sequential recommenders over **all** users, under both protocols.

- *full ranking*: the held-out item's rank among every item id, the user's history masked;
- *sampled*: its rank among itself and ``num_negatives`` items the user never interacted with
  (drawn from a generator seeded by the protocol's ``seed``, so every scorer sees the same ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from minirec.data.sequences import LeaveOneOut, left_pad
from minirec.evaluation.baselines import most_popular_scores
from minirec.evaluation.metrics import hit_rate_at_k, mrr, ndcg_at_k, rank_of_target, sample_negatives
from minirec.models.sequential import SequentialRecommender

RARE_TARGET_COUNT = 5  # a test item bought at most this often in training is a "rare target"


def training_counts(split: LeaveOneOut) -> np.ndarray:
    """How often each item id was bought in the training sequences (index 0 = padding, 0)."""
    return most_popular_scores(split.train, split.num_items).astype(np.int64)


def rare_targets(split: LeaveOneOut, users: np.ndarray, at_most: int = RARE_TARGET_COUNT) -> np.ndarray:
    """Mask over ``users``: is their test item bought at most ``at_most`` times in training?"""
    counts = training_counts(split)
    return np.array([counts[split.test[int(u)]] <= at_most for u in users], bool)


@dataclass(frozen=True)
class SeqScores:
    """Leave-one-out results at K = 10 under both protocols (full ranking masks the history)."""

    hr_full: float
    ndcg_full: float
    mrr_full: float
    hr_sampled: float
    ndcg_sampled: float
    mrr_sampled: float

    @classmethod
    def from_ranks(cls, full: np.ndarray, sampled: np.ndarray, k: int = 10) -> SeqScores:
        return cls(
            hit_rate_at_k(full, k),
            ndcg_at_k(full, k),
            mrr(full),
            hit_rate_at_k(sampled, k),
            ndcg_at_k(sampled, k),
            mrr(sampled),
        )


@dataclass(frozen=True)
class SeqRanks:
    """Per-user ranks of the held-out item under both protocols."""

    users: np.ndarray
    full: np.ndarray  # rank among all items, the user's history masked
    sampled: np.ndarray  # rank among the target and 100 sampled negatives

    def scores(self, k: int = 10, mask: np.ndarray | None = None) -> SeqScores:
        keep = np.ones(len(self.users), bool) if mask is None else mask
        return SeqScores.from_ranks(self.full[keep], self.sampled[keep], k)


def evaluate_scores(
    score_batch: Callable[[list[list[int]]], np.ndarray],
    split: LeaveOneOut,
    stage: str = "test",
    num_negatives: int = 100,
    seed: int = 0,
    batch_size: int = 512,
) -> SeqRanks:
    """Rank every user's held-out item (``stage`` 'valid' or 'test') under both protocols.

    ``score_batch(histories)`` returns ``(len(histories), num_items + 1)`` scores. Full ranking
    masks the user's history (and id 0); sampled ranking puts the target among ``num_negatives``
    items drawn uniformly from those the user never interacted with, from a generator seeded by
    ``seed``, so every scorer sees the same negatives.
    """
    rng = np.random.default_rng(seed)
    users = np.array(sorted(split.train))
    targets = split.test if stage == "test" else split.valid
    full, sampled = [], []
    for start in range(0, len(users), batch_size):
        histories = [split.history(int(u), stage) for u in users[start : start + batch_size]]
        scores = score_batch(histories)
        for row, (user, history) in enumerate(zip(users[start : start + batch_size], histories, strict=True)):
            target = targets[int(user)]
            target_score = scores[row, target]
            full.append(rank_of_target(scores[row], target, excluded=np.array([0, *history])))
            negatives = sample_negatives(split.num_items, set(history) | {target}, num_negatives, rng)
            sampled.append(1 + int((scores[row, negatives] >= target_score).sum()))
    return SeqRanks(users, np.array(full), np.array(sampled))


@torch.no_grad()
def user_states(
    model: SequentialRecommender, histories: list[list[int]], device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Hidden state after the last item of each history ``(users, d)`` (eval mode)."""
    model.to(device).eval()
    windows = np.stack([left_pad(h, model.config.max_length) for h in histories])
    return model(torch.as_tensor(windows, device=device))[:, -1]


@torch.no_grad()
def evaluate_seqrec(
    model: SequentialRecommender,
    split: LeaveOneOut,
    stage: str = "test",
    num_negatives: int = 100,
    seed: int = 0,
    batch_size: int = 512,
    device: torch.device | str = "cpu",
) -> SeqRanks:
    """:func:`evaluate_scores` with the model's scores after the last position of each history."""

    def score_batch(histories: list[list[int]]) -> np.ndarray:
        return model.score_all(user_states(model, histories, device)).cpu().numpy()

    return evaluate_scores(score_batch, split, stage, num_negatives, seed, batch_size)
