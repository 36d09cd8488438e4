"""Losses of Fashion Hash Net."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def bpr_loss(positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Bayesian personalised ranking: ``mean(softplus(-(s_pos - s_neg)))`` = ``-mean(log sigmoid(diff))``."""
    return F.softplus(-(positive - negative)).mean()


def visual_semantic_loss(visual: torch.Tensor, text: torch.Tensor, margin: float = 0.1) -> torch.Tensor:
    """Hinge loss that makes an item's visual code closer to its own text code than to others'.

    With ``S = V T^T / D`` over the ``n`` items of the batch, each item ``k`` contributes
    ``1/(n-1) * [sum_{j != k} max(0, c - S_kk + S_kj) + sum_{i != k} max(0, c - S_kk + S_ik)]``;
    the result is the mean over items.
    """
    n, dim = visual.shape
    if n < 2:
        raise ValueError("visual_semantic_loss needs at least two items")
    similarity = visual @ text.t() / dim  # (n, n)
    diagonal = similarity.diagonal()
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=visual.device)
    cost_visual = (margin - diagonal.view(-1, 1) + similarity).clamp(min=0) * off_diagonal  # row k: j != k
    cost_text = (margin - diagonal.view(1, -1) + similarity).clamp(min=0) * off_diagonal  # column k: i != k
    return ((cost_visual.sum(dim=1) + cost_text.sum(dim=0)) / (n - 1)).mean()
