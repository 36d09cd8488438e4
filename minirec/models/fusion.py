"""Attention-based multimodal sequential recommendation: attention fused across modalities.

The paper (arXiv 2405.17959) computes self-attention separately over the item sequence and over
each modality, and joins them with an attention fusion function; its exact equations are not
public. minirec follows the closest published form, DIF-SR (Xie et al., SIGIR 2022):

- streams: the item-ID stream ``x`` (updated by every block) and one *side* stream per modality,
  ``s_m = W_m f_m(i_t) + P_t`` (image, text or category features of the item at position t, plus
  the position embedding; fixed across blocks);
- each stream has its own query/key projections and gives scores
  ``A_m = (LN(s_m) Q_m)(LN(s_m) K_m)^T / sqrt(d_h)``, the ID stream ``A_id`` likewise from ``x``;
- a fusion function joins them: ``sum`` (``sum_m A_m``), ``concat`` (the score matrices stacked
  and mixed by a learned linear map, i.e. learned weights per stream) or ``gate`` (weights
  ``softmax(W_g LN(x_t))`` per query position);
- softmax under the causal and padding masks, then the **values come from the item stream only**.

Items are scored as in SASRec, ``h_t . e_j``; with ``content_items`` the item vectors ``e_j``
also carry the projected features (needed to score items seen rarely in training). Auxiliary
heads predict each modality of the *next* item from ``h_t`` (the multitask loss).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from minirec.models.sasrec import (
    ItemSequenceModel,
    SASRecConfig,
    attention_mask,
    masked_softmax,
    merge_heads,
    split_heads,
    xavier_initialise,
)

FUSIONS = ("sum", "concat", "gate")


@dataclass(frozen=True)
class FusionConfig(SASRecConfig):
    fusion: str = "gate"
    content_items: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.norm != "pre":
            raise ValueError(f"the fusion blocks normalise before attention (norm='pre'), got {self.norm!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion should be one of {FUSIONS}, got {self.fusion!r}")


class FusedAttention(nn.Module):
    """Per-stream query/key projections, a fusion of the score maps, values from the item stream."""

    def __init__(self, dim: int, heads: int, dropout: float, streams: tuple[str, ...], fusion: str) -> None:
        super().__init__()
        self.streams, self.heads, self.fusion = streams, heads, fusion
        self.query = nn.ModuleDict({s: nn.Linear(dim, dim) for s in streams})
        self.key = nn.ModuleDict({s: nn.Linear(dim, dim) for s in streams})
        self.value, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)
        if fusion == "concat":
            self.mix = nn.Linear(len(streams), 1)
        elif fusion == "gate":
            self.gate = nn.Linear(dim, len(streams))
        self.reset_mix()

    def reset_mix(self) -> None:
        """Concat fusion starts as the mean of the stream scores."""
        if self.fusion == "concat":
            nn.init.constant_(self.mix.weight, 1.0 / len(self.streams))
            nn.init.zeros_(self.mix.bias)

    def stream_scores(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(B, heads, L, L, streams)``: the scaled dot-product scores of every stream."""
        scores = []
        for s in self.streams:
            q = split_heads(self.query[s](inputs[s]), self.heads)
            k = split_heads(self.key[s](inputs[s]), self.heads)
            scores.append(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]))
        return torch.stack(scores, dim=-1)

    def fuse(self, scores: torch.Tensor, item_stream: torch.Tensor) -> torch.Tensor:
        if self.fusion == "sum":
            return scores.sum(dim=-1)
        if self.fusion == "concat":
            return self.mix(scores).squeeze(-1)
        gate = torch.softmax(self.gate(item_stream), dim=-1)  # (B, L, streams), per query position
        return (scores * gate[:, None, :, None, :]).sum(dim=-1)

    def forward(self, inputs: dict[str, torch.Tensor], allowed: torch.Tensor):
        scores = self.stream_scores(inputs)
        weights = masked_softmax(self.fuse(scores, inputs["id"]), allowed.unsqueeze(1))
        out = self.out(merge_heads(self.dropout(weights) @ split_heads(self.value(inputs["id"]), self.heads)))
        per_stream = {
            s: masked_softmax(scores[..., n], allowed.unsqueeze(1)).detach()
            for n, s in enumerate(self.streams)
        }
        return out, weights, per_stream


