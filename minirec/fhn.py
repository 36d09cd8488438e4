"""``python -m minirec.fhn``: the notebook-04 experiment from the command line.

Trains one Fashion Hash Net variant on the sample outfits (or a Polyvore-U folder) and prints
the metrics table of notebook 04: random, popularity and (when the data carry a hidden truth) the
oracle ceiling, then the variant with real-valued and with binary codes. Examples::

    python -m minirec.fhn                               # the notebook's main model
    python -m minirec.fhn --dim 16 --terms preference   # one ablation
    python -m minirec.fhn --negatives hard --relaxation ste --save build/runs/ste.json

Saved runs compare in one table: ``python -m minirec.runs build/runs --baseline NAME``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from minirec.baselines import item_counts, outfit_popularity_scores
from minirec.data.polyvore import PolyvoreU
from minirec.data.samples import fashion_oracle, load_fashion
from minirec.features.pipeline import fashion_features
from minirec.models.fhn import TERMS
from minirec.runs import Run, save_run
from minirec.train.fhn import (
    NEGATIVE_KINDS,
    SCORE_COLUMNS,
    FHNExperiment,
    FHNScores,
    evaluate_scorer,
    run_fhn_experiment,
)
from minirec.utils import choose_device, set_seed

MODALITIES = ("visual", "text", "category")


def baseline_scores(data: PolyvoreU, seed: int = 0) -> dict[str, FHNScores]:
    """Random and popularity scores, and the oracle's when ``truth.json`` is present."""
    rng = np.random.default_rng(seed)
    counts = item_counts(data.tuples["train"]["posi"], data.num_items)
    rows = {"random": evaluate_scorer(lambda t: rng.random(len(t)), data),
            "popularity": evaluate_scorer(lambda t: outfit_popularity_scores(counts, t), data)}
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


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _modalities(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in MODALITIES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(MODALITIES)}, got {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.fhn",
        description="Train one Fashion Hash Net variant and print the notebook-04 metrics table "
                    "(per-user AUC against random and hard negatives, NDCG in the official all-cut-off "
                    "form and as standard NDCG@10, fill-in-the-blank accuracy).",
    )
    parser.add_argument("--data", type=Path, default=None,
                        help="a Polyvore-U folder (default: the sample in data_samples/fashion)")
    parser.add_argument("--dim", type=_positive_int, default=64, help="code length D (default 64)")
    parser.add_argument("--terms", choices=TERMS, default="both",
                        help="matching-block terms: both, preference (user-item) or "
                             "compatibility (item-item)")
    parser.add_argument("--modalities", type=_modalities, default=("visual", "text"),
                        help="comma-separated item features: visual, text, category (default visual,text)")
    parser.add_argument("--negatives", choices=NEGATIVE_KINDS, default="random",
                        help="training negatives: random mixtures, hard (other users' outfits) or both")
    parser.add_argument("--relaxation", choices=("tanh", "ste"), default="tanh",
                        help="tanh(beta h) with growing beta, or the straight-through estimator")
    parser.add_argument("--epochs", type=_positive_int, default=15)
    parser.add_argument("--gamma", type=float, default=7.0, help="beta schedule sqrt(1 + gamma * epoch)")
    parser.add_argument("--vse-weight", type=float, default=0.1,
                        help="weight of the visual-semantic consistency loss (default 0.1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--save", type=Path, default=None, help="save the run (settings and results) as JSON")
    parser.add_argument("--name", default=None, help="the run's name in comparisons (default: the file stem)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    set_seed(args.seed)
    device = choose_device(args.device)
    data = PolyvoreU.load(args.data) if args.data else load_fashion()
    features = fashion_features(data, device=device)
    experiment = FHNExperiment(dim=args.dim, terms=args.terms, modalities=args.modalities,
                               negatives=args.negatives, relaxation=args.relaxation, epochs=args.epochs,
                               gamma=args.gamma, vse_weight=args.vse_weight, seed=args.seed)
    _, results = run_fhn_experiment(experiment, data, features, device=device, show_progress=False)
    rows = baseline_scores(data, args.seed) | {f"FHN {k}": v for k, v in results.items()}
    variant = ", ".join(f"{k}={v}" for k, v in asdict(experiment).items())
    print(f"Fashion Hash Net ({variant})\n")
    print(format_table(rows))
    if args.save:
        metrics = {f"{kind} {column}": value for kind, scores in results.items()
                   for column, value in zip(SCORE_COLUMNS, scores.as_row(), strict=True)}
        save_run(args.save, Run(args.name or args.save.stem, "fhn", asdict(experiment), metrics))
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
