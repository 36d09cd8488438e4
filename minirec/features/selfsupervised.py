"""The small encoders' pretraining, through the one loop: objectives that never see a label.

Both offline encoders learn from the items alone, the way the real ones were pretrained: the
image CNN by contrasting two augmented views of each picture (``features/image.py``), the text
encoder by masked-language modelling on the descriptions (``features/text.py``). Each supplies
``loss(rows, generator)``, the objective on a mini-batch of item indices; :func:`pretrain` runs
it through :func:`minirec.core.loop.fit`. The hidden attributes that define the ground truth are
never an input here: they serve only as probe targets afterwards (``features/probe.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from minirec.core.loop import Batch, fit, shuffled_batches

#: ``loss(rows, generator)``: the objective on the items ``rows``, drawing its randomness
#: (augmentations, masks) from ``generator``.
Objective = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class PretrainConfig:
    """Optimisation settings shared by the small encoders (Adam on mini-batches of items).

    ``steps`` is a budget of optimisation steps (mini-batches), rounded up to whole epochs: a
    larger catalogue gets fewer passes over its items, so the training time stays about the same
    (notebook 06 computes the shopping features inside its time budget).
    """

    steps: int = 75
    batch_size: int = 128
    lr: float = 3e-3

    def __post_init__(self) -> None:
        if self.steps < 0 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(
                f"need steps >= 0, batch_size >= 1 and lr > 0, got steps={self.steps}, "
                f"batch_size={self.batch_size}, lr={self.lr}"
            )

    def epochs(self, size: int) -> int:
        """Whole epochs over ``size`` items that make at least ``steps`` mini-batches."""
        if size < 1:
            raise ValueError(f"need at least one item to pretrain on, got {size}")
        return math.ceil(self.steps / math.ceil(size / self.batch_size))


def pretrain(model: nn.Module, loss: Objective, size: int, config: PretrainConfig, desc: str) -> list[float]:
    """Adam on ``loss`` over shuffled mini-batches of ``size`` items, for ``config.epochs(size)``
    epochs; returns the mean loss of each epoch.

    ``model`` holds every trained parameter and is left in eval mode. The example order, the
    augmentations and the masks all come from one generator of their own, seeded with the run's
    seed (``torch.initial_seed()``, set once by ``set_seed`` or ``isolated_seed``): what the
    encoder learns then does not depend on how many random numbers building it drew.
    """
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(torch.initial_seed())

    def step(batch: Batch) -> dict[str, torch.Tensor]:
        return {"loss": loss(batch[0], generator)}

    def batches(epoch: int) -> Iterable[Batch]:
        return ((rows,) for rows in shuffled_batches(size, config.batch_size, generator))

    return fit(model, optimiser, batches, step, config.epochs(size), desc=desc)["loss"]
