"""Training and evaluating Fashion Hash Net.

One epoch: set ``beta = sqrt(1 + gamma * epoch)`` in every code layer, draw fresh negatives
(random mixtures of training items, other users' training outfits, or both), and minimise
``BPR(relaxed scores) + vse_weight * visual_semantic_loss`` over mini-batches.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from minirec.data.io import atomic_write_bytes
from minirec.data.polyvore import PolyvoreU
from minirec.hashing.relax import beta_schedule
from minirec.metrics import fitb_accuracy, mean_user_auc, mean_user_ndcg
from minirec.models.fhn import FashionHashNet, FHNConfig
from minirec.train.losses import bpr_loss, visual_semantic_loss
from minirec.utils import progress

NEGATIVE_KINDS = ("random", "hard", "both")


@dataclass(frozen=True)
class FHNTrainConfig:
    """Optimisation settings. ``gamma`` sets the beta schedule: 15 epochs with gamma 7 end at beta 9.95,
    as the official 100 epochs with gamma 1 end at beta 10."""

    epochs: int = 15
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-6
    gamma: float = 7.0
    negatives: str = "random"
    vse_weight: float = 0.1
    margin: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.negatives not in NEGATIVE_KINDS:
            raise ValueError(f"negatives should be one of {NEGATIVE_KINDS}, got {self.negatives!r}")
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError(f"need epochs >= 1 and batch_size >= 2, got {self.epochs}, {self.batch_size}")


def random_mixtures(positives: np.ndarray, num_items: dict[str, int], slots: tuple[str, ...],
                    rng: np.random.Generator) -> np.ndarray:
    """For each positive row, the same user with uniformly random items in every slot."""
    negatives = positives.copy()
    for n, category in enumerate(slots):
        negatives[:, 1 + n] = rng.integers(0, num_items[category], len(positives))
    return negatives


def other_users_outfits(positives: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each positive row, the outfit of a random row of another user (vectorised redraws)."""
    picks = rng.integers(0, len(positives), len(positives))
    clash = positives[picks, 0] == positives[:, 0]
    while clash.any():
        picks[clash] = rng.integers(0, len(positives), int(clash.sum()))
        clash = positives[picks, 0] == positives[:, 0]
    negatives = positives[picks].copy()
    negatives[:, 0] = positives[:, 0]
    return negatives


def draw_negatives(positives: np.ndarray, num_items: dict[str, int], slots: tuple[str, ...], kind: str,
                   rng: np.random.Generator) -> np.ndarray:
    """Row-aligned negatives of ``kind`` in {'random', 'hard', 'both' (half of each, per row)}."""
    if kind == "random":
        return random_mixtures(positives, num_items, slots, rng)
    if kind == "hard":
        return other_users_outfits(positives, rng)
    use_hard = rng.random(len(positives)) < 0.5
    return np.where(use_hard[:, None], other_users_outfits(positives, rng),
                    random_mixtures(positives, num_items, slots, rng))


