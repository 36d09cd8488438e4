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
    BRANDS,
    LEAVES,
    STYLE_LABEL_RGB,
    STYLES,
    CatalogueTruth,
    oracle_next_item_probabilities,
    zipf_popularity,
)

START_TIME = 1356998400  # 2013-01-01 00:00:00 UTC
DAY = 86400


@dataclass(frozen=True)
class ShoppingConfig:
    """Sizes and knobs of the synthetic shopping data; defaults give the committed sample."""

    seed: int = 2024
    items: int = 800
    users: int = 1500
    min_length: int = 5
    extra_length_stop: float = 0.14  # lengths: min_length + Geometric(stop) - 1, capped
    max_length: int = 40
    style_drift: float = 0.1  # chance per purchase that the hidden style is redrawn
    popularity_exponent: float = 0.7
    second_path_probability: float = 0.15  # items listed under two category paths
    image_size: int = 32


STYLE_WORDS = {
    "natural": ("Organic", "Botanical", "Pure"),
    "luxury": ("Prestige", "Silk", "Gold"),
    "clinical": ("Fragrance-Free", "Dermatologist-Tested", "Sensitive"),
    "playful": ("Glitter", "Neon", "Bubblegum"),
}
LEAF_WORDS = {
    "Cleanser": ("Foaming Cleanser", "Face Wash", "Gel Cleanser"),
    "Toner": ("Toner", "Balancing Toner", "Essence"),
    "Moisturizer": ("Moisturizer", "Day Cream", "Hydrating Cream"),
    "Foundation": ("Foundation", "Liquid Foundation", "Skin Tint"),
    "Eyeshadow": ("Eyeshadow Palette", "Eye Palette", "Shadow Quad"),
    "Lipstick": ("Lipstick", "Lip Colour", "Matte Lipstick"),
    "Perfume": ("Eau de Parfum", "Perfume", "Parfum"),
    "Body Mist": ("Body Mist", "Body Spray", "Fragrance Mist"),
    "Shampoo": ("Shampoo", "Clarifying Shampoo", "Daily Shampoo"),
    "Conditioner": ("Conditioner", "Detangling Conditioner", "Hair Mask"),
    "Hair Oil": ("Hair Oil", "Argan Oil", "Hair Serum"),
    "Cologne": ("Eau de Toilette", "Cologne", "Eau Fraîche"),
}
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
        brand, style, _ = BRANDS[int(rng.integers(len(BRANDS)))]
        department, leaf_name, _ = LEAVES[leaf]
        paths = [["Beauty", department, leaf_name]]
        if rng.random() < config.second_path_probability:
            other = LEAVES[int(rng.integers(len(LEAVES)))]
            if other[1] != leaf_name:
                paths.append(["Beauty", other[0], other[1]])
        title = " ".join(
            [brand, pick(rng, STYLE_WORDS[style]), pick(rng, LEAF_WORDS[leaf_name]), pick(rng, SIZES)]
        )
        asin = _random_code(rng, "B00", 7, taken)
        meta = ItemMeta(
            asin=asin,
            title=title,
            brand=brand,
            categories=tuple(tuple(p) for p in paths),
            image_url=f"images/{asin}.png",
        )
        rows.append((asin, meta, leaf, STYLES.index(style), int(ranks[index])))
    rows.sort(key=lambda row: row[0])
    truth = CatalogueTruth(
        leaf=np.array([r[2] for r in rows], np.int64),
        style=np.array([r[3] for r in rows], np.int64),
        popularity=zipf_popularity(np.array([r[4] for r in rows]), config.popularity_exponent),
    )
    return [r[1] for r in rows], truth


def sample_user_sequence(
    config: ShoppingConfig, truth: CatalogueTruth, rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    """One user's purchases (catalogue indices) and hidden style at each step."""
    extra = int(rng.geometric(config.extra_length_stop)) - 1
    length = min(config.min_length + extra, config.max_length)
    style = int(rng.integers(len(STYLES)))
    items = [draw_index(truth.choice_weights(style), rng)]
    styles = [style]
    while len(items) < length:
        if rng.random() < config.style_drift:
            style = int(rng.integers(len(STYLES)))
        probabilities = oracle_next_item_probabilities(truth, items[-1], style, np.array(items))
        items.append(draw_index(probabilities, rng))
        styles.append(style)
    return items, styles


def generate_shopping(root: str | Path, config: ShoppingConfig = ShoppingConfig()) -> None:
    """Write the whole shopping sample under ``root`` (deterministic in ``config``)."""
    root = Path(root)
    rng = np.random.default_rng(config.seed)
    catalogue, truth = sample_catalogue(config, rng)
    brand_rgb = {name: rgb for name, _, rgb in BRANDS}
    for index, meta in enumerate(catalogue):
        style = STYLES[int(truth.style[index])]
        shape = LEAVES[int(truth.leaf[index])][2]
        pixels = draw_product(
            shape, brand_rgb[meta.brand], STYLE_LABEL_RGB[style], rng, size=config.image_size
        )
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
    user_styles: dict[str, list[int]] = {}
    for _ in range(config.users):
        user = _random_code(rng, "A", 13, taken)
        items, styles = sample_user_sequence(config, truth, rng)
        time = START_TIME + int(rng.integers(0, 365 * DAY))
        for item in items:
            reviews.append(Review(user=user, item=catalogue[item].asin, time=time))
            time += int(rng.integers(DAY, 45 * DAY))
        user_styles[user] = styles
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
                    "style": int(truth.style[i]),
                    "popularity": float(truth.popularity[i]),
                }
                for i, m in enumerate(catalogue)
            },
            "user_styles": user_styles,
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
| `truth.json` | hidden item leaf, style and popularity, each user's hidden style per step |

{users} users, {items} items; each user buys at least {min_length} items. The next purchase follows
`minirec.data.shopping_world`: a Markov chain over product categories, a slowly drifting hidden
style (redrawn with probability {style_drift} per step) and Zipf popularity (exponent
{popularity_exponent}), never repeating an item. The sequence files are derived from
`reviews.jsonl` and `meta.jsonl` by `minirec.data.amazon.reviews_to_sequences`.
"""
