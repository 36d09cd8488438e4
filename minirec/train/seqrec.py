"""Training and evaluating the sequential recommenders (SASRec and the multimodal fusion model).

Losses for the next item (DESIGN §5, both offered):

- ``bce``: SASRec's own: at every position, the true next item against one random item the user
  never bought, ``-log s(h.e_pos) - log(1 - s(h.e_neg))``;
- ``ce``: full-softmax cross-entropy over every item.

The multimodal model adds ``aux_weight * sum_m L_m``: BCE on the target's categories, MSE on its
standardised image / text features. Evaluation is leave-one-out over **all** users, reported
under full ranking (history masked) and with 100 sampled negatives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from minirec.data.sequences import LeaveOneOut, left_pad
from minirec.metrics import hit_rate_at_k, mrr, ndcg_at_k, rank_of_target, sample_negatives
from minirec.models.fusion import FusionConfig, MultimodalSeqRec
from minirec.models.sasrec import SASRec, SASRecConfig
from minirec.utils import progress

LOSSES = ("bce", "ce")


@dataclass(frozen=True)
class SeqTrainConfig:
    """Optimisation settings (SASRec paper: Adam, lr 1e-3, batch 128)."""

    epochs: int = 60
    batch_size: int = 128
    lr: float = 1e-3
    loss: str = "bce"
    aux_weight: float = 0.0
    weight_decay: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss should be one of {LOSSES}, got {self.loss!r}")


def training_windows(train: dict[int, list[int]], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All users' ``(inputs, targets)``: ``s[:-1]`` and ``s[1:]``, last ``max_length``, left-padded."""
    users = [u for u, s in train.items() if len(s) >= 2]
    inputs = np.stack([left_pad(train[u][:-1], max_length) for u in users])
    targets = np.stack([left_pad(train[u][1:], max_length) for u in users])
    return torch.as_tensor(inputs), torch.as_tensor(targets)


def random_negatives(inputs: torch.Tensor, targets: torch.Tensor, num_items: int,
                     generator: torch.Generator) -> torch.Tensor:
    """One item per position that is not among the user's items in this window (redrawn until so)."""
    negatives = torch.randint(1, num_items + 1, targets.shape, generator=generator)
    seen = torch.cat([inputs, targets], dim=1)  # (B, 2L)
    clash = (negatives.unsqueeze(-1) == seen.unsqueeze(1)).any(-1)
    while clash.any():
        negatives[clash] = torch.randint(1, num_items + 1, (int(clash.sum()),), generator=generator)
        clash = (negatives.unsqueeze(-1) == seen.unsqueeze(1)).any(-1)
    return negatives


def next_item_loss(model: SASRec, hidden: torch.Tensor, targets: torch.Tensor,
                   negatives: torch.Tensor | None, kind: str) -> torch.Tensor:
    """BCE with one sampled negative, or full-softmax cross-entropy, over the non-padding positions."""
    valid = targets != 0
    if kind == "bce":
        positive = model.score_items(hidden, targets)[valid]
        negative = model.score_items(hidden, negatives)[valid]
        return (F.binary_cross_entropy_with_logits(positive, torch.ones_like(positive))
                + F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative)))
    logits = model.score_all(hidden[valid])  # (positions, num_items + 1)
    logits[:, 0] = float("-inf")  # never predict padding
    return F.cross_entropy(logits, targets[valid])


