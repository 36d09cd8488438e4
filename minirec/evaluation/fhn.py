"""Evaluating outfit scorers (Fashion Hash Net and the baselines) on a Polyvore-U style split.

Every scorer is a function ``score(tuples) -> scores`` over rows ``user, item per slot``; the same
protocol then gives per-user AUC against random mixtures and against other users' outfits ("hard"),
NDCG in the official all-cut-off form and as standard NDCG@10, and fill-in-the-blank accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from minirec.data.polyvore import PolyvoreU
from minirec.data.samples import fashion_oracle
from minirec.evaluation.baselines import item_counts, outfit_popularity_scores
from minirec.evaluation.metrics import fitb_accuracy, mean_user_auc, mean_user_ndcg
from minirec.models.fhn import FashionHashNet

OutfitScorer = Callable[[np.ndarray], np.ndarray]
SCORE_COLUMNS = ("AUC rand", "AUC hard", "NDCG fhn", "NDCG@10", "FITB")


@dataclass(frozen=True)
class FHNScores:
    """Test metrics of one scorer: AUC and NDCG against each negative kind, and FITB accuracy."""

    auc_random: float
    auc_hard: float
    ndcg_fhn: float  # the official all-cut-off NDCG, random negatives
    ndcg_at_10: float  # standard NDCG@10, random negatives
    fitb: float

    def as_row(self) -> tuple[float, ...]:
        return (self.auc_random, self.auc_hard, self.ndcg_fhn, self.ndcg_at_10, self.fitb)

    def as_dict(self) -> dict[str, float]:
        """``{column name: value}`` in the order of :data:`SCORE_COLUMNS`."""
        return dict(zip(SCORE_COLUMNS, self.as_row(), strict=True))


def evaluate_scorer(score: OutfitScorer, data: PolyvoreU, split: str = "test") -> FHNScores:
    """Evaluate ``score(tuples) -> scores`` on a split: per-user AUC and NDCG, and FITB."""
    tables = data.tuples[split]
    pos, neg, hard = tables["posi"], tables["nega"], tables.get("nega_hard")
    pos_scores, neg_scores = score(pos), score(neg)
    fitb = float("nan")
    if data.fitb is not None and split == "test":
        outfits = data.fitb.reshape(-1, data.fitb.shape[-1])
        fitb = fitb_accuracy(score(outfits).reshape(len(data.fitb), -1), np.zeros(len(data.fitb), int))
    return FHNScores(
        auc_random=mean_user_auc(pos[:, 0], pos_scores, neg[:, 0], neg_scores),
        auc_hard=mean_user_auc(pos[:, 0], pos_scores, hard[:, 0], score(hard))
        if hard is not None
        else float("nan"),
        ndcg_fhn=mean_user_ndcg(pos[:, 0], pos_scores, neg[:, 0], neg_scores, form="fhn"),
        ndcg_at_10=mean_user_ndcg(pos[:, 0], pos_scores, neg[:, 0], neg_scores, form="standard", k=10),
        fitb=fitb,
    )


def evaluate_fhn(model: FashionHashNet, data: PolyvoreU, binary: bool, split: str = "test") -> FHNScores:
    """Evaluate with binary codes (``sign``) or real-valued relaxed codes (``tanh(beta h)``)."""
    return evaluate_scorer(lambda tuples: model.score_tuples(tuples, binary=binary), data, split)


def baseline_scores(data: PolyvoreU, seed: int = 0) -> dict[str, FHNScores]:
    """Random and popularity scores, and the oracle's when ``truth.json`` is present.

    ``seed`` fixes the random scorer's draws (an evaluation protocol setting, like the split).
    """
    rng = np.random.default_rng(seed)
    counts = item_counts(data.tuples["train"]["posi"], data.num_items)
    rows = {
        "random": evaluate_scorer(lambda t: rng.random(len(t)), data),
        "popularity": evaluate_scorer(lambda t: outfit_popularity_scores(counts, t), data),
    }
    if (data.root / "truth.json").exists() and data.items:
        rows["oracle ceiling"] = evaluate_scorer(fashion_oracle(data).score, data)
    return rows


def format_table(rows: dict[str, FHNScores], title: str = "test set") -> str:
    """A plain-text table: one row per scorer, the columns of :data:`SCORE_COLUMNS`."""
    width = max(len(title), *(len(name) for name in rows))
    lines = [f"{title:{width}s} " + " ".join(f"{c:>9s}" for c in SCORE_COLUMNS)]
    for name, scores in rows.items():
        lines.append(f"{name:{width}s} " + " ".join(f"{v:9.3f}" for v in scores.as_row()))
    return "\n".join(lines)
