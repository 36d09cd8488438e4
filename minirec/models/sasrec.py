"""SASRec (Kang & McAuley, ICDM 2018): self-attention over a user's item sequence.

Shapes: ``B`` users, ``L`` positions (left-padded with item 0), ``d`` model width.

- item embedding ``E[i] * sqrt(d)`` plus a learned positional embedding; positions are counted
  from the *right*, so the newest item always sits at position ``L_max - 1`` and extra left
  padding changes nothing;
- ``blocks`` pre-LN transformer blocks: ``x + Attn(LN(x))`` then ``x + FFN(LN(x))``, with a
  causal mask (position t sees positions <= t) and a padding mask (nobody attends to item 0);
  ``norm="post"`` gives pmixer/SASRec.pytorch's ``LN(x + Attn(x))`` then ``LN(x + FFN(x))``;
- ``init="scaled"`` draws item rows from ``N(0, 1/d)``; ``init="xavier"`` is pmixer's
  Xavier-normal on every matrix (item rows ``N(0, 2/(N + 1 + d))``), which on a catalogue of
  thousands of rarely bought items lets training outweigh the random start much sooner;
- a final layer norm; the score of item ``j`` after position ``t`` is ``h_t . E[j]`` (shared
  input/output embeddings).

With item features, a **content expert** (``content_expert = alpha > 0``) scores items a second
way, by their features alone, ``h_t . c_j`` with ``c_j = sum_m W_m f_m(j)``, and the prediction is
the mixture of the two softmaxes,

    P(j | h_t) = (1 - alpha) softmax_j(h_t . e_j) + alpha softmax_j(h_t . c_j),

each expert trained on its own cross-entropy. An item's ID embedding carries its popularity, which
keeps rarely bought items out of the first expert's top ranks; the content expert cannot tell two
items with the same features apart, so it gives rare ones the mass their content deserves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

NORMS = ("pre", "post")
INITS = ("scaled", "xavier")
NEG_INF = -1e9  # finite, so a query with nothing to attend to gets uniform weights, not NaN


@dataclass(frozen=True)
class SASRecConfig:
    """Defaults of the SASRec paper for Beauty: d = 50, 2 blocks, 1 head, dropout 0.2, L = 50."""

    num_items: int
    max_length: int = 50
    dim: int = 50
    blocks: int = 2
    heads: int = 1
    dropout: float = 0.2
    content_expert: float = 0.0  # alpha, the content expert's weight in the mixture; 0 = none
    norm: str = "pre"  # "pre": x + f(LN(x)); "post": LN(x + f(x)) (pmixer's default)
    init: str = "scaled"  # "scaled": item rows ~ N(0, 1/d); "xavier": Xavier-normal on every matrix

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"norm should be one of {NORMS}, got {self.norm!r}")
        if self.init not in INITS:
            raise ValueError(f"init should be one of {INITS}, got {self.init!r}")
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by heads ({self.heads})")
        if not 0 <= self.content_expert < 1:
            raise ValueError(
                f"content_expert (mixture weight alpha) must be in [0, 1), got {self.content_expert}"
            )


def attention_mask(sequences: torch.Tensor) -> torch.Tensor:
    """``allowed[b, i, j]``: position ``i`` may attend to ``j`` (``j <= i`` and ``j`` is not padding)."""
    length = sequences.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=sequences.device).tril()
    return causal.unsqueeze(0) & (sequences != 0).unsqueeze(1)


def masked_softmax(scores: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis where ``allowed``; ``allowed`` broadcasts against ``scores``."""
    return torch.softmax(scores.masked_fill(~allowed, NEG_INF), dim=-1)


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(B, L, d)`` -> ``(B, heads, L, d / heads)``."""
    batch, length, dim = x.shape
    return x.view(batch, length, heads, dim // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(B, heads, L, d_h)`` -> ``(B, L, heads * d_h)``."""
    batch, heads, length, head_dim = x.shape
    return x.transpose(1, 2).reshape(batch, length, heads * head_dim)


class PointWiseFeedForward(nn.Module):
    """The same two-layer MLP applied at every position."""

    def __init__(self, dim: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim), nn.Dropout(dropout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention with an explicit mask."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
        self.out = nn.Linear(dim, dim)
        self.heads, self.dropout = heads, nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = (split_heads(f(x), self.heads) for f in (self.query, self.key, self.value))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, heads, L, L)
        weights = masked_softmax(scores, allowed.unsqueeze(1))
        return self.out(merge_heads(self.dropout(weights) @ v)), weights


