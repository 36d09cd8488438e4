"""The one training loop: every model in minirec trains through :func:`fit`.

In the spirit of d2l's ``Trainer.fit`` and RecBole's trainer, a training run is four parts:

- ``batches(epoch)``: an iterable of mini-batches for that epoch (a tuple of tensors whose first
  entry has one row per example; fresh negatives or a fresh shuffle are drawn here);
- ``step(batch)``: the losses of one batch, ``{"loss": what is minimised, **parts to log}``;
- an optimiser over the model's parameters;
- hooks that run before and after every epoch (the beta schedule of the code layers, a
  validation print, early inspection) -- each an object with ``before_epoch`` / ``after_epoch``.

``fit`` does the rest the same way for every model: train mode, backward, optimiser step, the
per-epoch means of every logged loss (weighted by batch size) and eval mode at the end. It sets no
seed: the entry point (a notebook's settings cell, an experiment's ``run``) does that, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import torch
from torch import nn

from minirec.core.runtime import progress

Batch = Sequence[torch.Tensor]
History = dict[str, list[float]]


class Hook(Protocol):
    """Something that runs around every epoch; both methods are optional in :class:`EpochHook`."""

    def before_epoch(self, epoch: int, model: nn.Module) -> None: ...

    def after_epoch(self, epoch: int, model: nn.Module, history: History) -> None: ...


class EpochHook:
    """A hook that does nothing; subclass it and override what you need. ``epoch`` is 0-based."""

    def before_epoch(self, epoch: int, model: nn.Module) -> None:
        """Runs before the epoch's first batch (model in training mode)."""

    def after_epoch(self, epoch: int, model: nn.Module, history: History) -> None:
        """Runs after the epoch's last batch (model in eval mode); may append to ``history``."""


class AfterEpoch(EpochHook):
    """A hook from a plain function ``callback(epoch, model, history)`` run after every epoch."""

    def __init__(self, callback: Callable[[int, nn.Module, History], None]) -> None:
        self.callback = callback

    def after_epoch(self, epoch: int, model: nn.Module, history: History) -> None:
        self.callback(epoch, model, history)


def fit(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    batches: Callable[[int], Iterable[Batch]],
    step: Callable[[Batch], dict[str, torch.Tensor]],
    epochs: int,
    hooks: Sequence[Hook] = (),
    desc: str = "training",
    show_progress: bool = True,
) -> History:
    """Train ``model`` for ``epochs``; returns the per-epoch mean of every loss ``step`` reports.

    ``step(batch)["loss"]`` is minimised; every other entry is logged only. Means are weighted by
    the batch size (``len(batch[0])``), so they equal the mean over the epoch's examples.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    history: History = {}
    for epoch in progress(range(epochs), desc=desc, disable=not show_progress):
        model.train()
        for hook in hooks:
            hook.before_epoch(epoch, model)
        totals: dict[str, float] = {}
        examples = 0
        for batch in batches(epoch):
            losses = step(batch)
            optimiser.zero_grad()
            losses["loss"].backward()
            optimiser.step()
            size = len(batch[0])
            examples += size
            for name, value in losses.items():
                totals[name] = totals.get(name, 0.0) + float(value.detach()) * size
        for name, total in totals.items():
            history.setdefault(name, []).append(total / max(examples, 1))
        model.eval()
        for hook in hooks:
            hook.after_epoch(epoch, model, history)
    model.eval()
    return history


def shuffled_batches(
    size: int, batch_size: int, generator: torch.Generator | None = None
) -> Iterable[torch.Tensor]:
    """Row indices ``0..size-1`` in a fresh random order, in batches.

    The order comes from ``generator`` when given, else from torch's global generator.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = torch.randperm(size, generator=generator)
    for start in range(0, size, batch_size):
        yield order[start : start + batch_size]
