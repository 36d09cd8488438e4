"""Seeded generator of the Polyvore-U style sample outfits (``data_samples/fashion``).

The story: every item has a style (its silhouette), a colour and a pattern, all shown in its
picture and named in its description; users have hidden tastes for styles and colours; pairs of
items follow hidden compatibility rules; an outfit is liked with probability proportional to
``exp(score / temperature)`` where ``score`` is the rule-based oracle of
:mod:`minirec.data.fashion_world`. Files follow the Polyvore-U layout so
the same loaders read the real data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from minirec.data.draw import draw_garment
from minirec.data.fashion_world import (
    CATEGORIES,
    COLOUR_GRADES,
    COLOURS,
    PATTERNS,
    STYLE_GRADES,
    STYLES,
    FashionOracle,
    Item,
    UserTaste,
)
from minirec.data.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
)
from minirec.data.png import encode_png
from minirec.data.sampling import draw_without_replacement, pick

SPLITS = ("train", "val", "test")
TUPLE_HEADER = "user,top,bottom,shoe"
FITB_HEADER = ",".join([TUPLE_HEADER] * 4)


@dataclass(frozen=True)
class FashionConfig:
    """Sizes and knobs of the synthetic outfits; defaults give the committed sample."""

    seed: int = 2019
    items_per_category: int = 200
    users: int = 120
    train_per_user: int = 50
    val_per_user: int = 5
    test_per_user: int = 10
    candidates_per_user: int = 3000
    temperature: float = 1.5
    image_size: int = 48


COLOUR_WORDS = {
    "black": ("black", "jet black", "ebony"),
    "white": ("white", "ivory", "off-white"),
    "grey": ("grey", "charcoal", "heather grey"),
    "navy": ("navy", "dark blue", "midnight blue"),
    "red": ("red", "scarlet", "crimson"),
    "yellow": ("yellow", "mustard", "lemon"),
    "green": ("green", "emerald", "olive"),
    "pink": ("pink", "rose", "blush"),
}
PATTERN_WORDS = {
    "solid": ("", "plain", "solid"),
    "striped": ("striped", "stripy", "pinstriped"),
    "dotted": ("polka-dot", "dotted", "spotted"),
    "checked": ("checked", "plaid", "gingham"),
}
SHAPE_WORDS = {
    "t-shirt": ("t-shirt", "tee", "crew-neck tee"),
    "shirt": ("shirt", "button-down shirt", "oxford shirt"),
    "tank top": ("tank top", "sports vest", "racerback tank"),
    "blouse": ("blouse", "peasant blouse", "flowy top"),
    "jeans": ("jeans", "denim trousers", "straight-leg jeans"),
    "pencil skirt": ("pencil skirt", "tailored skirt", "midi skirt"),
    "shorts": ("shorts", "running shorts", "gym shorts"),
    "maxi skirt": ("maxi skirt", "tiered skirt", "flowing skirt"),
    "sneakers": ("sneakers", "trainers", "canvas shoes"),
    "heels": ("heels", "pumps", "court shoes"),
    "running shoes": ("running shoes", "runners", "training shoes"),
    "boots": ("boots", "ankle boots", "suede boots"),
}
STYLE_WORDS = {
    "casual": ("relaxed", "everyday", "easy-going"),
    "formal": ("tailored", "elegant", "office"),
    "sporty": ("athletic", "performance", "gym-ready"),
    "boho": ("bohemian", "festival", "free-spirited"),
}


def describe_item(item: Item, rng: np.random.Generator) -> str:
    """A templated product description with synonyms, e.g. 'elegant scarlet gingham pumps'."""
    record = item.as_record()
    colour = pick(rng, COLOUR_WORDS[record["colour"]])
    pattern = pick(rng, PATTERN_WORDS[record["pattern"]])
    shape = pick(rng, SHAPE_WORDS[record["shape"]])
    style = pick(rng, STYLE_WORDS[record["style"]])
    template = int(rng.integers(3))
    if template == 0:
        words = [colour, pattern, shape]
    elif template == 1:
        words = [style, colour, pattern, shape]
    else:
        words = [pattern, shape, "in", colour]
    return " ".join(w for w in words if w)


def sample_items(config: FashionConfig, rng: np.random.Generator) -> dict[str, list[Item]]:
    """Items per category: uniform style and colour; half the items are solid."""
    items: dict[str, list[Item]] = {}
    for c, category in enumerate(CATEGORIES):
        items[category] = []
        for _ in range(config.items_per_category):
            style = int(rng.integers(len(STYLES)))
            colour = int(rng.integers(len(COLOURS)))
            pattern = 0 if rng.random() < 0.5 else int(rng.integers(1, len(PATTERNS)))
            items[category].append(Item(category=c, style=style, colour=colour, pattern=pattern))
    return items


def sample_tastes(config: FashionConfig, rng: np.random.Generator) -> list[UserTaste]:
    """Each user ranks the styles and the colours at random and gives them the fixed grades.

    Style ``s`` gets ``STYLE_GRADES[order[s]]`` for a random permutation ``order`` (+3 for the
    favourite down to -3), and likewise the colours with ``COLOUR_GRADES`` (+3, +2, +1 for three
    liked colours, -1, -2, -3 for three disliked ones, 0 for the other two).
    """
    style_grades, colour_grades = np.array(STYLE_GRADES), np.array(COLOUR_GRADES)
    tastes = []
    for _ in range(config.users):
        style_points = style_grades[rng.permutation(len(STYLES))]
        colour_points = colour_grades[rng.permutation(len(COLOURS))]
        tastes.append(UserTaste(tuple(int(p) for p in style_points), tuple(int(p) for p in colour_points)))
    return tastes


def _random_outfits(config: FashionConfig, rng: np.random.Generator, user: int, n: int) -> np.ndarray:
    outfits = np.empty((n, 4), np.int64)
    outfits[:, 0] = user
    outfits[:, 1:] = rng.integers(0, config.items_per_category, (n, 3))
    return outfits


def sample_positives(
    config: FashionConfig, oracle: FashionOracle, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per-user liked outfits, split into train/val/test (rows ``user,top,bottom,shoe``).

    Each user's outfits are drawn without replacement from ``candidates_per_user`` random
    outfits with probability proportional to ``exp(score / temperature)`` (importance
    resampling of the oracle's distribution). The split follows the order of the draws, so the
    first (likeliest) outfits are for training and the test outfits are a little less typical.
    """
    per_user = config.train_per_user + config.val_per_user + config.test_per_user
    exp_of = {}  # exact, platform-independent weights for the integer scores
    splits: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    bounds = np.cumsum([config.train_per_user, config.val_per_user])
    for user in range(config.users):
        candidates = _random_outfits(config, rng, user, config.candidates_per_user)
        scores = oracle.score(candidates)
        for s in np.unique(scores):
            exp_of.setdefault(int(s), math.exp(int(s) / config.temperature))
        weights = np.array([exp_of[int(s)] for s in scores])
        liked = candidates[draw_without_replacement(weights, per_user, rng)]
        for split, part in zip(SPLITS, np.split(liked, bounds), strict=True):
            splits[split].append(part)
    return {split: np.concatenate(parts) for split, parts in splits.items()}


