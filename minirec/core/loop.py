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

With ``distributed=True`` (inside a process group, :mod:`minirec.core.distributed`) the step runs
inside DistributedDataParallel, which averages the gradients over the processes, and the logged
means are over every process's examples; ``batches`` then gives each process its own shard
(:func:`shuffled_batches` with a ``shard``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import torch
from torch import nn

from minirec.core.distributed import Shard, all_reduce_sum, is_distributed, is_main, shard_batches
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


class StepModule(nn.Module):
    """``step`` as a module's ``forward`` over ``model``'s parameters: what DistributedDataParallel wraps.

    DistributedDataParallel synchronises the gradients of what runs through its ``forward``; a step
    calls more of the model than ``forward`` (``score_items``, auxiliary heads), so the whole step
    runs inside it.
    """

    def __init__(self, model: nn.Module, step: Callable[[Batch], dict[str, torch.Tensor]]) -> None:
        super().__init__()
        self.model = model
        self.step = step

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        return self.step(batch)


def parameters_without_gradient(model: nn.Module, loss: torch.Tensor) -> list[str]:
    """Names of ``model``'s trainable parameters that ``loss`` does not depend on (its autograd graph)."""
    reached: set[int] = set()
    stack = [loss.grad_fn] if loss.grad_fn is not None else []
    seen: set[object] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)  # an AccumulateGrad node: a leaf tensor
        if variable is not None:
            reached.add(id(variable))
        stack += [child for child, _ in node.next_functions if child is not None]
    return [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in reached]


def replicated_step(
    model: nn.Module, step: Callable[[Batch], dict[str, torch.Tensor]], first_batch: Batch
) -> Callable[[Batch], dict[str, torch.Tensor]]:
    """``step`` inside DistributedDataParallel, which averages every gradient over the processes.

    The first batch's losses are computed once beforehand (random state restored, no backward pass)
    to find parameters the loss leaves out, such as a head it does not use: DistributedDataParallel
    must be told when there are any, and looking for them on every step costs a walk of the graph.
    """
    device = next(model.parameters()).device
    gpus = (
        [torch.cuda.current_device() if device.index is None else device.index]
        if device.type == "cuda"
        else []
    )
    with torch.random.fork_rng(devices=gpus):
        unused = parameters_without_gradient(model, step(first_batch)["loss"])
    any_unused = all_reduce_sum({"unused": len(unused)})["unused"] > 0  # one decision for every process
    return nn.parallel.DistributedDataParallel(
        StepModule(model, step),
        device_ids=gpus or None,
        find_unused_parameters=any_unused,
        forward_sync_buffers=False,  # buffers (features, beta) are the same on every process
    )


def fit(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    batches: Callable[[int], Iterable[Batch]],
    step: Callable[[Batch], dict[str, torch.Tensor]],
    epochs: int,
    hooks: Sequence[Hook] = (),
    desc: str = "training",
    show_progress: bool = True,
    distributed: bool = False,
) -> History:
    """Train ``model`` for ``epochs``; returns the per-epoch mean of every loss ``step`` reports.

    ``step(batch)["loss"]`` is minimised; every other entry is logged only. Means are weighted by
    the batch size (``len(batch[0])``), so they equal the mean over the epoch's examples.

    ``distributed``: every process of the group runs ``fit`` at once, each on its own shard (the
    same number of batches on every process); gradients are averaged by DistributedDataParallel,
    the means are over every process's examples (the same history on every process), and only
    rank 0 shows a progress bar.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if distributed and not is_distributed():
        raise ValueError("distributed=True: expected a process group (minirec.core.distributed.start)")
    history: History = {}
    run_step = step
    for epoch in progress(range(epochs), desc=desc, disable=not (show_progress and is_main())):
        model.train()
        for hook in hooks:
            hook.before_epoch(epoch, model)
        totals: dict[str, float] = {}
        examples = 0
        for batch in batches(epoch):
            if distributed and run_step is step:
                run_step = replicated_step(model, step, batch)
            losses = run_step(batch)
            optimiser.zero_grad()
            losses["loss"].backward()
            optimiser.step()
            size = len(batch[0])
            examples += size
            for name, value in losses.items():
                totals[name] = totals.get(name, 0.0) + float(value.detach()) * size
        if distributed:
            totals = all_reduce_sum(totals)
            examples = int(all_reduce_sum({"examples": examples})["examples"])
        for name, total in totals.items():
            history.setdefault(name, []).append(total / max(examples, 1))
        model.eval()
        for hook in hooks:
            hook.after_epoch(epoch, model, history)
    model.eval()
    return history


def shuffled_batches(
    size: int, batch_size: int, generator: torch.Generator | None = None, shard: Shard | None = None
) -> Iterable[torch.Tensor]:
    """Row indices ``0..size-1`` in a fresh random order, in batches.

    The order comes from ``generator`` when given, else from torch's global generator. With a
    ``shard`` (several processes), every process draws the same order from a generator seeded
    alike and takes its slice of each batch (:func:`~minirec.core.distributed.shard_batches`).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = torch.randperm(size, generator=generator)
    if shard is not None:
        yield from shard_batches(order, batch_size, shard)
        return
    for start in range(0, size, batch_size):
        yield order[start : start + batch_size]
