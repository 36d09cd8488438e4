"""Next-item retrieval as a deployed system does it: the top-k list per user, history removed.

Two ways to get the list: real-valued scores (``float_top_k``) or Hamming search over packed codes
(``hamming_top_k``, through :class:`minirec.hashing.index.HammingIndex`, ties by smaller id). Both
remove id 0 (padding) and the items of the user's history. :func:`list_metrics` scores the lists:
HR@k is the share of users whose held-out item is in their list, NDCG@k gives
``1 / log2(position + 1)`` for the item at 1-based ``position``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from minirec.data.sequences import LeaveOneOut
from minirec.evaluation.seqrec import rare_targets, user_states
from minirec.hashing.index import HammingIndex
from minirec.models.hashed_seqrec import HashedSeqRec
from minirec.models.sequential import SequentialRecommender


def _drop_excluded(candidates: np.ndarray, histories: list[list[int]], k: int) -> np.ndarray:
    """The first ``k`` candidates of each row that are neither id 0 nor in that user's history."""
    out = np.empty((len(candidates), k), dtype=np.int64)
    for row, (ids, history) in enumerate(zip(candidates, histories, strict=True)):
        excluded = {0, *history}
        kept = [int(i) for i in ids if int(i) not in excluded][:k]
        if len(kept) < k:
            raise ValueError(
                f"user row {row}: only {len(kept)} candidates left after removing the history; "
                f"search more than {candidates.shape[1]}"
            )
        out[row] = kept
    return out


def float_top_k(
    user_vectors: torch.Tensor, item_vectors: torch.Tensor, histories: list[list[int]], k: int = 10
) -> np.ndarray:
    """Top-``k`` item ids by ``user_vectors @ item_vectors.T`` (rows of ``item_vectors`` = item ids)."""
    return top_k_unseen(user_vectors @ item_vectors.T, histories, k)


def top_k_unseen(scores: torch.Tensor, histories: list[list[int]], k: int = 10) -> np.ndarray:
    """Top-``k`` item ids of each row of ``scores`` ``(users, num_items + 1)``, history and id 0 left out."""
    scores = scores.detach().cpu().clone()
    scores[:, 0] = float("-inf")
    for row, history in enumerate(histories):
        scores[row, history] = float("-inf")
    return torch.topk(scores, k, dim=1).indices.numpy()


def hamming_top_k(
    index: HammingIndex, user_codes: np.ndarray | torch.Tensor, histories: list[list[int]], k: int = 10
) -> np.ndarray:
    """Top-``k`` item ids by Hamming distance; ``index`` holds every item's code, row = item id."""
    depth = min(index.ntotal, k + 1 + max((len(set(h)) for h in histories), default=0))
    _, candidates = index.search(user_codes, depth)
    return _drop_excluded(candidates, histories, k)


def list_metrics(top_k: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """HR@k and NDCG@k of ranked lists ``(users, k)`` against one held-out item per user."""
    hits = np.asarray(top_k) == np.asarray(targets)[:, None]
    positions = np.argmax(hits, axis=1) + 1  # 1-based; only used where there is a hit
    found = hits.any(axis=1)
    return float(found.mean()), float(np.where(found, 1.0 / np.log2(positions + 1.0), 0.0).mean())


@dataclass(frozen=True)
class RetrievalScores:
    """HR@k and NDCG@k of the top-k lists (history removed), test item of every user, and HR@k over
    the users whose test item is rare in training (:func:`~minirec.evaluation.seqrec.rare_targets`)."""

    hr: float
    ndcg: float
    rare_hr: float

    @classmethod
    def of(cls, top_k: np.ndarray, targets: np.ndarray, rare: np.ndarray) -> RetrievalScores:
        hr, ndcg = list_metrics(top_k, targets)
        return cls(hr, ndcg, list_metrics(top_k[rare], targets[rare])[0] if rare.any() else float("nan"))


def binary_item_index(model: HashedSeqRec) -> HammingIndex:
    """Every item's binary code in a :class:`HammingIndex`; row = item id (row 0, padding, never returned)."""
    with torch.no_grad():
        codes = model.item_codes(binary=True).cpu().numpy()
    codes[0] = 1.0  # padding has the zero vector; any valid code will do, retrieval drops id 0
    index = HammingIndex(model.bits)
    index.add(codes)
    return index


@torch.no_grad()
def evaluate_retrieval(
    model: SequentialRecommender, split: LeaveOneOut, k: int = 10, device: torch.device | str = "cpu"
) -> dict[str, RetrievalScores]:
    """Top-``k`` lists of every user's test step: real-valued and (for hashed models) Hamming."""
    users = sorted(split.train)
    histories = [split.history(u, "test") for u in users]
    targets = np.array([split.test[u] for u in users])
    rare = rare_targets(split, np.array(users))
    hidden = user_states(model, histories, device)
    if isinstance(model, HashedSeqRec):
        relaxed_users, relaxed_items = model.user_codes(hidden, binary=False), model.item_codes(binary=False)
        real = float_top_k(relaxed_users, relaxed_items, histories, k)
        binary_users = model.user_codes(hidden, binary=True).cpu().numpy()
        binary = hamming_top_k(binary_item_index(model), binary_users, histories, k)
        return {
            "real-valued": RetrievalScores.of(real, targets, rare),
            "binary": RetrievalScores.of(binary, targets, rare),
        }
    real = top_k_unseen(model.score_all(hidden), histories, k)
    return {"real-valued": RetrievalScores.of(real, targets, rare)}
