"""What the training loop, the evaluation protocols, the hashing heads and retrieval ask of a
sequential recommender: :class:`SequentialRecommender`.

SASRec, the fusion model and a hashed model (either of them under hashing heads) all satisfy it,
so ``train_seqrec``, ``evaluate_seqrec`` and ``evaluate_retrieval`` take any of them unchanged, and
a researcher's new variant needs only these members to plug in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from minirec.models.fusion import FusionConfig, MultimodalSeqRec
from minirec.models.sasrec import SASRec, SASRecConfig

MODEL_KINDS = ("sasrec", "sasrec+features", "fusion")


@runtime_checkable
class SequentialRecommender(Protocol):
    """A model that encodes left-padded item sequences and scores items after every position."""

    config: SASRecConfig  # num_items, max_length, dim, ...

    def __call__(self, sequences: torch.Tensor) -> torch.Tensor:
        """Hidden states ``(B, L, d)`` of sequences ``(B, L)`` (item ids, 0 = padding)."""
        ...

    def score_all(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every item id (0 included): ``(..., d)`` -> ``(..., num_items + 1)``."""
        ...

    def score_items(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores of the given ``items`` ``(B, L)`` for hidden states ``(B, L, d)``."""
        ...

    def score_shared(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores ``(P, K)`` of one set of ``items`` ``(K,)`` for every hidden state ``(P, d)``
        (the shared negatives of a sampled softmax)."""
        ...

    def expert_logits(self, hidden: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every expert's logits for every item id, ``{name: (..., num_items + 1)}``; each is trained
        on its own cross-entropy (one expert, ``"item"``, unless the model mixes several)."""
        ...

    def auxiliary_losses(self, hidden: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """The multitask terms for hidden states ``(N, d)`` and their target items ``(N,)`` ({} if none)."""
        ...

    # the parts of ``nn.Module`` that training and evaluation use
    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...

    def to(self, *args: Any, **kwargs: Any) -> Any: ...

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...


def build_seqrec(
    kind: str,
    num_items: int,
    features: Mapping[str, np.ndarray] | None = None,
    fusion: str = "gate",
    **config: Any,
) -> SASRec | MultimodalSeqRec:
    """``sasrec`` (IDs only), ``sasrec+features`` (features added to the item embeddings) or ``fusion``.

    ``config`` are :class:`SASRecConfig` fields (``max_length``, ``dim``, ``dropout``, ...). The
    weights are drawn from torch's global generator: seed it (``set_seed``) at the entry point.
    """
    if kind == "sasrec":
        return SASRec(SASRecConfig(num_items=num_items, **config))
    if kind == "sasrec+features":
        if not features:
            raise ValueError("kind 'sasrec+features' needs item features")
        return SASRec(SASRecConfig(num_items=num_items, **config), features)
    if kind == "fusion":
        return MultimodalSeqRec(FusionConfig(num_items=num_items, fusion=fusion, **config), features or {})
    raise ValueError(f"kind should be one of {MODEL_KINDS}, got {kind!r}")
