"""``python -m minirec.experiments.seqrec --data DIR``: SASRec and the fusion model on real sequences.

``DIR`` holds one ``<name>.txt`` (``uid i1 i2 ...`` per line, time order) and, for the fusion
model, ``<name>_item2attributes.json`` (``{"item": [attribute ids]}``): the S3-Rec / SASRec
format, e.g. Amazon Beauty. Categories are the only modality there; the fusion model takes any
non-empty subset of modalities. Prints HR@10 / NDCG@10 under both protocols (100 sampled
negatives; full ranking with the history masked), all users evaluated on their last item.

Item rows start Xavier-normal by default (``--init xavier``, pmixer/SASRec.pytorch's init): on a
12k-item catalogue their scale, ``sqrt(2 / (N + d))``, is a tenth of ``1 / sqrt(d)``, and that
is what kept minirec's SASRec below pmixer's on Beauty (README, "Benchmark: Amazon Beauty").
``--init scaled`` is the notebooks' init. :mod:`minirec.experiments.seqbench` holds the presets
that reproduce the published rows.

On several processes or GPUs: ``torchrun --nproc_per_node=N -m minirec.experiments.seqrec ...``
(``--batch-size`` stays the global batch: each process takes ``batch-size / N`` of it).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from minirec.core.distributed import is_main
from minirec.core.loop import AfterEpoch, History
from minirec.core.runtime import set_seed
from minirec.data.sequences import LeaveOneOut, SequenceFolder
from minirec.evaluation.seqrec import SeqScores, evaluate_seqrec
from minirec.experiments.config import (
    ConfigError,
    Experiment,
    ExperimentConfig,
    describe,
    option,
)
from minirec.features.categories import category_table
from minirec.models.fusion import FUSIONS
from minirec.models.sasrec import INITS, NORMS
from minirec.models.sequential import MODEL_KINDS, SequentialRecommender, build_seqrec
from minirec.train.seqrec import LOSSES, SeqTrainConfig, train_seqrec

COLUMNS = ("sampled HR@10", "sampled NDCG@10", "full HR@10", "full NDCG@10", "train min")


@dataclass(frozen=True)
class SeqRecBenchmark(ExperimentConfig):
    """The real-data benchmark: which models, how they train, and the sampled protocol's size."""

    models: tuple[str, ...] = field(
        default=("sasrec", "fusion"),
        metadata=option("models to train, one after the other", choices=MODEL_KINDS),
    )
    epochs: int = field(default=100, metadata=option("training epochs", minimum=1))
    loss: str = field(
        default="bce",
        metadata=option("bce (SASRec's), ce (full softmax) or sampled (sampled softmax)", choices=LOSSES),
    )
    sampled_negatives: int = field(
        default=256, metadata=option("items drawn per batch for the sampled softmax", minimum=1)
    )
    fusion: str = field(
        default="gate", metadata=option("fusion function of the fusion model", choices=FUSIONS)
    )
    aux_weight: float = field(default=0.1, metadata=option("multitask weight of the fusion model", minimum=0))
    max_length: int = field(default=50, metadata=option("items of history the model sees, L", minimum=1))
    dim: int = field(default=50, metadata=option("model width d", minimum=1))
    dropout: float = field(
        default=0.5,
        metadata=option("dropout (0.5: SASRec's value for the sparse Amazon data)", minimum=0, maximum=0.95),
    )
    negatives: int = field(default=100, metadata=option("negatives of the sampled protocol", minimum=1))
    eval_every: int = field(
        default=0, metadata=option("also print validation HR@10 every N epochs (0: never)", minimum=0)
    )
    batch_size: int = field(default=128, metadata=option("training batch size", minimum=1))
    lr: float = field(default=1e-3, metadata=option("Adam learning rate", above=0))
    adam_beta2: float = field(
        default=0.999, metadata=option("Adam's beta2 (pmixer/SASRec.pytorch: 0.98)", above=0, maximum=0.9999)
    )
    blocks: int = field(default=2, metadata=option("attention blocks", minimum=1))
    init: str = field(
        default="xavier",
        metadata=option(
            "weight init: xavier (pmixer's; item rows N(0, 2/(N + d))) or scaled (N(0, 1/d))", choices=INITS
        ),
    )
    norm: str = field(
        default="pre",
        metadata=option("SASRec blocks: pre (x + f(LN x)) or post (LN(x + f(x)), pmixer's)", choices=NORMS),
    )


@dataclass(frozen=True)
class Benchmark:
    """A dataset read once for every model and seed."""

    folder: Path
    split: LeaveOneOut
    features: dict[str, np.ndarray] | None
    users: int


def load(folder: Path | None, device: torch.device) -> Benchmark:
    if folder is None:
        raise ConfigError("data", None, "a dataset folder (this benchmark runs on real data only)")
    dataset = SequenceFolder.load(folder)
    features = None
    if dataset.attributes is not None:
        features = {"category": category_table(dataset.attributes, dataset.num_items)}
    interactions = sum(len(s) for s in dataset.sequences.values())
    print(
        f"{dataset.sequence_file}: {len(dataset.sequences)} users, {dataset.num_items} items, "
        f"{interactions} interactions; device {device}",
        flush=True,
    )
    return Benchmark(folder, dataset.split(), features, len(dataset.sequences))


