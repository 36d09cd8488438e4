"""``python -m minirec.experiments.seqhash``: binary codes for the sequential recommender (notebook 08).

Trains a sequential model (SASRec with item features, or the fusion model) with hashing heads on
its user states and item vectors, then retrieves each user's next item two ways: real-valued
scores of the relaxed codes, and Hamming search over the packed binary codes. Change one component
from the command line and save the run, e.g.::

    python -m minirec.experiments.seqhash --bits 16 --seeds 0,1,2 --save build/runs/bits16.json
    python -m minirec.experiments.runs build/runs --baseline baseline

``--bits 0`` trains the base model without hashing heads (real-valued retrieval only). ``--data DIR``
runs on a real sequence dataset (``<name>.txt`` + ``<name>_item2attributes.json``, as in
``minirec.experiments.seqrec``) with the categories as the only item features.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from minirec.core.loop import History
from minirec.core.runtime import set_seed
from minirec.data.sequences import LeaveOneOut, SequenceFolder
from minirec.evaluation.retrieval import RetrievalScores, evaluate_retrieval
from minirec.experiments.config import (
    ConfigError,
    Experiment,
    ExperimentConfig,
    describe,
    option,
)
from minirec.features.categories import category_table
from minirec.hashing.relax import RELAXATIONS, BetaSchedule
from minirec.models.fusion import FUSIONS
from minirec.models.hashed_seqrec import HashedSeqRec
from minirec.models.sequential import MODEL_KINDS, SequentialRecommender, build_seqrec
from minirec.train.seqrec import SeqTrainConfig, train_seqrec

BASES = MODEL_KINDS
MODALITIES = ("image", "text", "category")  # the item features of the sample (shopping_features)


@dataclass(frozen=True)
class SeqHashExperiment(ExperimentConfig):
    """One run of the notebook-08 experiment; the defaults are the notebook's baseline."""

    base: str = field(
        default="sasrec+features",
        metadata=option("the sequential model under the hashing heads", choices=BASES),
    )
    fusion: str = field(
        default="gate", metadata=option("fusion function, when base is fusion", choices=FUSIONS)
    )
    bits: int = field(
        default=64,
        metadata=option("code length D (0: no hashing heads)", minimum=8, multiple_of=8, zero_ok=True),
    )
    relaxation: str = field(
        default="tanh",
        metadata=option(
            "tanh(beta h) with growing beta, or the straight-through estimator", choices=RELAXATIONS
        ),
    )
    gamma: float = field(
        default=6.25,
        metadata=option("beta schedule sqrt(1 + gamma * epoch): 16 epochs end at beta 9.7", minimum=0),
    )
    score_scale: float = field(default=10.0, metadata=option("s in s / D * b_u^T b_i", above=0))
    aux_weight: float = field(
        default=0.5, metadata=option("multitask weight per modality (models with auxiliary heads)", minimum=0)
    )
    content_expert: float = field(
        default=0.0,
        metadata=option(
            "weight alpha of a content expert mixed into the prediction (0: none; not with hashing heads)",
            minimum=0,
        ),
    )
    without: str = field(
        default="none",
        metadata=option(
            "leave one modality out of the item features (an ablation)",
            choices=("none", *MODALITIES),
        ),
    )
    epochs: int = field(default=16, metadata=option("training epochs", minimum=1))
    batch_size: int = field(default=256, metadata=option("training windows per batch", minimum=1))
    lr: float = field(default=5e-3, metadata=option("Adam learning rate", above=0))
    dim: int = field(default=64, metadata=option("model width d", minimum=1))
    max_length: int = field(default=12, metadata=option("items of history the model sees, L", minimum=1))

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.content_expert >= 1:
            raise ConfigError("content_expert", self.content_expert, "a mixture weight below 1")
        if self.content_expert > 0 and (self.bits > 0 or self.base == "sasrec"):
            raise ConfigError(
                "content_expert",
                self.content_expert,
                "0 unless --bits 0 and a base with item features (it mixes real-valued softmaxes)",
            )


@dataclass(frozen=True)
class SequenceData:
    """The leave-one-out split and the item features of a sequence dataset."""

    split: LeaveOneOut
    features: dict[str, np.ndarray]


def build_model(
    experiment: SeqHashExperiment, num_items: int, features: dict[str, np.ndarray] | None
) -> SequentialRecommender:
    """The base model (without the ``without`` modality), wrapped with hashing heads unless ``bits == 0``."""
    kept = {m: table for m, table in (features or {}).items() if m != experiment.without}
    base = build_seqrec(
        experiment.base,
        num_items,
        kept if experiment.base != "sasrec" else None,
        fusion=experiment.fusion,
        max_length=experiment.max_length,
        dim=experiment.dim,
        content_expert=experiment.content_expert,
    )
    if experiment.bits == 0:
        return base
    return HashedSeqRec(base, experiment.bits, experiment.relaxation, experiment.score_scale)


