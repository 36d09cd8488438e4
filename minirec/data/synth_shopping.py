"""Seeded generator of the Amazon-style sample shopping sequences (``data_samples/shopping``).

Writes the raw Amazon layout (``reviews.jsonl``, ``meta.jsonl``, one picture per product) and
derives the one-line-per-user sequence files from it with the same converter that real data
goes through (:func:`minirec.data.amazon.reviews_to_sequences`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from minirec.data.amazon import ItemMeta, Review, reviews_to_sequences, write_sequence_files
from minirec.data.draw import draw_product
from minirec.data.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
)
from minirec.data.png import encode_png
from minirec.data.sampling import draw_index, pick
from minirec.data.shopping_world import (
    INGREDIENT_NAMES,
    INGREDIENTS,
    LEAVES,
    PALETTE_NAMES,
    PALETTES,
    SHAPES,
    CatalogueTruth,
    ShopperTaste,
    oracle_next_item_probabilities,
    zipf_popularity,
)

START_TIME = 1356998400  # 2013-01-01 00:00:00 UTC
DAY = 86400


@dataclass(frozen=True)
class ShoppingConfig:
    """Sizes and knobs of the synthetic shopping data; defaults give the committed sample."""

    seed: int = 2024
    items: int = 2000
    users: int = 3000
    min_length: int = 5
    extra_length_stop: float = 0.14  # lengths: min_length + Geometric(stop) - 1, capped
    max_length: int = 40
    taste_drift: float = 0.05  # chance per purchase that each hidden favourite is redrawn
    popularity_exponent: float = 0.8
    second_path_probability: float = 0.15  # items listed under two category paths
    image_size: int = 32


BRANDS: tuple[str, ...] = (
    "Fernleaf", "Mossé", "Greenwell", "Aurelle", "Maison Doré", "Velour",
    "DermaLab", "Purecell", "Clinix", "Pop Pixie", "Glitterbug", "Jellybean",
)  # fmt: skip
#: Product lines: title words that say nothing about the leaf, palette or ingredient.
LINES = ("Daily", "Classic", "Signature", "Essentials", "Pro", "Studio")
LABEL_RGB = ((250, 250, 250), (210, 210, 210), (40, 40, 40))
SIZES = ("15 ml", "30 ml", "50 ml", "100 ml", "200 ml")
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _random_code(rng: np.random.Generator, prefix: str, length: int, taken: set[str]) -> str:
    while True:
        code = prefix + "".join(_ID_ALPHABET[int(i)] for i in rng.integers(0, 36, length))
        if code not in taken:
            taken.add(code)
            return code


def sample_catalogue(
    config: ShoppingConfig, rng: np.random.Generator
) -> tuple[list[ItemMeta], CatalogueTruth]:
    """Items sorted by ASIN, with their metadata and hidden truth (same order)."""
    taken: set[str] = set()
    rows = []
    ranks = rng.permutation(config.items) + 1
    for index in range(config.items):
        leaf = int(rng.integers(len(LEAVES)))
        palette = int(rng.integers(len(PALETTE_NAMES)))
        ingredient = int(rng.integers(len(INGREDIENT_NAMES)))
        brand = pick(rng, BRANDS)
        department, leaf_name = LEAVES[leaf]
        paths = [["Beauty", department, leaf_name]]
        if rng.random() < config.second_path_probability:
            other = LEAVES[int(rng.integers(len(LEAVES)))]
            if other[1] != leaf_name:
                paths.append(["Beauty", other[0], other[1]])
        words = INGREDIENTS[INGREDIENT_NAMES[ingredient]]
        title = " ".join([brand, pick(rng, LINES), pick(rng, words), pick(rng, SIZES)])
        asin = _random_code(rng, "B00", 7, taken)
        meta = ItemMeta(
            asin=asin,
            title=title,
            brand=brand,
            categories=tuple(tuple(p) for p in paths),
            image_url=f"images/{asin}.png",
        )
        rows.append((asin, meta, leaf, palette, ingredient, int(ranks[index])))
    rows.sort(key=lambda row: row[0])
    truth = CatalogueTruth(
        leaf=np.array([r[2] for r in rows], np.int64),
        palette=np.array([r[3] for r in rows], np.int64),
        ingredient=np.array([r[4] for r in rows], np.int64),
        popularity=zipf_popularity(np.array([r[5] for r in rows]), config.popularity_exponent),
    )
    return [r[1] for r in rows], truth


def random_taste(rng: np.random.Generator) -> ShopperTaste:
    return ShopperTaste(int(rng.integers(len(PALETTE_NAMES))), int(rng.integers(len(INGREDIENT_NAMES))))


def drift(taste: ShopperTaste, probability: float, rng: np.random.Generator) -> ShopperTaste:
    """Each favourite is redrawn (possibly to the same value) with ``probability``."""
    palette, ingredient = taste.palette, taste.ingredient
    if rng.random() < probability:
        palette = int(rng.integers(len(PALETTE_NAMES)))
    if rng.random() < probability:
        ingredient = int(rng.integers(len(INGREDIENT_NAMES)))
    return ShopperTaste(palette, ingredient)


def sample_user_sequence(
    config: ShoppingConfig, truth: CatalogueTruth, rng: np.random.Generator
) -> tuple[list[int], list[ShopperTaste]]:
    """One user's purchases (catalogue indices) and hidden taste at each step."""
    extra = int(rng.geometric(config.extra_length_stop)) - 1
    length = min(config.min_length + extra, config.max_length)
    taste = random_taste(rng)
    items = [draw_index(truth.choice_weights(taste), rng)]
    tastes = [taste]
    while len(items) < length:
        taste = drift(taste, config.taste_drift, rng)
        probabilities = oracle_next_item_probabilities(truth, items[-1], taste, np.array(items))
        items.append(draw_index(probabilities, rng))
        tastes.append(taste)
    return items, tastes