def fewest_items_to_sample(split: LeaveOneOut) -> tuple[int, int]:
    """``(user, items)``: the user with the fewest never-interacted items to draw negatives from."""
    return min(
        ((u, split.num_items - len(set(split.history(u, "test")) | {split.test[u]})) for u in split.train),
        key=lambda pair: pair[1],
    )


def check(config: SeqRecBenchmark, data: Benchmark) -> None:
    if data.features is None and any(m != "sasrec" for m in config.models):
        raise ConfigError(
            "models",
            ",".join(config.models),
            f"sasrec only: {data.folder} has no <name>_item2attributes.json",
        )
    if config.norm == "post" and "fusion" in config.models:
        raise ConfigError("norm", config.norm, "pre with the fusion model (its blocks normalise first)")
    user, available = fewest_items_to_sample(data.split)
    if config.negatives > available:
        raise ConfigError(
            "negatives",
            config.negatives,
            f"at most {available}: user {user} leaves only {available} of the "
            f"{data.split.num_items} items to sample negatives from",
        )


def validation_print(
    kind: str, config: SeqRecBenchmark, split: LeaveOneOut, device: torch.device
) -> AfterEpoch:
    """A hook printing validation HR@10 every ``eval_every`` epochs (on rank 0 alone, under torchrun)."""

    def show(epoch: int, model: torch.nn.Module, history: History) -> None:
        if config.eval_every and (epoch + 1) % config.eval_every == 0 and is_main():
            assert isinstance(model, SequentialRecommender)
            s = evaluate_seqrec(model, split, "valid", config.negatives, config.seed, device=device).scores()
            print(
                f"  {kind} epoch {epoch + 1}: valid sampled HR@10 {s.hr_sampled:.4f}, "
                f"full HR@10 {s.hr_full:.4f}",
                flush=True,
            )

    return AfterEpoch(show)


def train_and_score(
    kind: str,
    config: SeqRecBenchmark,
    data: Benchmark,
    device: torch.device,
) -> tuple[SeqScores, float]:
    """Seed, build, train and test one model; its scores and training minutes."""
    set_seed(config.seed)
    model = build_seqrec(
        kind,
        data.split.num_items,
        data.features,
        fusion=config.fusion,
        max_length=config.max_length,
        dim=config.dim,
        dropout=config.dropout,
        blocks=config.blocks,
        init=config.init,
        norm=config.norm,
    )
    train = SeqTrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        adam_beta2=config.adam_beta2,
        loss=config.loss,
        sampled_negatives=config.sampled_negatives,
        aux_weight=config.aux_weight if kind == "fusion" else 0.0,
    )
    start = time.perf_counter()
    train_seqrec(
        model,
        data.split.train,
        train,
        device,
        desc=kind,
        hooks=[validation_print(kind, config, data.split, device)],
    )
    minutes = (time.perf_counter() - start) / 60  # includes the validation prints, if any
    return evaluate_seqrec(
        model, data.split, "test", config.negatives, config.seed, device=device
    ).scores(), minutes


def run(config: SeqRecBenchmark, data: Benchmark, device: torch.device) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for kind in config.models:
        s, minutes = train_and_score(kind, config, data, device)
        values = (s.hr_sampled, s.ndcg_sampled, s.hr_full, s.ndcg_full, minutes)
        metrics |= {f"{kind} {c}": v for c, v in zip(COLUMNS, values, strict=True)}
        print(
            f"{kind}: {minutes:.1f} min, sampled HR@10 {s.hr_sampled:.4f}, full HR@10 {s.hr_full:.4f}",
            flush=True,
        )
    return metrics


def report(config: SeqRecBenchmark, data: Benchmark, metrics: dict[str, float]) -> str:
    lines = [
        f"\n{describe(config)}",
        f"loss {config.loss}; test = last item, all {data.users} users; sampled = {config.negatives} "
        "negatives the user never interacted with; full = all items, history masked",
        f"{'model':22s} {'epochs':>6s} {'train min':>9s} {'sampled HR@10':>13s} {'NDCG@10':>8s} "
        f"{'full HR@10':>10s} {'NDCG@10':>8s}",
    ]
    for kind in config.models:
        v = {c: metrics[f"{kind} {c}"] for c in COLUMNS}
        label = f"{kind} (+categories)" if kind != "sasrec" else kind
        lines.append(
            f"{label:22s} {config.epochs:6d} {v['train min']:9.1f} {v['sampled HR@10']:13.4f} "
            f"{v['sampled NDCG@10']:8.4f} {v['full HR@10']:10.4f} {v['full NDCG@10']:8.4f}"
        )
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="seqrec",
    config_class=SeqRecBenchmark,
    load=load,
    run=run,
    report=report,
    check=check,
    description=__doc__.split("\n\n")[0],
    data_help="folder with <name>.txt [+ <name>_item2attributes.json] (required)",
    data_required=True,
)

main = EXPERIMENT.main


if __name__ == "__main__":
    sys.exit(main())