class SASRecBlock(nn.Module):
    """Pre-LN block: ``x + Dropout(Attn(LN(x)))``, then ``x + FFN(LN(x))``; padding rows reset to 0.

    ``norm="post"`` (pmixer/SASRec.pytorch's default): ``LN(x + Attn(x))``, then ``LN(x + FFN(x))``.
    """

    def __init__(self, dim: int, heads: int, dropout: float, norm: str = "pre") -> None:
        super().__init__()
        self.norm = norm
        self.attention_norm, self.ffn_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = SelfAttention(dim, heads, dropout)
        self.ffn = PointWiseFeedForward(dim, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, allowed: torch.Tensor, keep: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.norm == "post":  # as torch's TransformerEncoderLayer and pmixer: dropout on the weights only
            attended, weights = self.attention(x, allowed)
            x = self.attention_norm(x + attended)
            x = self.ffn_norm(x + self.ffn(x))
            return x * keep, weights
        attended, weights = self.attention(self.attention_norm(x), allowed)
        x = x + self.dropout(attended)
        x = x + self.ffn(self.ffn_norm(x))
        return x * keep, weights


class ItemSequenceModel(nn.Module):
    """What every sequential recommender here shares: item and position embeddings, the final norm,
    and scoring ``h_t . e_j`` against item vectors; subclasses add their blocks and :meth:`encode`.

    ``features`` (``{name: (num_items + 1, F)}``, row 0 = padding) are stored once, as buffers
    ``feature_<name>``; with ``content_items`` the item vectors also carry ``sum_m W_m f_m(i)``.
    """

    def __init__(
        self,
        config: SASRecConfig,
        features: Mapping[str, np.ndarray | torch.Tensor] | None = None,
        content_items: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.item_embedding = nn.Embedding(config.num_items + 1, config.dim, padding_idx=0)
        self.position_embedding = nn.Embedding(config.max_length, config.dim)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.final_norm = nn.LayerNorm(config.dim)
        self.feature_names = tuple(features or ())
        for name, table in (features or {}).items():
            table = torch.as_tensor(np.asarray(table), dtype=torch.float32)
            if table.ndim != 2 or table.shape[0] != config.num_items + 1:
                raise ValueError(
                    f"features[{name!r}] should have shape (num_items + 1, F) = "
                    f"({config.num_items + 1}, F), got {tuple(table.shape)}"
                )
            self.register_buffer(f"feature_{name}", table)
        content = self.feature_names if content_items else ()
        self.feature_projections = nn.ModuleDict(
            {name: nn.Linear(self.feature(name).shape[1], config.dim) for name in content}
        )
        if config.content_expert > 0 and not content:
            raise ValueError("content_expert > 0 needs item features in the item vectors")
        nn.init.normal_(self.item_embedding.weight, std=config.dim**-0.5)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def feature(self, name: str) -> torch.Tensor:
        """The stored feature table ``(num_items + 1, F)`` of modality ``name``."""
        return getattr(self, f"feature_{name}")

    def item_ids(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """``items`` unchanged, or every item id ``0..num_items`` when ``None``."""
        if items is not None:
            return items
        return torch.arange(self.config.num_items + 1, device=self.item_embedding.weight.device)

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Representations of ``items`` (any shape), or of every item ``(num_items + 1, d)``."""
        ids = self.item_ids(items)
        return self.add_content(self.item_embedding(ids), ids)

    def content_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """The feature part ``c_j = sum_m W_m f_m(j)`` of ``items`` or of every item (0 without features)."""
        ids = self.item_ids(items)
        return self.add_content(torch.zeros(*ids.shape, self.config.dim, device=ids.device), ids)

    def add_content(self, vectors: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """``vectors + sum_m W_m f_m(ids)``, zero at padding positions."""
        for name, projection in self.feature_projections.items():
            vectors = vectors + projection(self.feature(name)[ids])
        return vectors * (ids != 0).unsqueeze(-1)

    def positions(self, length: int, device: torch.device) -> torch.Tensor:
        if length > self.config.max_length:
            raise ValueError(f"sequences of length {length} exceed max_length {self.config.max_length}")
        return torch.arange(self.config.max_length - length, self.config.max_length, device=device)

    def embed(self, sequences: torch.Tensor) -> torch.Tensor:
        """Input of the first block: scaled item vectors plus (right-aligned) positions."""
        x = self.item_vectors(sequences) * math.sqrt(self.config.dim)
        x = x + self.position_embedding(self.positions(sequences.shape[1], sequences.device))
        return self.embedding_dropout(x) * (sequences != 0).unsqueeze(-1)

    def encode(self, sequences: torch.Tensor) -> tuple[torch.Tensor, list]:
        """Hidden states ``(B, L, d)`` and the attention maps of every block (subclasses define it)."""
        raise NotImplementedError

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """Hidden states ``(B, L, d)`` after every position."""
        return self.encode(sequences)[0]

    @torch.no_grad()
    def attention_maps(self, sequences: torch.Tensor) -> list:
        """The attention weights of every block, first block first (for plots; no gradient)."""
        return self.encode(sequences)[1]

    def expert_logits(self, hidden: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each expert's logits for every item id: ``{"item": h . e_j[, "content": h . c_j]}``."""
        logits = {"item": hidden @ self.item_vectors().T}
        if self.config.content_expert > 0:
            logits["content"] = hidden @ self.content_vectors().T
        return logits

    def score_all(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every item id (0 included) for hidden states ``(..., d)`` -> ``(..., num_items + 1)``.

        ``h . e_j``; with a content expert, the log of the mixture of the two softmaxes (padding
        id 0 gets ``-inf``).
        """
        logits = self.expert_logits(hidden)
        if "content" not in logits:
            return logits["item"]
        alpha = self.config.content_expert
        padding = torch.zeros(logits["item"].shape[-1], dtype=torch.bool, device=hidden.device)
        padding[0] = True
        item, content = (torch.log_softmax(v.masked_fill(padding, -math.inf), -1) for v in logits.values())
        return torch.logaddexp(item + math.log(1 - alpha), content + math.log(alpha))

    def score_items(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores of the given ``items`` ``(B, L)`` for the hidden states ``(B, L, d)``."""
        if self.config.content_expert > 0:  # a mixture of softmaxes needs every item's logit
            return self.score_all(hidden).gather(-1, items.unsqueeze(-1)).squeeze(-1)
        return (hidden * self.item_vectors(items)).sum(-1)

    def score_shared(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores ``(P, K)`` of one set of ``items`` ``(K,)`` for every hidden state ``(P, d)``."""
        if self.config.content_expert > 0:
            return self.score_all(hidden)[:, items]
        return hidden @ self.item_vectors(items).T

    def auxiliary_losses(self, hidden: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """Extra losses of the multitask objective: none unless a subclass has auxiliary heads."""
        return {}


def xavier_initialise(model: ItemSequenceModel) -> None:
    """Xavier-normal on every weight matrix (embeddings included), padding row zeroed: pmixer's init
    (the attention's query, key and value drawn as the one ``(3d, d)`` matrix torch's
    ``MultiheadAttention`` has, its biases zero).

    With ``(num_items + 1, d)`` item rows this gives them a standard deviation of
    ``sqrt(2 / (num_items + 1 + d))``, far smaller than ``1 / sqrt(d)`` on a large catalogue.
    """
    for parameter in model.parameters():
        if parameter.dim() >= 2:
            nn.init.xavier_normal_(parameter)
    for module in model.modules():
        if isinstance(module, SelfAttention):  # torch's MultiheadAttention: one (3d, d) in-projection
            dim = module.query.weight.shape[1]
            for projection in (module.query, module.key, module.value):
                nn.init.normal_(projection.weight, std=(2 / (4 * dim)) ** 0.5)
            for projection in (module.query, module.key, module.value, module.out):
                nn.init.zeros_(projection.bias)
    with torch.no_grad():
        model.item_embedding.weight[0].zero_()


class SASRec(ItemSequenceModel):
    """SASRec; with ``features`` (``{name: (num_items + 1, F)}``), item embeddings also get
    ``sum_m W_m f_m(i)``: "SASRec with features added at the input" (and at the output)."""

    def __init__(
        self, config: SASRecConfig, features: Mapping[str, np.ndarray | torch.Tensor] | None = None
    ) -> None:
        super().__init__(config, features, content_items=True)
        self.blocks = nn.ModuleList(
            SASRecBlock(config.dim, config.heads, config.dropout, config.norm) for _ in range(config.blocks)
        )
        if config.init == "xavier":
            xavier_initialise(self)

    def encode(self, sequences: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Hidden states ``(B, L, d)`` and each block's attention weights ``(B, heads, L, L)``."""
        allowed, keep = attention_mask(sequences), (sequences != 0).unsqueeze(-1)
        x, maps = self.embed(sequences), []
        for block in self.blocks:
            x, weights = block(x, allowed, keep)
            maps.append(weights.detach())
        return self.final_norm(x), maps