def train_seqrec(model: SASRec, train: dict[int, list[int]], config: SeqTrainConfig,
                 device: torch.device | str = "cpu", show_progress: bool = True, desc: str = "training",
                 after_epoch: Callable[[int], None] | None = None) -> dict[str, list[float]]:
    """Train on every user's training sequence; returns the mean losses per epoch.

    ``after_epoch(epoch)`` (1-based), if given, runs after every epoch (e.g. a validation print).
    """
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    inputs, targets = training_windows(train, model.config.max_length)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: dict[str, list[float]] = {"loss": [], "next item": []}
    multitask = config.aux_weight > 0  # models without auxiliary heads return no extra losses
    for epoch in progress(range(config.epochs), desc=desc, disable=not show_progress):
        model.train()
        order = torch.randperm(len(inputs), generator=generator)
        totals: dict[str, float] = {}
        for start in range(0, len(order), config.batch_size):
            rows = order[start:start + config.batch_size]
            batch_inputs, batch_targets = inputs[rows], targets[rows]
            negatives = (random_negatives(batch_inputs, batch_targets, model.config.num_items, generator)
                         if config.loss == "bce" else None)
            batch_inputs, batch_targets = batch_inputs.to(device), batch_targets.to(device)
            hidden = model(batch_inputs)
            parts = {"next item": next_item_loss(model, hidden, batch_targets,
                                                 negatives.to(device) if negatives is not None else None,
                                                 config.loss)}
            if multitask:
                valid = batch_targets != 0
                parts |= model.auxiliary_losses(hidden[valid], batch_targets[valid])
            auxiliary = sum(v for k, v in parts.items() if k != "next item")
            loss = parts["next item"] + config.aux_weight * auxiliary
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            for name, value in {"loss": loss, **parts}.items():
                totals[name] = totals.get(name, 0.0) + value.item() * len(rows)
        for name, total in totals.items():
            history.setdefault(name, []).append(total / len(inputs))
        if after_epoch is not None:
            model.eval()
            after_epoch(epoch + 1)
    model.eval()
    return history


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
        return cls(hit_rate_at_k(full, k), ndcg_at_k(full, k), mrr(full),
                   hit_rate_at_k(sampled, k), ndcg_at_k(sampled, k), mrr(sampled))


@dataclass(frozen=True)
class SeqRanks:
    users: np.ndarray
    full: np.ndarray  # rank among all items, the user's history masked
    sampled: np.ndarray  # rank among the target and 100 sampled negatives

    def scores(self, k: int = 10, mask: np.ndarray | None = None) -> SeqScores:
        keep = np.ones(len(self.users), bool) if mask is None else mask
        return SeqScores.from_ranks(self.full[keep], self.sampled[keep], k)


def evaluate_scores(score_batch: Callable[[list[list[int]]], np.ndarray], split: LeaveOneOut,
                    stage: str = "test", num_negatives: int = 100, seed: int = 0,
                    batch_size: int = 512) -> SeqRanks:
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
        histories = [split.history(int(u), stage) for u in users[start:start + batch_size]]
        scores = score_batch(histories)
        for row, (user, history) in enumerate(zip(users[start:start + batch_size], histories, strict=True)):
            target = targets[int(user)]
            target_score = scores[row, target]
            full.append(rank_of_target(scores[row], target, excluded=np.array([0, *history])))
            negatives = sample_negatives(split.num_items, set(history) | {target}, num_negatives, rng)
            sampled.append(1 + int((scores[row, negatives] >= target_score).sum()))
    return SeqRanks(users, np.array(full), np.array(sampled))


@torch.no_grad()
def evaluate_seqrec(model: SASRec, split: LeaveOneOut, stage: str = "test", num_negatives: int = 100,
                    seed: int = 0, batch_size: int = 512, device: torch.device | str = "cpu") -> SeqRanks:
    """:func:`evaluate_scores` with the model's scores after the last position of each history."""
    model.to(device).eval()

    def score_batch(histories: list[list[int]]) -> np.ndarray:
        windows = np.stack([left_pad(h, model.config.max_length) for h in histories])
        hidden = model(torch.as_tensor(windows, device=device))[:, -1]
        return model.score_all(hidden).cpu().numpy()

    return evaluate_scores(score_batch, split, stage, num_negatives, seed, batch_size)


MODEL_KINDS = ("sasrec", "sasrec+features", "fusion")


def build_seqrec(kind: str, num_items: int, features: dict[str, np.ndarray] | None = None,
                 fusion: str = "gate", seed: int = 0, **config) -> SASRec:
    """``sasrec`` (IDs only), ``sasrec+features`` (features added to the item embeddings) or ``fusion``."""
    torch.manual_seed(seed)
    if kind == "sasrec":
        return SASRec(SASRecConfig(num_items=num_items, **config))
    if kind == "sasrec+features":
        return SASRec(SASRecConfig(num_items=num_items, **config), features)
    if kind == "fusion":
        return MultimodalSeqRec(FusionConfig(num_items=num_items, fusion=fusion, **config), features)
    raise ValueError(f"kind should be one of {MODEL_KINDS}, got {kind!r}")
