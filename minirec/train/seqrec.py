"""Training the sequential recommenders (SASRec, the fusion model, hashed models) through :func:`fit`.

Losses for the next item (all three offered):

- ``bce``: SASRec's own: at every position, the true next item against one random item the user
  never bought, ``-log s(h.e_pos) - log(1 - s(h.e_neg))``;
- ``ce``: full-softmax cross-entropy over every item, summed over the model's experts (a model
  with a content expert trains both its softmaxes);
- ``sampled``: sampled softmax, for catalogues too big for a full softmax: the true next item
  against ``sampled_negatives`` items drawn uniformly once per batch and shared by every position,
  ``-log(exp(h.e_pos) / (exp(h.e_pos) + sum_k exp(h.e_k)))``; a drawn item that is the position's
  own target is masked out. Uniform draws need no log-Q correction (it is the same constant for
  every item).

Models with auxiliary heads add ``aux_weight * sum_m L_m`` (the multitask loss): BCE on the
target's categories, MSE on its standardised image / text features. Evaluation lives in
:mod:`minirec.evaluation.seqrec`.

Inside a process group (torchrun, :mod:`minirec.core.distributed`) :func:`train_seqrec` trains data
parallel: ``batch_size`` stays the global batch, each of the ``W`` processes takes ``batch_size / W``
windows of it, and the learning rate stays. The loss of a batch is a mean over its positions, so
the averaged gradient equals the one-process gradient of the global batch when the processes hold
equally many positions, and is close to it otherwise. The BCE negatives, the sampled softmax's
shared draw and dropout come from each process's own random stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from minirec.core.distributed import Shard, current_shard, split_random_streams
from minirec.core.loop import Batch, History, Hook, fit, shuffled_batches
from minirec.data.sequences import left_pad
from minirec.models.sequential import SequentialRecommender

LOSSES = ("bce", "ce", "sampled")


@dataclass(frozen=True)
class SeqTrainConfig:
    """Optimisation settings (SASRec paper: Adam, lr 1e-3, batch 128)."""

    epochs: int = 60
    batch_size: int = 128
    lr: float = 1e-3
    loss: str = "bce"
    aux_weight: float = 0.0
    weight_decay: float = 0.0
    adam_beta2: float = 0.999
    sampled_negatives: int = 256  # items per batch for loss="sampled"

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss should be one of {LOSSES}, got {self.loss!r}")
        if self.epochs < 0 or self.batch_size < 1 or self.lr <= 0 or self.aux_weight < 0:
            raise ValueError(
                f"need epochs >= 0, batch_size >= 1, lr > 0 and aux_weight >= 0, got "
                f"{self.epochs}, {self.batch_size}, {self.lr}, {self.aux_weight}"
            )
        if not 0 < self.adam_beta2 < 1 or self.sampled_negatives < 1:
            raise ValueError(
                f"need 0 < adam_beta2 < 1 and sampled_negatives >= 1, got {self.adam_beta2}, "
                f"{self.sampled_negatives}"
            )


def training_windows(train: dict[int, list[int]], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All users' ``(inputs, targets)``: ``s[:-1]`` and ``s[1:]``, last ``max_length``, left-padded."""
    users = [u for u, s in train.items() if len(s) >= 2]
    inputs = np.stack([left_pad(train[u][:-1], max_length) for u in users])
    targets = np.stack([left_pad(train[u][1:], max_length) for u in users])
    return torch.as_tensor(inputs), torch.as_tensor(targets)


def random_negatives(inputs: torch.Tensor, targets: torch.Tensor, num_items: int) -> torch.Tensor:
    """One item per position that is not among the user's items in this window (redrawn until so)."""
    negatives = torch.randint(1, num_items + 1, targets.shape)
    seen = torch.cat([inputs, targets], dim=1)  # (B, 2L)
    clash = (negatives.unsqueeze(-1) == seen.unsqueeze(1)).any(-1)
    while clash.any():
        negatives[clash] = torch.randint(1, num_items + 1, (int(clash.sum()),))
        clash = (negatives.unsqueeze(-1) == seen.unsqueeze(1)).any(-1)
    return negatives


