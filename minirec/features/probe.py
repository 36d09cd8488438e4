"""Linear probes: what frozen features know about a property, measured on held-out items.

A probe is a multinomial logistic regression fitted on the frozen features of some items and
scored on items it never saw. The items are split into ``folds`` seeded folds; each fold is held
out once while the probe trains on the others, so every item is scored exactly once, as a
held-out item. Chance is the majority-class rate: the accuracy of always answering the most
frequent class of the training folds. The probe targets (the samples' hidden attributes) are
used here only, never to train an encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class ProbeResult:
    """Held-out accuracy of a linear probe and the majority-class rate (chance) on the same items."""

    accuracy: float
    chance: float


def class_ids(values: Sequence[Any]) -> tuple[torch.Tensor, list]:
    """Class ids of ``values`` and the sorted classes: ``['b', 'a', 'b'] -> [1, 0, 1], ['a', 'b']``."""
    classes = sorted(set(values))
    index = {value: i for i, value in enumerate(classes)}
    return torch.tensor([index[v] for v in values]), classes


def held_out_folds(size: int, folds: int, seed: int = 0) -> list[torch.Tensor]:
    """``folds`` disjoint sets of item indices covering ``0..size-1``, in a random order fixed by ``seed``."""
    if not 2 <= folds <= size:
        raise ValueError(f"folds must be between 2 and the number of items ({size}), got {folds}")
    order = torch.randperm(size, generator=torch.Generator().manual_seed(seed))
    return list(order.tensor_split(folds))


class Standardise(nn.Module):
    """``(x - mean) / std`` with fixed statistics."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def fit_probe(
    features: torch.Tensor, labels: torch.Tensor, classes: int, l2: float = 1e-3, max_iter: int = 100
) -> nn.Module:
    """A multinomial logistic regression on standardised ``features`` ``(N, F)``, fitted full-batch.

    Minimises ``mean CE(W x + b, y) + l2 * |W|^2`` with L-BFGS from zero weights. The problem is
    convex, so this finds its one optimum (no learning rate or epochs to tune, no random start);
    that is why the probe, unlike every trained model, does not go through ``core.loop.fit``.
    Standardisation uses the statistics of these (training) items.
    """
    mean, std = features.mean(0), features.std(0).clamp(min=1e-6)
    linear = nn.utils.skip_init(nn.Linear, features.shape[1], classes)  # no random draw: zeros below
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    probe = nn.Sequential(Standardise(mean, std), linear)
    optimiser = torch.optim.LBFGS(linear.parameters(), max_iter=max_iter, line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(probe(features), labels) + l2 * linear.weight.square().sum()
        loss.backward()
        return loss

    optimiser.step(objective)
    return probe.eval()


def probe_accuracy(
    features: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    folds: int = 5,
    seed: int = 0,
    l2: float = 1e-3,
) -> ProbeResult:
    """Held-out accuracy of a linear probe from ``features`` ``(N, F)`` to class ids ``labels`` ``(N,)``.

    Each of ``folds`` seeded folds is predicted by a probe fitted on the other folds; the result
    counts every item once. Deterministic: no global random state is used.
    """
    x = torch.as_tensor(features, dtype=torch.float32).cpu()
    y = torch.as_tensor(labels, dtype=torch.long).cpu()
    if x.ndim != 2 or y.shape != (len(x),):
        raise ValueError(f"need features (N, F) and labels (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    classes = int(y.max()) + 1
    correct = majority = 0
    for held_out in held_out_folds(len(x), folds, seed):
        train = torch.ones(len(x), dtype=torch.bool)
        train[held_out] = False
        probe = fit_probe(x[train], y[train], classes, l2)
        with torch.no_grad():
            correct += int((probe(x[held_out]).argmax(1) == y[held_out]).sum())
        most_frequent = torch.bincount(y[train], minlength=classes).argmax()
        majority += int((y[held_out] == most_frequent).sum())
    return ProbeResult(accuracy=correct / len(x), chance=majority / len(x))