def fhn_loss(model: FashionHashNet, users: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
             config: FHNTrainConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """BPR on relaxed scores plus, with two modalities, the weighted visual-semantic loss."""
    pos_scores, pos_codes = model(users, positive)
    neg_scores, neg_codes = model(users, negative)
    rank = bpr_loss(pos_scores, neg_scores)
    parts = {"bpr": rank.item()}
    loss = rank
    if {"visual", "text"} <= set(model.modalities) and config.vse_weight > 0:
        dim = model.config.dim
        visual = torch.cat([pos_codes["visual"], neg_codes["visual"]], dim=1).reshape(-1, dim)
        text = torch.cat([pos_codes["text"], neg_codes["text"]], dim=1).reshape(-1, dim)
        vse = visual_semantic_loss(visual, text, config.margin)
        parts["vse"] = vse.item()
        loss = loss + config.vse_weight * vse
    return loss, parts


def train_fhn(model: FashionHashNet, positives: np.ndarray, num_items: dict[str, int],
              config: FHNTrainConfig, device: torch.device | str = "cpu",
              show_progress: bool = True) -> dict[str, list[float]]:
    """Train ``model`` on row-aligned positives ``user, item per slot``; returns per-epoch history."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: dict[str, list[float]] = {"loss": [], "bpr": [], "vse": [], "beta": []}
    for epoch in progress(range(config.epochs), desc="FHN", disable=not show_progress):
        beta = beta_schedule(epoch, config.gamma)
        model.set_beta(beta)
        model.train()
        negatives = draw_negatives(positives, num_items, model.config.slots, config.negatives, rng)
        order = rng.permutation(len(positives))
        totals: dict[str, float] = {"loss": 0.0, "bpr": 0.0, "vse": 0.0}
        for start in range(0, len(order), config.batch_size):
            rows = order[start:start + config.batch_size]
            users = torch.as_tensor(positives[rows, 0], device=device)
            pos = torch.as_tensor(positives[rows, 1:], device=device)
            neg = torch.as_tensor(negatives[rows, 1:], device=device)
            loss, parts = fhn_loss(model, users, pos, neg, config)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            totals["loss"] += loss.item() * len(rows)
            for name, value in parts.items():
                totals[name] += value * len(rows)
        for name, total in totals.items():
            history[name].append(total / len(positives))
        history["beta"].append(beta)
    model.eval()
    return history


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


SCORE_COLUMNS = ("AUC rand", "AUC hard", "NDCG fhn", "NDCG@10", "FITB")


def evaluate_scorer(score, data: PolyvoreU, split: str = "test") -> FHNScores:
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
        auc_hard=mean_user_auc(pos[:, 0], pos_scores, hard[:, 0], score(hard)) if hard is not None
        else float("nan"),
        ndcg_fhn=mean_user_ndcg(pos[:, 0], pos_scores, neg[:, 0], neg_scores, form="fhn"),
        ndcg_at_10=mean_user_ndcg(pos[:, 0], pos_scores, neg[:, 0], neg_scores, form="standard", k=10),
        fitb=fitb,
    )


def evaluate_fhn(model: FashionHashNet, data: PolyvoreU, binary: bool, split: str = "test") -> FHNScores:
    """Evaluate with binary codes (``sign``) or real-valued relaxed codes (``tanh(beta h)``)."""
    return evaluate_scorer(lambda tuples: model.score_tuples(tuples, binary=binary), data, split)


def save_checkpoint(model: FashionHashNet, path: str | Path) -> None:
    """Weights (beta included: it is a buffer) and the config, atomically."""
    buffer = io.BytesIO()
    torch.save({"config": asdict(model.config), "state": model.state_dict()}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> FashionHashNet:
    """A :class:`FashionHashNet` restored from :func:`save_checkpoint` (features come from the file)."""
    stored = torch.load(path, map_location=device, weights_only=False)
    config = FHNConfig(**stored["config"])
    state = stored["state"]
    features = {m: {c: state[f"features_{m}_{c}"] for c in dict.fromkeys(config.slots)}
                for m in config.feature_dims}
    model = FashionHashNet(config, features)
    model.load_state_dict(state)
    return model.to(device).eval()


@dataclass(frozen=True)
class FHNExperiment:
    """One run of the notebook-04 experiment: what to vary, with the defaults of the notebook."""

    dim: int = 64
    terms: str = "both"
    modalities: tuple[str, ...] = ("visual", "text")
    negatives: str = "random"
    relaxation: str = "tanh"
    epochs: int = 15
    gamma: float = 7.0
    vse_weight: float = 0.1
    seed: int = 0


def run_fhn_experiment(experiment: FHNExperiment, data: PolyvoreU,
                       features: dict[str, dict[str, np.ndarray]], device: torch.device | str = "cpu",
                       show_progress: bool = False) -> tuple[FashionHashNet, dict[str, FHNScores]]:
    """Build, train and evaluate one model; returns it and its real-valued and binary test scores."""
    torch.manual_seed(experiment.seed)
    config = FHNConfig(num_users=data.num_users, slots=data.slots, dim=experiment.dim, terms=experiment.terms,
                       relaxation=experiment.relaxation,
                       feature_dims={m: features[m][data.slots[0]].shape[1] for m in experiment.modalities})
    model = FashionHashNet(config, {m: features[m] for m in experiment.modalities})
    train_config = FHNTrainConfig(epochs=experiment.epochs, gamma=experiment.gamma,
                                  negatives=experiment.negatives, vse_weight=experiment.vse_weight,
                                  seed=experiment.seed)
    train_fhn(model, data.tuples["train"]["posi"], data.num_items, train_config, device, show_progress)
    return model, {"real-valued": evaluate_fhn(model, data, binary=False),
                   "binary": evaluate_fhn(model, data, binary=True)}
