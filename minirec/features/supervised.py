"""The small encoders' training, through the one loop: predict item attributes, keep the features."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from minirec.core.loop import Batch, fit, shuffled_batches


@dataclass(frozen=True)
class TrainConfig:
    """Settings of the small supervised encoders (image CNN and text encoder)."""

    epochs: int = 25
    batch_size: int = 64
    lr: float = 3e-3


def fit_attribute_heads(
    predict: Callable[[torch.Tensor], Mapping[str, torch.Tensor]],
    model: nn.Module,
    labels: Mapping[str, torch.Tensor],
    config: TrainConfig,
    device: torch.device | str,
    desc: str,
) -> list[float]:
    """Adam on the summed cross-entropy of every attribute; returns the mean loss per epoch.

    ``predict(rows)`` maps a batch of example indices to logits per attribute; ``model`` holds
    every trained parameter (encoder and heads) and is left in eval mode.

    The order of the examples comes from a generator of its own, seeded with the run's seed
    (``torch.initial_seed()``, set once by ``set_seed``), so it does not depend on how many random
    numbers building the encoder drew. (Batch norm makes these encoders sensitive to that order:
    their eval-mode accuracy varies a lot from one order to the next.)
    """
    size = len(next(iter(labels.values())))
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    order = torch.Generator().manual_seed(torch.initial_seed())

    def step(batch: Batch) -> dict[str, torch.Tensor]:
        rows = batch[0]
        logits = predict(rows)
        loss = sum(
            (nn.functional.cross_entropy(logits[name], labels[name][rows].to(device)) for name in labels),
            torch.zeros((), device=device),
        )
        return {"loss": loss}

    def batches(epoch: int) -> Iterable[Batch]:
        return ((rows,) for rows in shuffled_batches(size, config.batch_size, order))

    return fit(model, optimiser, batches, step, config.epochs, desc=desc)["loss"]