def generate_shopping(root: str | Path, config: ShoppingConfig = ShoppingConfig()) -> None:
    """Write the whole shopping sample under ``root`` (deterministic in ``config``)."""
    root = Path(root)
    rng = np.random.default_rng(config.seed)
    catalogue, truth = sample_catalogue(config, rng)
    for index, meta in enumerate(catalogue):
        colours = PALETTES[PALETTE_NAMES[int(truth.palette[index])]]
        colour, label = colours[int(rng.integers(len(colours)))], LABEL_RGB[int(rng.integers(len(LABEL_RGB)))]
        pixels = draw_product(pick(rng, SHAPES), colour, label, rng, size=config.image_size)
        atomic_write_bytes(root / meta.image_url, encode_png(pixels))
    atomic_write_jsonl(
        root / "meta.jsonl",
        [
            {
                "asin": m.asin,
                "title": m.title,
                "brand": m.brand,
                "categories": [list(p) for p in m.categories],
                "imUrl": m.image_url,
            }
            for m in catalogue
        ],
    )
    taken: set[str] = set()
    reviews: list[Review] = []
    user_tastes: dict[str, list[list[int]]] = {}
    for _ in range(config.users):
        user = _random_code(rng, "A", 13, taken)
        items, tastes = sample_user_sequence(config, truth, rng)
        time = START_TIME + int(rng.integers(0, 365 * DAY))
        for item in items:
            reviews.append(Review(user=user, item=catalogue[item].asin, time=time))
            time += int(rng.integers(DAY, 45 * DAY))
        user_tastes[user] = [[t.palette, t.ingredient] for t in tastes]
    reviews.sort(key=lambda r: (r.user, r.time))
    ratings = rng.integers(3, 6, len(reviews))
    atomic_write_jsonl(
        root / "reviews.jsonl",
        [
            {"reviewerID": r.user, "asin": r.item, "unixReviewTime": r.time, "overall": int(s)}
            for r, s in zip(reviews, ratings, strict=True)
        ],
    )
    metadata = {m.asin: m for m in catalogue}
    write_sequence_files(
        reviews_to_sequences(reviews, metadata, min_user=config.min_length), root, name="sequences"
    )
    atomic_write_json(
        root / "truth.json",
        {
            "config": asdict(config),
            "items": {
                m.asin: {
                    "leaf": int(truth.leaf[i]),
                    "palette": int(truth.palette[i]),
                    "ingredient": int(truth.ingredient[i]),
                    "popularity": float(truth.popularity[i]),
                }
                for i, m in enumerate(catalogue)
            },
            "user_tastes": user_tastes,
        },
    )
    atomic_write_text(root / "README.md", SHOPPING_README.format(**asdict(config)))


SHOPPING_README = """\
# Synthetic shopping sequences (Amazon layout)

Generated by `python -m minirec.data.generate` (seed {seed}); do not edit by hand.

| file | content |
|---|---|
| `reviews.jsonl` | one purchase per line: `reviewerID`, `asin`, `unixReviewTime`, `overall` |
| `meta.jsonl` | one product per line: `asin`, `title`, `brand`, `categories` (paths), `imUrl` |
| `images/<asin>.png` | {image_size}x{image_size} RGB product pictures, drawn procedurally |
| `sequences.txt` | `uid i1 i2 ...` per line, time order, 1-based ids (SASRec / S3-Rec format) |
| `sequences_item2attributes.json` | `{{"item id": [attribute ids]}}`: category names and brand |
| `user_list.txt`, `item_list.txt`, `attribute_list.txt` | line *k* = name of id *k* |
| `truth.json` | hidden item leaf, palette, ingredient and popularity; each user's hidden taste per step |

{users} users, {items} items; each user buys at least {min_length} items. The next purchase follows
`minirec.data.shopping_world`: a Markov chain over product categories (shown by the category
paths), a hidden favourite packaging palette (shown only by the pictures) and a favourite
ingredient (shown only by the titles), each redrawn with probability {taste_drift} per step, and
Zipf popularity (exponent {popularity_exponent}), never repeating an item. The sequence files are
derived from `reviews.jsonl` and `meta.jsonl` by `minirec.data.amazon.reviews_to_sequences`.
"""
