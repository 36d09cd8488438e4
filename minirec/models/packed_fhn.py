"""Fashion Hash Net's matching block computed from packed codes (XOR + byte lookup tables).

With ±1 codes every term of the matching block is a weighted inner product
``b_i^T diag(lambda) b_j = sum(lambda) - 2 * sum_k T_k[pack(b_i)_k XOR pack(b_j)_k]``
(see :mod:`minirec.hashing.packed`), so a trained model can score outfits with no float codes at
all: ``D / 8`` bytes per item and user, one XOR and one table lookup per byte and term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minirec.hashing.packed import byte_weight_tables, pack_codes, weighted_inner_product
from minirec.models.fhn import FashionHashNet, slot_pairs


@dataclass(frozen=True)
class PackedFHN:
    """Packed user and item codes of a trained :class:`FashionHashNet`, and its matching weights."""

    users: np.ndarray  # (U, D/8) uint8
    items: dict[str, dict[str, np.ndarray]]  # modality -> category -> (n_category, D/8) uint8
    slots: tuple[str, ...]
    dim: int
    terms: str
    scale: float
    preference_tables: np.ndarray  # byte tables of lambda_ui
    compatibility_tables: np.ndarray  # byte tables of lambda_ii
    preference_weight_sum: float
    compatibility_weight_sum: float

    @classmethod
    def from_model(cls, model: FashionHashNet) -> PackedFHN:
        """Binarise and pack every code of ``model`` (eval mode, ``sign``)."""
        user_codes, item_codes = model.code_tables(binary=True)
        lambda_ui = model.matching.lambda_ui.detach().cpu().double().numpy()
        lambda_ii = model.matching.lambda_ii.detach().cpu().double().numpy()
        return cls(
            users=pack_codes(user_codes.cpu().numpy()),
            items={
                m: {c: pack_codes(codes.cpu().numpy()) for c, codes in per_category.items()}
                for m, per_category in item_codes.items()
            },
            slots=model.config.slots,
            dim=model.config.dim,
            terms=model.config.terms,
            scale=model.config.score_scale,
            preference_tables=byte_weight_tables(lambda_ui),
            compatibility_tables=byte_weight_tables(lambda_ii),
            preference_weight_sum=float(lambda_ui.sum()),
            compatibility_weight_sum=float(lambda_ii.sum()),
        )

    @property
    def nbytes(self) -> int:
        """Bytes of all packed codes (users and items)."""
        return self.users.nbytes + sum(t.nbytes for per in self.items.values() for t in per.values())

    def preference(self, user: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``1/(N D) sum_n u^T L_ui x_n``; packed user ``(B, D/8)``, items ``(B, N, D/8)`` -> ``(B,)``."""
        per_slot = weighted_inner_product(
            user[:, None], items, self.preference_tables, self.preference_weight_sum
        )
        return per_slot.sum(axis=1) / (len(self.slots) * self.dim)

    def compatibility(self, items: np.ndarray) -> np.ndarray:
        """``1/(|P| D) sum_{(n,m) in P} x_n^T L_ii x_m``; packed items ``(B, N, D/8)`` -> ``(B,)``."""
        pairs = slot_pairs(self.slots)
        first, second = [n for n, _ in pairs], [m for _, m in pairs]
        per_pair = weighted_inner_product(
            items[:, first], items[:, second], self.compatibility_tables, self.compatibility_weight_sum
        )
        return per_pair.sum(axis=1) / (len(pairs) * self.dim)

    def score_tuples(self, tuples: np.ndarray) -> np.ndarray:
        """Scores ``(B,)`` of rows ``user, item per slot``: equal to ``FashionHashNet.score_tuples``."""
        tuples = np.asarray(tuples, dtype=np.int64)
        if tuples.ndim != 2 or tuples.shape[1] != 1 + len(self.slots):
            raise ValueError(
                f"tuples should have shape (B, {1 + len(self.slots)}) (user, then one item "
                f"per slot {self.slots}), got {tuples.shape}"
            )
        user = self.users[tuples[:, 0]]
        per_modality = []
        for per_category in self.items.values():
            items = np.stack([per_category[c][tuples[:, 1 + n]] for n, c in enumerate(self.slots)], axis=1)
            if self.terms == "preference":
                per_modality.append(2 * self.scale * self.preference(user, items))
            elif self.terms == "compatibility":
                per_modality.append(2 * self.scale * self.compatibility(items))
            else:
                per_modality.append(self.scale * (self.preference(user, items) + self.compatibility(items)))
        return np.mean(per_modality, axis=0)