def random_negatives(config: FashionConfig, positives: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random mixture of items per positive row, same user (row-aligned)."""
    negatives = positives.copy()
    negatives[:, 1:] = rng.integers(0, config.items_per_category, (len(positives), 3))
    return negatives


def hard_negatives(positives: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each positive row, another user's positive outfit of the same split (row-aligned)."""
    negatives = positives.copy()
    for row, user in enumerate(positives[:, 0]):
        other = int(rng.integers(len(positives)))
        while positives[other, 0] == user:
            other = int(rng.integers(len(positives)))
        negatives[row, 1:] = positives[other, 1:]
    return negatives


def fill_in_the_blank(config: FashionConfig, positives: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One question per test outfit: the outfit, then 3 copies with one slot swapped at random.

    Returns ``(questions, 4, 4)`` outfits ``user,top,bottom,shoe``, the true one first (the
    layout of the official ``fill_in_blank_test``).
    """
    questions = np.repeat(positives[:, None, :], 4, axis=1)
    for row, outfit in enumerate(positives):
        blank = 1 + int(rng.integers(3))
        distractors: list[int] = []
        while len(distractors) < 3:
            item = int(rng.integers(config.items_per_category))
            if item != outfit[blank] and item not in distractors:
                distractors.append(item)
        questions[row, 1:, blank] = distractors
    return questions


def _csv(header: str, rows: np.ndarray) -> str:
    return "\n".join([header, *(",".join(str(int(v)) for v in row) for row in rows)]) + "\n"


def generate_fashion(root: str | Path, config: FashionConfig = FashionConfig()) -> None:
    """Write the whole fashion sample under ``root`` (deterministic in ``config``)."""
    root = Path(root)
    rng = np.random.default_rng(config.seed)
    items = sample_items(config, rng)
    tastes = sample_tastes(config, rng)
    oracle = FashionOracle(items, tastes)
    for category in CATEGORIES:
        records, paths = [], []
        for index, item in enumerate(items[category]):
            record = item.as_record()
            path = f"images/{category}/{index:04d}.png"
            pixels = draw_garment(
                category, record["shape"], record["colour"], record["pattern"], rng, size=config.image_size
            )
            atomic_write_bytes(root / path, encode_png(pixels))
            paths.append(path)
            records.append(
                {"id": index, "image": path, "text": describe_item(item, rng), "attributes": record}
            )
        atomic_write_text(root / f"image_list_{category}", "\n".join(paths) + "\n")
        atomic_write_jsonl(root / f"items_{category}.jsonl", records)
    positives = sample_positives(config, oracle, rng)
    for split in SPLITS:
        posi = positives[split]
        tables = {
            "posi": posi,
            "nega": random_negatives(config, posi, rng),
            "nega_hard": hard_negatives(posi, rng),
        }
        for kind, rows in tables.items():
            atomic_write_text(root / f"tuples_{split}_{kind}", _csv(TUPLE_HEADER, rows))
    questions = fill_in_the_blank(config, positives["test"], rng)
    atomic_write_text(root / "fill_in_blank_test", _csv(FITB_HEADER, questions.reshape(len(questions), -1)))
    atomic_write_json(
        root / "truth.json",
        {
            "config": asdict(config),
            "users": [
                {"style_points": list(t.style_points), "colour_points": list(t.colour_points)} for t in tastes
            ],
        },
    )
    atomic_write_text(root / "README.md", FASHION_README.format(**asdict(config)))


FASHION_README = """\
# Synthetic fashion outfits (Polyvore-U layout)

Generated by `python -m minirec.data.generate` (seed {seed}); do not edit by hand.

| file | content |
|---|---|
| `image_list_{{top,bottom,shoe}}` | line *i* = image of item *i* of that category |
| `images/<category>/NNNN.png` | {image_size}x{image_size} RGB pictures, drawn procedurally |
| `items_<category>.jsonl` | line *i* = item *i*: `id`, `image`, `text` (description), `attributes` |
| `tuples_<split>_posi` | liked outfits, CSV with header `user,top,bottom,shoe` |
| `tuples_<split>_nega` | negatives: random mixtures of items, row-aligned with the positives |
| `tuples_<split>_nega_hard` | negatives: another user's liked outfit, row-aligned |
| `fill_in_blank_test` | fill in the blank: 4 outfits per line differing in one slot, the true one first |
| `truth.json` | hidden tastes of the users and the generator settings (for oracle scores) |

{users} users, {items_per_category} items per category; per user {train_per_user} train, \
{val_per_user} val and {test_per_user} test outfits. An outfit is liked with probability
proportional to `exp(score / {temperature})`, where `score` (from `minirec.data.fashion_world`)
adds each user's points for the items' styles and colours (the user's taste) to the
compatibility points of every pair of items (style, colour, pattern and palette rules).
"""
