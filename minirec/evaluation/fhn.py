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
from minirec.evaluation.metrics import fitb_accuracy, mean_user_auc, mean_user_ndcg, spread
from minirec.models.fhn import FashionHashNet, slot_pairs

OutfitScorer = Callable[[np.ndarray], np.ndarray]
SCORE_COLUMNS = ("AUC rand", "AUC hard", "NDCG fhn", "NDCG@10", "FITB")
HEURISTIC = "history + co-worn"  # the name of the best non-learned rule in the tables
TIE_BREAK = 0.01  # weight of popularity in the heuristic: it only orders outfits the counts tie


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


def history_and_coworn_scorer(
    train: np.ndarray, num_items: dict[str, int], slots: tuple[str, ...]
) -> OutfitScorer:
    """The best non-learned rule here, from ids only: the two FHN terms as counts.

        score(u, O) = sum_n log(1 + c_u(x_n)) + sum_{(n,m) in P} log(1 + c(x_n, x_m))
                      + 0.01 * sum_n log(1 + c(x_n))

    ``c_u(x)``: how often user ``u`` wore item ``x`` in training (a per-user history, the
    counterpart of the preference term); ``c(x, y)``: how often anyone wore ``x`` and ``y``
    together (co-occurrence, the counterpart of compatibility); ``c(x)``: the item's popularity,
    only to break the many ties of the first two. ``P`` are the slot pairs of the matching block.
    Uses nothing the real Polyvore-U data lacks.
    """
    users = int(train[:, 0].max()) + 1
    history = {c: np.zeros((users, num_items[c])) for c in dict.fromkeys(slots)}
    for n, category in enumerate(slots):
        np.add.at(history[category], (train[:, 0], train[:, 1 + n]), 1.0)
    popularity = {c: table.sum(axis=0) for c, table in history.items()}
    pairs = slot_pairs(slots)
    together: dict[tuple[str, str], np.ndarray] = {}
    for n, m in pairs:
        shape = (num_items[slots[n]], num_items[slots[m]])
        table = together.setdefault((slots[n], slots[m]), np.zeros(shape))
        np.add.at(table, (train[:, 1 + n], train[:, 1 + m]), 1.0)

    def score(tuples: np.ndarray) -> np.ndarray:
        known = tuples[:, 0] < users  # a user without training outfits has no history
        user = np.where(known, tuples[:, 0], 0)
        own = sum(np.log1p(history[c][user, tuples[:, 1 + n]]) * known for n, c in enumerate(slots))
        worn = sum(
            np.log1p(together[(slots[n], slots[m])][tuples[:, 1 + n], tuples[:, 1 + m]]) for n, m in pairs
        )
        popular = sum(np.log1p(popularity[c][tuples[:, 1 + n]]) for n, c in enumerate(slots))
        return own + worn + TIE_BREAK * popular

    return score


def baseline_scores(data: PolyvoreU, seed: int = 0) -> dict[str, FHNScores]:
    """Random, popularity and the best heuristic (:func:`history_and_coworn_scorer`), and the
    oracle's scores when ``truth.json`` is present.

    ``seed`` fixes the random scorer's draws (an evaluation protocol setting, like the split).
    """
    rng = np.random.default_rng(seed)
    train = data.tuples["train"]["posi"]
    counts = item_counts(train, data.num_items)
    rows = {
        "random": evaluate_scorer(lambda t: rng.random(len(t)), data),
        "popularity": evaluate_scorer(lambda t: outfit_popularity_scores(counts, t), data),
        HEURISTIC: evaluate_scorer(history_and_coworn_scorer(train, data.num_items, data.slots), data),
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


def format_spread_table(
    rows: dict[str, list[FHNScores]], title: str = "test set", columns: tuple[str, ...] = SCORE_COLUMNS
) -> str:
    """Like :func:`format_table`, with each row's scores over seeds as ``mean ± std`` (a row with
    one entry, such as a deterministic baseline, shows its value alone)."""
    width = max(len(title), *(len(name) for name in rows))
    lines = [f"{title:{width}s} " + " ".join(f"{c:>13s}" for c in columns)]
    for name, runs in rows.items():
        cells = [spread([r.as_dict()[c] for r in runs]) for c in columns]
        lines.append(f"{name:{width}s} " + " ".join(f"{cell:>13s}" for cell in cells))
    return "\n".join(lines)