class FusionBlock(nn.Module):
    """Pre-LN block: each stream normalised, fused attention, residual; then the feed-forward."""

    def __init__(self, dim: int, heads: int, dropout: float, streams: tuple[str, ...], fusion: str) -> None:
        super().__init__()
        self.norms = nn.ModuleDict({s: nn.LayerNorm(dim) for s in streams})
        self.attention = FusedAttention(dim, heads, dropout, streams, fusion)
        self.ffn_norm = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim), nn.Dropout(dropout)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, side: dict[str, torch.Tensor], allowed: torch.Tensor, keep: torch.Tensor
    ):
        inputs = {s: self.norms[s](x if s == "id" else side[s]) for s in self.norms}
        attended, weights, per_stream = self.attention(inputs, allowed)
        x = x + self.dropout(attended)
        x = x + self.ffn(self.ffn_norm(x))
        return x * keep, weights, per_stream


def is_multi_hot(table: np.ndarray) -> bool:
    return bool(np.isin(table, (0.0, 1.0)).all())


class MultimodalSeqRec(ItemSequenceModel):
    """Fusion blocks over the item stream and one side stream per modality, and auxiliary heads.

    ``features``: ``{modality: (num_items + 1, F)}`` tables (row 0 = padding), any non-empty subset
    of e.g. ``image``, ``text``, ``category``. Continuous features are standardised; each table is
    stored once and feeds the side stream, the auxiliary target and (``content_items``) the item vectors.
    """

    def __init__(self, config: FusionConfig, features: Mapping[str, np.ndarray | torch.Tensor]) -> None:
        if not features:
            raise ValueError("MultimodalSeqRec needs at least one modality; use SASRec for IDs only")
        tables = {m: np.asarray(t, dtype=np.float32) for m, t in features.items()}
        aux_kinds = {m: "bce" if is_multi_hot(t) else "mse" for m, t in tables.items()}
        for m, t in tables.items():
            if aux_kinds[m] == "mse":
                tables[m] = (t - t[1:].mean(0)) / (t[1:].std(0) + 1e-6)
                tables[m][0] = 0.0
        super().__init__(config, tables, content_items=config.content_items)
        self.aux_kinds = aux_kinds
        self.modalities = tuple(tables)
        self.side_projections = nn.ModuleDict(
            {m: nn.Linear(t.shape[1], config.dim) for m, t in tables.items()}
        )
        streams = ("id", *self.modalities)
        self.blocks = nn.ModuleList(
            FusionBlock(config.dim, config.heads, config.dropout, streams, config.fusion)
            for _ in range(config.blocks)
        )
        self.aux_heads = nn.ModuleDict({m: nn.Linear(config.dim, t.shape[1]) for m, t in tables.items()})
        if config.init == "xavier":
            xavier_initialise(self)
            for module in self.modules():
                if isinstance(module, FusedAttention):
                    module.reset_mix()

    def side_streams(self, sequences: torch.Tensor) -> dict[str, torch.Tensor]:
        """``s_m = W_m f_m(i_t) + P_t`` per modality ``(B, L, d)``; zero at padding."""
        position = self.position_embedding(self.positions(sequences.shape[1], sequences.device))
        keep = (sequences != 0).unsqueeze(-1)
        return {
            m: (self.side_projections[m](self.feature(m)[sequences]) + position) * keep
            for m in self.modalities
        }

    def encode(self, sequences: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
        """Hidden states ``(B, L, d)`` and, per block, the fused weights and each stream's own."""
        allowed, keep = attention_mask(sequences), (sequences != 0).unsqueeze(-1)
        x, side = self.embed(sequences), self.side_streams(sequences)
        maps = []
        for block in self.blocks:
            x, weights, per_stream = block(x, side, allowed, keep)
            maps.append({"fused": weights.detach(), **per_stream})
        return self.final_norm(x), maps

    def auxiliary_losses(self, hidden: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per modality: predict the target items' features from ``hidden`` ``(N, d)``."""
        losses = {}
        for m in self.modalities:
            prediction, truth = self.aux_heads[m](hidden), self.feature(m)[targets]
            if self.aux_kinds[m] == "bce":
                losses[m] = nn.functional.binary_cross_entropy_with_logits(prediction, truth)
            else:
                losses[m] = nn.functional.mse_loss(prediction, truth)
        return losses
