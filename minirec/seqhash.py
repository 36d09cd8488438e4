"""``python -m minirec.seqhash``: binary codes for the sequential recommender (notebook 08).

Trains a sequential model (SASRec with item features, or the fusion model) with hashing heads on
its user states and item vectors, then retrieves each user's next item two ways: real-valued
scores of the relaxed codes, and Hamming search over the packed binary codes. Change one component
from the command line and save the run, e.g.::

    python -m minirec.seqhash --bits 16 --save build/runs/bits16.json
    python -m minirec.runs build/runs --baseline baseline

``--bits 0`` trains the base model without hashing heads (real-valued retrieval only). ``--data DIR``
runs on a real sequence dataset (``<name>.txt`` + ``<name>_item2attributes.json``, as in
``minirec.bench.seqrec``) with the categories as the only item features.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from minirec.data.sequences import LeaveOneOut, SequenceFolder, left_pad
from minirec.features.categories import category_table
from minirec.hashing.index import HammingIndex
from minirec.hashing.relax import beta_schedule
from minirec.models.hashed_seqrec import HashedSeqRec
from minirec.models.sasrec import SASRec
from minirec.retrieval import float_top_k, hamming_top_k, list_metrics
from minirec.runs import Run, save_run
from minirec.train.seqrec import SeqTrainConfig, build_seqrec, train_seqrec
from minirec.utils import choose_device, set_seed

BASES = ("sasrec", "sasrec+features", "fusion")


@dataclass(frozen=True)
class SeqHashExperiment:
    """One run of the notebook-08 experiment; the defaults are the notebook's baseline."""

    base: str = "sasrec+features"  # the sequential model under the hashing heads
    fusion: str = "gate"  # fusion function, when base == "fusion"
    bits: int = 64  # code length D; 0 = no hashing heads
    relaxation: str = "tanh"  # or "ste"
    gamma: float = 5.0  # beta_e = sqrt(1 + gamma e): 20 epochs end at beta = 9.8
    score_scale: float = 10.0  # s in s / D * b_u^T b_i
    aux_weight: float = 0.5  # multitask weight per modality (only models with auxiliary heads use it)
    epochs: int = 20
    lr: float = 2e-3
    dim: int = 64
    max_length: int = 12
    seed: int = 0

    def __post_init__(self) -> None:
        if self.base not in BASES:
            raise ValueError(f"base should be one of {BASES}, got {self.base!r}")
        if self.bits < 0 or self.bits % 8:
            raise ValueError(f"bits must be 0 (no hashing) or a positive multiple of 8, got {self.bits}")


@dataclass(frozen=True)
class RetrievalScores:
    """HR@10 and NDCG@10 of the top-10 lists (history removed), test item of every user."""

    hr: float
    ndcg: float


def build_model(experiment: SeqHashExperiment, num_items: int,
                features: dict[str, np.ndarray] | None) -> SASRec | HashedSeqRec:
    """The base model, wrapped with hashing heads unless ``bits == 0``."""
    base = build_seqrec(experiment.base, num_items, features if experiment.base != "sasrec" else None,
                        fusion=experiment.fusion, seed=experiment.seed, max_length=experiment.max_length,
                        dim=experiment.dim)
    if experiment.bits == 0:
        return base
    return HashedSeqRec(base, experiment.bits, experiment.relaxation, experiment.score_scale)


def train_model(model: SASRec | HashedSeqRec, experiment: SeqHashExperiment, split: LeaveOneOut,
                device: torch.device | str = "cpu", show_progress: bool = False) -> dict[str, list[float]]:
    """Full-softmax training; beta of the code layers grows after every epoch."""
    config = SeqTrainConfig(epochs=experiment.epochs, lr=experiment.lr, loss="ce",
                            aux_weight=experiment.aux_weight, seed=experiment.seed)

    hashed = isinstance(model, HashedSeqRec)

    def grow_beta(epoch: int) -> None:  # epoch is 1-based: set beta for the next one
        model.set_beta(beta_schedule(epoch, experiment.gamma))

    if hashed:
        grow_beta(0)
    return train_seqrec(model, split.train, config, device, show_progress=show_progress,
                        desc=f"{experiment.base}, {experiment.bits} bits",
                        after_epoch=grow_beta if hashed else None)


@torch.no_grad()
def user_states(model: SASRec | HashedSeqRec, histories: list[list[int]],
                device: torch.device | str = "cpu") -> torch.Tensor:
    """Hidden state after the last item of each history ``(users, d)``."""
    model.to(device).eval()
    windows = np.stack([left_pad(h, model.config.max_length) for h in histories])
    return model(torch.as_tensor(windows, device=device))[:, -1]


def binary_item_index(model: HashedSeqRec) -> HammingIndex:
    """Every item's binary code in a :class:`HammingIndex`; row = item id (row 0, padding, never returned)."""
    with torch.no_grad():
        codes = model.item_codes(binary=True).cpu().numpy()
    codes[0] = 1.0  # padding has the zero vector; any valid code will do, retrieval drops id 0
    index = HammingIndex(model.bits)
    index.add(codes)
    return index


