"""``python -m minirec.experiments.fhn``: the notebook-04 experiment from the command line.

Trains one Fashion Hash Net variant on the sample outfits (or a Polyvore-U folder) and prints
the metrics table of notebook 04: random, popularity, the best heuristic (history + co-worn) and
(when the data carry a hidden truth) the oracle ceiling, then the variant with real-valued and with
binary codes; with several seeds, the mean ± std of every metric. Examples::

    python -m minirec.experiments.fhn --seeds 0,1,2                 # the notebook's main model
    python -m minirec.experiments.fhn --dim 16 --terms preference   # one ablation
    python -m minirec.experiments.fhn --relaxation ste --seeds 0,1,2 --save build/runs/ste.json

Saved runs compare in one table: ``python -m minirec.experiments.runs build/runs --baseline NAME``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from minirec.core.runtime import set_seed
from minirec.data.polyvore import PolyvoreU
from minirec.data.samples import load_fashion
from minirec.evaluation.fhn import SCORE_COLUMNS, FHNScores, baseline_scores, evaluate_fhn, format_table
from minirec.experiments.config import (
    ConfigError,
    Experiment,
    ExperimentConfig,
    describe,
    option,
)
from minirec.features.pipeline import fashion_features
from minirec.hashing.relax import RELAXATIONS
from minirec.models.fhn import TERMS, FashionHashNet, FHNConfig
from minirec.train.fhn import NEGATIVE_KINDS, FHNTrainConfig, train_fhn

MODALITIES = ("visual", "text", "category")


@dataclass(frozen=True)
class FashionData:
    """What every seed of a command-line run shares: the outfits, their features, the baselines' scores."""

    outfits: PolyvoreU
    features: dict[str, dict[str, np.ndarray]]
    baselines: dict[str, FHNScores]


@dataclass(frozen=True)
class FHNExperiment(ExperimentConfig):
    """One run of the notebook-04 experiment: what to vary, with the defaults of the notebook."""

    dim: int = field(default=64, metadata=option("code length D", minimum=1))
    terms: str = field(
        default="both",
        metadata=option(
            "matching-block terms: both, preference (user-item) or compatibility (item-item)", choices=TERMS
        ),
    )
    modalities: tuple[str, ...] = field(
        default=("visual", "text"),
        metadata=option("item features the hashing modules see", choices=MODALITIES),
    )
    negatives: str = field(
        default=FHNTrainConfig.negatives,
        metadata=option(
            "training negatives: random mixtures, hard (other users' outfits) or both", choices=NEGATIVE_KINDS
        ),
    )
    relaxation: str = field(
        default="tanh",
        metadata=option(
            "tanh(beta h) with growing beta, or the straight-through estimator", choices=RELAXATIONS
        ),
    )
    epochs: int = field(default=FHNTrainConfig.epochs, metadata=option("training epochs", minimum=1))
    gamma: float = field(
        default=FHNTrainConfig.gamma,
        metadata=option("beta schedule sqrt(1 + gamma * epoch); 19.8: beta 1 to 10 in 6 epochs", minimum=0),
    )
    vse_weight: float = field(
        default=FHNTrainConfig.vse_weight,
        metadata=option("weight of the visual-semantic consistency loss", minimum=0),
    )

    @property
    def batch_size(self) -> int:
        """The training batch size (FHNTrainConfig's; not a flag): under torchrun, split between processes."""
        return FHNTrainConfig.batch_size


def standardise(features: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
    """Each feature column scaled to mean 0 and std 1 over all items of all categories (float32).

    The hashing modules start from tiny weights (``N(0, 0.01^2)``); a column with a large common
    offset (the self-supervised image features are all positive) would dominate their first layer.
    A constant column is only centred.
    """
    out = {}
    for modality, tables in features.items():
        rows = np.concatenate([np.asarray(t, np.float64) for t in tables.values()])
        mean, std = rows.mean(axis=0), rows.std(axis=0)
        std[std == 0] = 1.0
        out[modality] = {c: ((np.asarray(t) - mean) / std).astype(np.float32) for c, t in tables.items()}
    return out


def run_fhn_experiment(
    experiment: FHNExperiment,
    data: PolyvoreU,
    features: dict[str, dict[str, np.ndarray]],
    device: torch.device | str = "cpu",
    show_progress: bool = False,
) -> tuple[FashionHashNet, dict[str, FHNScores]]:
    """Seed, build, train and evaluate one model; returns it and its real-valued and binary test scores.

    The features of the chosen modalities are standardised first (:func:`standardise`).
    """
    set_seed(experiment.seed)
    features = standardise({m: features[m] for m in experiment.modalities})
    config = FHNConfig(
        num_users=data.num_users,
        slots=data.slots,
        dim=experiment.dim,
        terms=experiment.terms,
        relaxation=experiment.relaxation,
        feature_dims={m: features[m][data.slots[0]].shape[1] for m in experiment.modalities},
    )
    model = FashionHashNet(config, features)  # standardised, the chosen modalities only
    train_config = FHNTrainConfig(
        epochs=experiment.epochs,
        gamma=experiment.gamma,
        negatives=experiment.negatives,
        vse_weight=experiment.vse_weight,
    )
    train_fhn(model, data.tuples["train"]["posi"], data.num_items, train_config, device, show_progress)
    return model, {
        "real-valued": evaluate_fhn(model, data, binary=False),
        "binary": evaluate_fhn(model, data, binary=True),
    }


def run_metrics(results: dict[str, FHNScores]) -> dict[str, float]:
    """Flat metrics of one run, as saved in its record: ``"binary AUC rand"``, ..."""
    return {
        f"{kind} {column}": value
        for kind, scores in results.items()
        for column, value in scores.as_dict().items()
    }


def load(folder: Path | None, device: torch.device) -> FashionData:
    """The outfits (sample or a Polyvore-U folder), their cached item features and the baselines."""
    outfits = PolyvoreU.load(folder) if folder else load_fashion()
    return FashionData(outfits, fashion_features(outfits, device=device), baseline_scores(outfits))


def check(experiment: FHNExperiment, data: FashionData) -> None:
    if any(m not in data.features for m in experiment.modalities):
        raise ConfigError(
            "modalities",
            ",".join(experiment.modalities),
            f"modalities these data have ({', '.join(data.features)})",
        )


def run(experiment: FHNExperiment, data: FashionData, device: torch.device) -> dict[str, float]:
    return run_metrics(run_fhn_experiment(experiment, data.outfits, data.features, device=device)[1])


def report(experiment: FHNExperiment, data: FashionData, metrics: dict[str, float]) -> str:
    """The notebook-04 table: the baselines, then this run's two rows."""
    rows = dict(data.baselines)
    for kind in ("real-valued", "binary"):
        rows[f"FHN {kind}"] = FHNScores(*(metrics[f"{kind} {column}"] for column in SCORE_COLUMNS))
    return f"Fashion Hash Net ({describe(experiment)})\n\n{format_table(rows)}"


EXPERIMENT = Experiment(
    name="fhn",
    config_class=FHNExperiment,
    load=load,
    run=run,
    report=report,
    check=check,
    description=__doc__.split("\n\n")[0] + "\n\nPer-user AUC against random and hard negatives, NDCG in the "
    "official all-cut-off form and as standard NDCG@10, fill-in-the-blank accuracy.",
    data_help="a Polyvore-U folder (default: the sample in data_samples/fashion)",
)

main = EXPERIMENT.main


if __name__ == "__main__":
    sys.exit(main())
