"""Training Fashion Hash Net through the one loop (:func:`minirec.core.loop.fit`).

One epoch: the :class:`~minirec.hashing.relax.BetaSchedule` hook sets ``beta = sqrt(1 + gamma * epoch)``
in every code layer, fresh negatives are drawn (random mixtures of training items, other users'
training outfits, or both), and the step minimises ``BPR(relaxed scores) + vse_weight *
visual_semantic_loss`` over mini-batches.

The visual-semantic loss runs over the items of the batch's positive and negative outfits. For
outfits with two tops (``top, top, bottom, shoe``) the first top is left out, as in the official
code ("only use second top item ... to balance top category"): otherwise tops would make up half of
the items the loss compares, and the duplicated top of a one-top outfit would count twice.

Inside a process group (torchrun, :mod:`minirec.core.distributed`) :func:`train_fhn` trains data
parallel: each of the ``W`` processes takes ``batch_size / W`` outfits of every global batch, in an
order shared by all, draws its negatives from its own random stream, and the gradients are
averaged. The BPR loss is a mean over outfits, so its gradient is the one-process gradient of the
global batch; the visual-semantic loss compares the items of a process's own slice only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from minirec.core.distributed import Shard, current_shard, is_main, split_random_streams
from minirec.core.loop import Batch, History, fit, shuffled_batches
from minirec.core.runtime import numpy_generator
from minirec.data.errors import DataFormatError
from minirec.data.io import atomic_write_bytes, load_torch_file
from minirec.hashing.relax import BetaSchedule
from minirec.models.fhn import FashionHashNet, FHNConfig
from minirec.train.losses import bpr_loss, visual_semantic_loss

NEGATIVE_KINDS = ("random", "hard", "both")


@dataclass(frozen=True)
class FHNTrainConfig:
    """Optimisation settings. ``gamma`` sets the beta schedule: 6 epochs with gamma 19.8 end at beta 10,
    as the official 100 epochs with gamma 1 do."""

    epochs: int = 6
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-6
    gamma: float = 19.8
    negatives: str = "random"
    vse_weight: float = 0.1
    margin: float = 0.1

    def __post_init__(self) -> None:
        if self.negatives not in NEGATIVE_KINDS:
            raise ValueError(f"negatives should be one of {NEGATIVE_KINDS}, got {self.negatives!r}")
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError(f"need epochs >= 1 and batch_size >= 2, got {self.epochs}, {self.batch_size}")


def random_mixtures(
    positives: np.ndarray, num_items: dict[str, int], slots: tuple[str, ...], rng: np.random.Generator
) -> np.ndarray:
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


def draw_negatives(
    positives: np.ndarray,
    num_items: dict[str, int],
    slots: tuple[str, ...],
    kind: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """Row-aligned negatives of ``kind`` in {'random', 'hard', 'both' (half of each, per row)}."""
    if kind == "random":
        return random_mixtures(positives, num_items, slots, rng)
    if kind == "hard":
        return other_users_outfits(positives, rng)
    use_hard = rng.random(len(positives)) < 0.5
    return np.where(
        use_hard[:, None],
        other_users_outfits(positives, rng),
        random_mixtures(positives, num_items, slots, rng),
    )


def vse_slots(slots: tuple[str, ...]) -> list[int]:
    """Indices of the slots whose items enter the visual-semantic loss: all, except the first of two tops."""
    tops = [n for n, category in enumerate(slots) if category == "top"]
    if len(tops) == 2:
        return [n for n in range(len(slots)) if n != tops[0]]
    return list(range(len(slots)))


def vse_items(positive: torch.Tensor, negative: torch.Tensor, slots: tuple[str, ...]) -> torch.Tensor:
    """Codes ``(B * 2 * N', D)`` of the items the VSE loss compares, from ``(B, N, D)`` outfit codes."""
    keep = vse_slots(slots)
    if len(keep) < len(slots):
        positive, negative = positive[:, keep], negative[:, keep]
    return torch.cat([positive, negative], dim=1).reshape(-1, positive.shape[-1])


def fhn_loss(
    model: FashionHashNet,
    users: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    config: FHNTrainConfig,
) -> dict[str, torch.Tensor]:
    """``{"loss", "bpr"[, "vse"]}``: BPR on relaxed scores plus, with two modalities, the weighted VSE
    over the items of :func:`vse_slots` of the positive and the negative outfits."""
    pos_scores, pos_codes = model(users, positive)
    neg_scores, neg_codes = model(users, negative)
    losses = {"bpr": bpr_loss(pos_scores, neg_scores)}
    if {"visual", "text"} <= set(model.modalities) and config.vse_weight > 0:
        slots = model.config.slots
        visual = vse_items(pos_codes["visual"], neg_codes["visual"], slots)
        text = vse_items(pos_codes["text"], neg_codes["text"], slots)
        losses["vse"] = visual_semantic_loss(visual, text, config.margin)
    losses["loss"] = losses["bpr"] + config.vse_weight * losses["vse"] if "vse" in losses else losses["bpr"]
    return losses


def outfit_batches(
    positives: np.ndarray,
    num_items: dict[str, int],
    slots: tuple[str, ...],
    config: FHNTrainConfig,
    rng: np.random.Generator,
    device: torch.device | str,
    order: torch.Generator | None = None,
    shard: Shard | None = None,
) -> Iterator[Batch]:
    """One epoch of ``(users, positive outfits, negative outfits)`` batches with fresh negatives.

    The order comes from ``rng``; with a ``shard``, from the shared generator ``order``, and this
    process takes its slice of every batch (:func:`~minirec.core.loop.shuffled_batches`).
    """
    negatives = draw_negatives(positives, num_items, slots, config.negatives, rng)
    for rows in epoch_rows(len(positives), config.batch_size, rng, order, shard):
        yield (
            torch.as_tensor(positives[rows, 0], device=device),
            torch.as_tensor(positives[rows, 1:], device=device),
            torch.as_tensor(negatives[rows, 1:], device=device),
        )


def epoch_rows(
    size: int,
    batch_size: int,
    rng: np.random.Generator,
    order: torch.Generator | None,
    shard: Shard | None,
) -> Iterator[np.ndarray]:
    """The epoch's batches of row indices: from ``rng`` alone, or this process's shard of a shared order."""
    if shard is not None:
        for rows in shuffled_batches(size, batch_size, order, shard):
            yield rows.numpy()
        return
    permutation = rng.permutation(size)
    for start in range(0, size, batch_size):
        yield permutation[start : start + batch_size]


def train_fhn(
    model: FashionHashNet,
    positives: np.ndarray,
    num_items: dict[str, int],
    config: FHNTrainConfig,
    device: torch.device | str = "cpu",
    show_progress: bool = True,
) -> History:
    """Train ``model`` on row-aligned positives ``user, item per slot``; returns per-epoch history
    (``loss``, ``bpr``, ``vse`` with two modalities, ``beta``).

    In a process group every process calls this at once and trains on its shard of every batch
    (the module's docstring); they end with the same weights.
    """
    shard = current_shard()
    if shard is not None:
        shard.rows_per_batch(config.batch_size)  # a clear error before any work
    order = split_random_streams() if shard is not None else None
    rng = numpy_generator()  # after the split: each process's own negatives
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    slots = model.config.slots
    return fit(
        model,
        optimiser,
        batches=lambda epoch: outfit_batches(positives, num_items, slots, config, rng, device, order, shard),
        step=lambda batch: fhn_loss(model, batch[0], batch[1], batch[2], config),
        epochs=config.epochs,
        hooks=[BetaSchedule(config.gamma)],
        desc="FHN",
        show_progress=show_progress,
        distributed=shard is not None,
    )


def save_checkpoint(model: FashionHashNet, path: str | Path) -> None:
    """Weights (beta included: it is a buffer) and the config, atomically.

    In a process group only rank 0 writes (every process holds the same weights).
    """
    if not is_main():
        return
    buffer = io.BytesIO()
    torch.save({"config": asdict(model.config), "state": model.state_dict()}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> FashionHashNet:
    """A :class:`FashionHashNet` restored from :func:`save_checkpoint` (features come from the file)."""
    stored = load_torch_file(path, "a Fashion Hash Net checkpoint (save_checkpoint)", map_location=device)
    if not (isinstance(stored, dict) and isinstance(stored.get("config"), dict) and "state" in stored):
        raise DataFormatError(
            path, "expected a checkpoint {'config': ..., 'state': ...} from save_checkpoint"
        )
    try:
        config = FHNConfig(**stored["config"])
    except TypeError as err:
        raise DataFormatError(path, f"its config does not fit this minirec ({err})") from None
    state = stored["state"]
    features = {
        m: {c: state[f"features_{m}_{c}"] for c in dict.fromkeys(config.slots)} for m in config.feature_dims
    }
    model = FashionHashNet(config, features)
    model.load_state_dict(state)
    return model.to(device).eval()