@torch.no_grad()
def evaluate_retrieval(model: SASRec | HashedSeqRec, split: LeaveOneOut, k: int = 10,
                       device: torch.device | str = "cpu") -> dict[str, RetrievalScores]:
    """Top-``k`` lists of every user's test step: real-valued and (for hashed models) Hamming."""
    users = sorted(split.train)
    histories = [split.history(u, "test") for u in users]
    targets = np.array([split.test[u] for u in users])
    hidden = user_states(model, histories, device)
    if isinstance(model, HashedSeqRec):
        relaxed_users, relaxed_items = model.user_codes(hidden, binary=False), model.item_codes(binary=False)
        real = float_top_k(relaxed_users, relaxed_items, histories, k)
        binary_users = model.user_codes(hidden, binary=True).cpu().numpy()
        binary = hamming_top_k(binary_item_index(model), binary_users, histories, k)
        return {"real-valued": RetrievalScores(*list_metrics(real, targets)),
                "binary": RetrievalScores(*list_metrics(binary, targets))}
    real = float_top_k(hidden, model.item_vectors(), histories, k)
    return {"real-valued": RetrievalScores(*list_metrics(real, targets))}


def run_seqhash_experiment(
        experiment: SeqHashExperiment, split: LeaveOneOut, features: dict[str, np.ndarray] | None,
        device: torch.device | str = "cpu", show_progress: bool = False,
) -> tuple[SASRec | HashedSeqRec, dict[str, RetrievalScores]]:
    """Build, train and evaluate one model."""
    set_seed(experiment.seed)
    model = build_model(experiment, split.num_items, features)
    train_model(model, experiment, split, device, show_progress)
    return model, evaluate_retrieval(model, split, device=device)


def experiment_metrics(experiment: SeqHashExperiment,
                       results: dict[str, RetrievalScores]) -> dict[str, float]:
    """Flat metrics of one run, as saved in its JSON record."""
    metrics = {}
    for kind, scores in results.items():
        metrics |= {f"{kind} HR@10": scores.hr, f"{kind} NDCG@10": scores.ndcg}
    metrics["bytes per item"] = experiment.bits / 8 if experiment.bits else 4 * experiment.dim
    return metrics


def load_data(folder: Path | None, device: torch.device | str) -> tuple[LeaveOneOut, dict[str, np.ndarray]]:
    """The shopping sample with its image, text and category features, or a real dataset's categories."""
    if folder is None:  # imported here: the sample's encoders are not needed for a real dataset
        from minirec.data.samples import load_shopping
        from minirec.features.pipeline import shopping_features

        sample = load_shopping()
        return sample.split(), shopping_features(sample, device=device)
    dataset = SequenceFolder.load(folder)
    if dataset.attributes is None:
        return dataset.split(), {}
    return dataset.split(), {"category": category_table(dataset.attributes, dataset.num_items)}


def build_parser() -> argparse.ArgumentParser:
    defaults = SeqHashExperiment()
    parser = argparse.ArgumentParser(prog="python -m minirec.seqhash", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="a real dataset folder (default: the sample)")
    parser.add_argument("--base", choices=BASES, default=defaults.base)
    parser.add_argument("--fusion", choices=("sum", "concat", "gate"), default=defaults.fusion)
    parser.add_argument("--bits", type=int, default=defaults.bits, help="code length D (0: no hashing)")
    parser.add_argument("--relaxation", choices=("tanh", "ste"), default=defaults.relaxation)
    parser.add_argument("--gamma", type=float, default=defaults.gamma, help="beta_e = sqrt(1 + gamma e)")
    parser.add_argument("--score-scale", type=float, default=defaults.score_scale)
    parser.add_argument("--aux-weight", type=float, default=defaults.aux_weight,
                        help="multitask weight per modality (fusion base)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--dim", type=int, default=defaults.dim)
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--save", type=Path, default=None, help="save the run (settings and results) as JSON")
    parser.add_argument("--name", default=None, help="the run's name in comparisons (default: the file stem)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = {k: v for k, v in vars(args).items() if k not in ("data", "device", "save", "name")}
    try:
        experiment = SeqHashExperiment(**settings)
    except ValueError as error:
        parser.error(str(error))
    device = choose_device(args.device)
    split, features = load_data(args.data, device)
    if experiment.base != "sasrec" and not features:
        parser.error(f"{args.data}: no item features (attribute file), so only --base sasrec can run")
    _, results = run_seqhash_experiment(experiment, split, features, device)
    metrics = experiment_metrics(experiment, results)
    print(f"sequential model with {experiment.bits or 'no'}-bit codes ("
          + ", ".join(f"{k}={v}" for k, v in asdict(experiment).items()) + ")")
    print(f"{'retrieval':12s} {'HR@10':>7s} {'NDCG@10':>8s}   test item of all {len(split.train)} users, "
          "history removed")
    for kind, scores in results.items():
        print(f"{kind:12s} {scores.hr:7.3f} {scores.ndcg:8.3f}")
    if args.save:
        save_run(args.save, Run(args.name or args.save.stem, "seqhash", asdict(experiment), metrics))
        print(f"saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
