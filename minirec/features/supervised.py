"""One mini-batch loop for the small encoders: learn to predict item attributes, keep the features."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from minirec.utils import progress


@dataclass(frozen=True)
class TrainConfig:
    """Settings of the small supervised encoders (image CNN and text encoder)."""

    epochs: int = 25
    batch_size: int = 64
    lr: float = 3e-3
    seed: int = 0


def fit_attribute_heads(predict: Callable[[torch.Tensor], Mapping[str, torch.Tensor]],
                        parameters: Iterable[nn.Parameter], labels: Mapping[str, torch.Tensor],
                        modules: Iterable[nn.Module], config: TrainConfig, device: torch.device | str,
                        desc: str) -> list[float]:
    """Adam on the summed cross-entropy of every attribute; returns the mean loss per epoch.

    ``predict(rows)`` maps a batch of example indices to logits per attribute; ``modules`` are put
    in training mode for the loop and in eval mode after it.
    """
    modules = list(modules)
    size = len(next(iter(labels.values())))
    optimiser = torch.optim.Adam(parameters, lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    for _ in progress(range(config.epochs), desc=desc):
        for module in modules:
            module.train()
        order = torch.randperm(size, generator=generator)
        total = 0.0
        for start in range(0, size, config.batch_size):
            rows = order[start:start + config.batch_size]
            logits = predict(rows)
            loss = sum(nn.functional.cross_entropy(logits[name], labels[name][rows].to(device))
                       for name in labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(rows)
        losses.append(total / size)
    for module in modules:
        module.eval()
    return losses