def sampled_softmax_loss(
    model: SequentialRecommender, hidden: torch.Tensor, targets: torch.Tensor, negatives: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of each target ``(P,)`` against the shared ``negatives`` ``(K,)``; states ``(P, d)``."""
    positive = model.score_items(hidden.unsqueeze(0), targets.unsqueeze(0)).squeeze(0)  # (P,)
    negative = model.score_shared(hidden, negatives)  # (P, K)
    negative = negative.masked_fill(negatives.unsqueeze(0) == targets.unsqueeze(1), float("-inf"))
    logits = torch.cat([positive.unsqueeze(1), negative], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))


def next_item_loss(
    model: SequentialRecommender,
    hidden: torch.Tensor,
    targets: torch.Tensor,
    negatives: torch.Tensor | None,
    kind: str,
) -> torch.Tensor:
    """BCE with one sampled negative, sampled softmax, or full-softmax cross-entropy, over the
    non-padding positions."""
    valid = targets != 0
    if kind in ("bce", "sampled") and negatives is None:
        raise ValueError(f"the {kind} loss needs negatives")
    if kind == "sampled":
        assert negatives is not None
        return sampled_softmax_loss(model, hidden[valid], targets[valid], negatives)
    if kind == "bce":
        assert negatives is not None
        positive = model.score_items(hidden, targets)[valid]
        negative = model.score_items(hidden, negatives)[valid]
        return F.binary_cross_entropy_with_logits(
            positive, torch.ones_like(positive)
        ) + F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative))
    # one cross-entropy per expert (a content expert learns to rank items on its own)
    losses = []
    for logits in model.expert_logits(hidden[valid]).values():  # (positions, num_items + 1)
        logits[:, 0] = float("-inf")  # never predict padding
        losses.append(F.cross_entropy(logits, targets[valid]))
    return torch.stack(losses).sum()


def sequence_batches(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    config: SeqTrainConfig,
    num_items: int,
    device: torch.device | str,
    order: torch.Generator | None = None,
    shard: Shard | None = None,
) -> Iterator[Batch]:
    """One epoch of ``(inputs, targets[, negatives])`` windows in a fresh order, on ``device``.

    The order comes from ``order`` (torch's global generator if ``None``); with a ``shard``, this
    process's slice of every batch (:func:`~minirec.core.loop.shuffled_batches`).
    """
    for rows in shuffled_batches(len(inputs), config.batch_size, order, shard):
        batch = [inputs[rows], targets[rows]]
        if config.loss == "bce":
            batch.append(random_negatives(batch[0], batch[1], num_items))
        elif config.loss == "sampled":
            batch.append(torch.randint(1, num_items + 1, (config.sampled_negatives,)))
        yield tuple(part.to(device) for part in batch)


def seqrec_losses(
    model: SequentialRecommender, batch: Batch, config: SeqTrainConfig
) -> dict[str, torch.Tensor]:
    """``{"loss", "next item", one entry per auxiliary loss}`` of one batch of windows."""
    inputs, targets = batch[0], batch[1]
    hidden = model(inputs)
    losses = {
        "next item": next_item_loss(model, hidden, targets, batch[2] if len(batch) > 2 else None, config.loss)
    }
    if config.aux_weight > 0:  # models without auxiliary heads return no extra losses
        valid = targets != 0
        losses |= model.auxiliary_losses(hidden[valid], targets[valid])
    auxiliary = sum((v for k, v in losses.items() if k != "next item"), torch.zeros((), device=hidden.device))
    return {"loss": losses["next item"] + config.aux_weight * auxiliary, **losses}


def train_seqrec(
    model: SequentialRecommender,
    train: dict[int, list[int]],
    config: SeqTrainConfig,
    device: torch.device | str = "cpu",
    show_progress: bool = True,
    desc: str = "training",
    hooks: Sequence[Hook] = (),
) -> History:
    """Train on every user's training sequence; returns the mean losses per epoch.

    ``hooks`` run around every epoch (e.g. :class:`~minirec.hashing.relax.BetaSchedule` for a
    hashed model, or a validation print). In a process group every process calls this at once and
    trains on its shard of every batch (the module's docstring); they end with the same weights.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"train_seqrec trains torch modules, got {type(model).__name__}")
    if config.loss != "ce" and model.config.content_expert > 0:
        raise ValueError("a model with a content expert is trained with loss='ce' (a mixture of softmaxes)")
    shard = current_shard()
    if shard is not None:
        shard.rows_per_batch(config.batch_size)  # a clear error before any work
    inputs, targets = training_windows(train, model.config.max_length)
    model.to(device)
    optimiser = torch.optim.Adam(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, config.adam_beta2)
    )
    order = split_random_streams() if shard is not None else None
    num_items = model.config.num_items
    return fit(
        model,
        optimiser,
        batches=lambda epoch: sequence_batches(inputs, targets, config, num_items, device, order, shard),
        step=lambda batch: seqrec_losses(model, batch, config),
        epochs=config.epochs,
        hooks=hooks,
        desc=desc,
        show_progress=show_progress,
        distributed=shard is not None,
    )