def train_model(
    model: SequentialRecommender,
    experiment: SeqHashExperiment,
    split: LeaveOneOut,
    device: torch.device | str = "cpu",
    show_progress: bool = False,
) -> History:
    """Full-softmax training; a hashed model's beta follows the schedule, as FHN's does."""
    config = SeqTrainConfig(
        epochs=experiment.epochs,
        batch_size=experiment.batch_size,
        lr=experiment.lr,
        loss="ce",
        aux_weight=experiment.aux_weight,
    )
    hooks = [BetaSchedule(experiment.gamma)] if isinstance(model, HashedSeqRec) else []
    return train_seqrec(
        model,
        split.train,
        config,
        device,
        show_progress=show_progress,
        desc=f"{experiment.base}, {experiment.bits} bits",
        hooks=hooks,
    )


def run_seqhash_experiment(
    experiment: SeqHashExperiment,
    split: LeaveOneOut,
    features: dict[str, np.ndarray] | None,
    device: torch.device | str = "cpu",
    show_progress: bool = False,
) -> tuple[SequentialRecommender, dict[str, RetrievalScores]]:
    """Seed, build, train and evaluate one model."""
    set_seed(experiment.seed)
    model = build_model(experiment, split.num_items, features)
    train_model(model, experiment, split, device, show_progress)
    return model, evaluate_retrieval(model, split, device=device)


def experiment_metrics(
    experiment: SeqHashExperiment, results: dict[str, RetrievalScores]
) -> dict[str, float]:
    """Flat metrics of one run, as saved in its JSON record."""
    metrics: dict[str, float] = {}
    for kind, scores in results.items():
        metrics |= {
            f"{kind} HR@10": scores.hr,
            f"{kind} NDCG@10": scores.ndcg,
            f"{kind} rare-target HR@10": scores.rare_hr,
        }
    metrics["bytes per item"] = experiment.bits / 8 if experiment.bits else 4 * experiment.dim
    return metrics


def load(folder: Path | None, device: torch.device) -> SequenceData:
    """The shopping sample with its image, text and category features, or a real dataset's categories."""
    if folder is None:  # imported here: the sample's encoders are not needed for a real dataset
        from minirec.data.samples import load_shopping
        from minirec.features.pipeline import shopping_features

        sample = load_shopping()
        return SequenceData(sample.split(), shopping_features(sample, device=device))
    dataset = SequenceFolder.load(folder)
    if dataset.attributes is None:
        return SequenceData(dataset.split(), {})
    return SequenceData(dataset.split(), {"category": category_table(dataset.attributes, dataset.num_items)})


def check(experiment: SeqHashExperiment, data: SequenceData) -> None:
    if experiment.base != "sasrec" and not data.features:
        raise ConfigError(
            "base", experiment.base, "sasrec: these data have no item features (attribute file)"
        )
    if experiment.without != "none" and experiment.without not in data.features:
        raise ConfigError(
            "without", experiment.without, f"one of the data's modalities {sorted(data.features)}"
        )
    if experiment.without != "none" and experiment.base != "sasrec" and len(data.features) < 2:
        raise ConfigError("without", experiment.without, "none: it is the data's only modality")


def run(experiment: SeqHashExperiment, data: SequenceData, device: torch.device) -> dict[str, float]:
    _, results = run_seqhash_experiment(experiment, data.split, data.features, device)
    return experiment_metrics(experiment, results)


def report(experiment: SeqHashExperiment, data: SequenceData, metrics: dict[str, float]) -> str:
    lines = [
        f"sequential model with {experiment.bits or 'no'}-bit codes ({describe(experiment)})",
        f"{'retrieval':12s} {'HR@10':>7s} {'NDCG@10':>8s} {'rare HR@10':>10s}   test item of all "
        f"{len(data.split.train)} users, history removed",
    ]
    for kind in ("real-valued", "binary"):
        if f"{kind} HR@10" in metrics:
            lines.append(
                f"{kind:12s} {metrics[f'{kind} HR@10']:7.3f} {metrics[f'{kind} NDCG@10']:8.3f} "
                f"{metrics[f'{kind} rare-target HR@10']:10.3f}"
            )
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="seqhash",
    config_class=SeqHashExperiment,
    load=load,
    run=run,
    report=report,
    check=check,
    description=__doc__.split("\n\n")[0],
    data_help="a sequence dataset folder, <name>.txt [+ <name>_item2attributes.json] (default: the sample)",
)

main = EXPERIMENT.main


if __name__ == "__main__":
    sys.exit(main())
