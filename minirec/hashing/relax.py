"""Learning through ``sign``: the tanh(beta * x) relaxation and the straight-through estimator.

``sign(x)`` has zero gradient almost everywhere, so a network that outputs ``sign(h)`` cannot
learn. Fashion Hash Net trains with ``tanh(beta * h)`` instead and grows ``beta`` every epoch,
``beta_e = sqrt(1 + gamma * e)``, so the relaxed codes approach ±1 and the gap between what
is trained and what is deployed shrinks. The straight-through estimator (STE) is the usual
alternative: the forward pass uses ``sign(h)``, the backward pass pretends it was the identity
(clipped to ``|h| <= 1``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from minirec.core.loop import EpochHook, History

RELAXATIONS = ("tanh", "ste")  # how a code layer trains through sign


def beta_schedule(epoch: int, gamma: float = 1.0) -> float:
    """``beta_e = sqrt(1 + gamma * epoch)``: 1 at epoch 0, 10 at epoch 99 with gamma = 1."""
    if epoch < 0 or gamma < 0:
        raise ValueError(f"epoch and gamma must be >= 0, got epoch={epoch}, gamma={gamma}")
    return math.sqrt(1.0 + gamma * epoch)


def relaxed_sign(h: torch.Tensor, beta: float) -> torch.Tensor:
    """``tanh(beta * h)``: differentiable, and ``-> sign(h)`` as ``beta -> inf``."""
    return torch.tanh(beta * h)


class _StraightThroughSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(h)
        return torch.where(h >= 0, 1.0, -1.0).to(h.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (h,) = ctx.saved_tensors
        return grad * (h.abs() <= 1).to(grad.dtype)  # identity inside [-1, 1] (hard-tanh gradient)


def straight_through_sign(h: torch.Tensor) -> torch.Tensor:
    """``sign(h)`` forward (0 maps to +1), clipped-identity gradient backward."""
    return _StraightThroughSign.apply(h)


def binarize(h: torch.Tensor) -> torch.Tensor:
    """Deployment codes in {-1, +1} (0 maps to +1), without gradient."""
    return torch.where(h.detach() >= 0, 1.0, -1.0).to(h.dtype)


class CodeLayer(nn.Module):
    """The last step of every hashing module: relaxed during training, ``sign`` when asked.

    ``relaxation`` is ``"tanh"`` (tanh(beta h), beta set by :meth:`set_beta`) or ``"ste"``.
    ``beta`` is a buffer, so it is saved with the model's ``state_dict``.
    """

    beta: torch.Tensor

    def __init__(self, relaxation: str = "tanh") -> None:
        super().__init__()
        if relaxation not in RELAXATIONS:
            raise ValueError(f"relaxation should be one of {RELAXATIONS}, got {relaxation!r}")
        self.relaxation = relaxation
        self.register_buffer("beta", torch.ones(()))

    def set_beta(self, beta: float) -> None:
        self.beta.fill_(beta)

    def forward(self, h: torch.Tensor, binary: bool = False) -> torch.Tensor:
        if binary:
            return binarize(h)
        if self.relaxation == "ste":
            return straight_through_sign(h)
        return relaxed_sign(h, float(self.beta))


def set_beta(model: nn.Module, beta: float) -> None:
    """Set beta of every :class:`CodeLayer` inside ``model`` (user codes, item codes, any head)."""
    for module in model.modules():
        if isinstance(module, CodeLayer):
            module.set_beta(beta)


class BetaSchedule(EpochHook):
    """The training-loop hook of every hashed model: ``beta_e = sqrt(1 + gamma e)`` before epoch ``e``.

    After training, beta stays at its last value, ``beta_{E-1}`` (the relaxed codes evaluated as
    "real-valued" are the ones the last epoch trained). ``history["beta"]`` records each epoch's beta.
    """

    def __init__(self, gamma: float) -> None:
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        self.gamma = gamma

    def before_epoch(self, epoch: int, model: nn.Module) -> None:
        set_beta(model, beta_schedule(epoch, self.gamma))

    def after_epoch(self, epoch: int, model: nn.Module, history: History) -> None:
        history.setdefault("beta", []).append(beta_schedule(epoch, self.gamma))


def quantisation_gap(relaxed: torch.Tensor) -> float:
    """Mean ``|r - sign(r)|`` of relaxed codes ``r`` in [-1, 1]: 0 once every entry is ±1."""
    return float((relaxed - binarize(relaxed)).abs().mean())


def bit_balance(codes: torch.Tensor) -> float:
    """Mean over bits of ``|mean over items of the bit|``: 0 = every bit splits items half and half."""
    return float(binarize(codes).mean(dim=0).abs().mean())
