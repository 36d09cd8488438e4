"""Binary codes for a sequential recommender: Fashion Hash Net's hashing ideas on SASRec / fusion.

A trained sequential model gives a user state ``h_u`` (the hidden state after the last item of the
history) and item representations ``e_i``. Two hashing heads turn them into codes,

    b_u = sign(W_u h_u),    b_i = sign(W_i e_i),    in {-1, +1}^D,

relaxed to ``tanh(beta W x)`` (or the straight-through estimator) while training, with beta growing
every epoch (notebook 02). Scores are the matching block's preference term with ``Lambda = 1``,

    score(u, i) = s / D * b_u^T b_i = s / D * (D - 2 d_H(b_u, b_i)),

so ranking by score is ranking by Hamming distance, and retrieval runs on packed codes (notebook 07).
The whole network (base model and heads) trains end to end on the next-item loss.
"""

from __future__ import annotations

import torch
from torch import nn

from minirec.hashing.relax import CodeLayer, set_beta
from minirec.models.sasrec import ItemSequenceModel


class HashedSeqRec(nn.Module):
    """A SASRec-style ``base`` model with hashing heads on its user states and item vectors.

    It is a :class:`~minirec.models.sequential.SequentialRecommender` like its base (``config``,
    ``forward`` -> hidden states, ``score_all``, ``score_items``, ``auxiliary_losses``), so
    ``train_seqrec`` and ``evaluate_seqrec`` work unchanged. Set :attr:`binary` to score with
    ``sign`` codes.
    """

    def __init__(
        self, base: ItemSequenceModel, bits: int = 64, relaxation: str = "tanh", score_scale: float = 10.0
    ) -> None:
        super().__init__()
        if bits < 1:
            raise ValueError(f"bits (the code length D) must be >= 1, got {bits}")
        if base.config.content_expert > 0:
            raise ValueError(
                "a hashed model scores by Hamming distance: build its base with content_expert=0"
            )
        self.base, self.config = base, base.config
        self.bits, self.score_scale = bits, score_scale
        self.user_hash = nn.Linear(base.config.dim, bits, bias=False)
        self.item_hash = nn.Linear(base.config.dim, bits, bias=False)  # no bias: padding id 0 -> code 0
        self.user_code = CodeLayer(relaxation)
        self.item_code = CodeLayer(relaxation)
        self.binary = False

    def set_beta(self, beta: float) -> None:
        """Set beta of both code layers (``tanh(beta h)``)."""
        set_beta(self, beta)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """The base model's hidden states ``(B, L, d)``; codes are taken when scoring."""
        return self.base(sequences)

    def user_codes(self, hidden: torch.Tensor, binary: bool | None = None) -> torch.Tensor:
        """Codes ``(..., D)`` of user states ``(..., d)`` (relaxed unless ``binary``)."""
        return self.user_code(self.user_hash(hidden), binary=self.binary if binary is None else binary)

    def item_codes(self, items: torch.Tensor | None = None, binary: bool | None = None) -> torch.Tensor:
        """Codes of ``items`` (any shape), or of every item id ``(num_items + 1, D)``; id 0 -> zeros."""
        vectors = self.base.item_vectors(items)
        codes = self.item_code(self.item_hash(vectors), binary=self.binary if binary is None else binary)
        ids = items if items is not None else torch.arange(self.config.num_items + 1, device=codes.device)
        return codes * (ids != 0).unsqueeze(-1)

    def score_all(self, hidden: torch.Tensor) -> torch.Tensor:
        """``s / D * b_u^T b_i`` for every item id: ``(..., d)`` -> ``(..., num_items + 1)``."""
        return self.score_scale / self.bits * self.user_codes(hidden) @ self.item_codes().T

    def score_items(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores of the given ``items`` ``(B, L)`` for the hidden states ``(B, L, d)``."""
        return self.score_scale / self.bits * (self.user_codes(hidden) * self.item_codes(items)).sum(-1)

    def score_shared(self, hidden: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores ``(P, K)`` of one set of ``items`` ``(K,)`` for every hidden state ``(P, d)``."""
        return self.score_scale / self.bits * self.user_codes(hidden) @ self.item_codes(items).T

    def expert_logits(self, hidden: torch.Tensor) -> dict[str, torch.Tensor]:
        """One expert: the code scores of :meth:`score_all`."""
        return {"item": self.score_all(hidden)}

    def auxiliary_losses(self, hidden: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """The base model's per-modality losses (multitask); ``{}`` when it has none."""
        return self.base.auxiliary_losses(hidden, targets)
