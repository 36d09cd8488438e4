"""Item features of an outfit dataset, computed once and cached: what notebooks 02-04 start from.

``fashion_features(data)`` returns ``features[modality][category]`` arrays (one row per item)
for the modalities ``visual``, ``text`` and ``category``:

- visual: a pretrained torchvision backbone when ``image_weights`` is given, else the pooled
  output of a :class:`~minirec.features.image.SmallCNN` pretrained on the item pictures alone,
  self-supervised (contrastive, SimCLR-style);
- text: a local ``transformers`` model when ``text_model`` is given, else a tiny BERT pretrained
  on the descriptions by masked-language modelling (saved with ``save_pretrained`` and loaded
  back through the real path);
- category: multi-hot ``category``, ``style``, ``colour`` and ``pattern`` attributes, when the
  data carry item attributes (``items_*.jsonl``; the real Polyvore-U release does not).

No encoder here sees an item attribute: the hidden attributes of the samples define their ground
truth, so they serve only as probe targets (:mod:`minirec.features.probe`, notebook 01).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from minirec.core.runtime import isolated_seed
from minirec.data.errors import DataFormatError
from minirec.data.pictures import check_same_size
from minirec.data.polyvore import CATEGORIES, PolyvoreU
from minirec.features.cache import FeatureCache, fingerprint_files
from minirec.features.categories import multi_hot, vocabulary_ids
from minirec.features.image import (
    extract_features,
    imagenet_preprocess,
    torchvision_backbone,
    train_contrastive_cnn,
)
from minirec.features.text import encode_texts, load_text_encoder, train_text_encoder

FEATURES_VERSION = 3  # bump when the feature code changes, so stale cache entries are not reused
ENCODER_SEED = 0  # the offline encoders' own seed: a cache entry depends on its key alone
MULTI_HOT_KEYS = ("category", "style", "colour", "pattern")


def item_images(data: PolyvoreU) -> torch.Tensor:
    """All item pictures, categories in order, as one ``(items, 3, H, W)`` tensor in [0, 1]."""
    paths = [data.image_path(c, i) for c in CATEGORIES for i in range(data.num_items[c])]
    pictures = [data.load_image(c, i) for c in CATEGORIES for i in range(data.num_items[c])]
    check_same_size(paths, pictures)
    return torch.stack([torch.from_numpy(p).permute(2, 0, 1).float().div(255.0) for p in pictures])


def item_records(data: PolyvoreU) -> list[dict]:
    """Every item's record (``text``, ``attributes``), categories in order, from ``items_*.jsonl``."""
    if set(data.items) != set(CATEGORIES):
        raise ValueError(
            f"{data.root}: the offline text encoder needs items_<category>.jsonl with the item texts "
            "(the sample has them); pass text_model for data without them"
        )
    return [r for c in CATEGORIES for r in data.items[c]]


def split_by_category(rows: np.ndarray, data: PolyvoreU) -> dict[str, np.ndarray]:
    bounds = np.cumsum([data.num_items[c] for c in CATEGORIES])[:-1]
    return dict(zip(CATEGORIES, np.split(rows, bounds), strict=True))


def data_fingerprint(data: PolyvoreU) -> str:
    files = [data.root / f"image_list_{c}" for c in CATEGORIES]
    files += [data.root / f"items_{c}.jsonl" for c in CATEGORIES if c in data.items]
    files += [data.image_path(c, i) for c in CATEGORIES for i in range(data.num_items[c])]
    return fingerprint_files(files)


def compute_visual(
    data: PolyvoreU, image_backbone: str | None, image_weights: str | Path | None, device: torch.device | str
) -> np.ndarray:
    images = item_images(data)
    if image_weights is not None:
        backbone, _ = torchvision_backbone(image_backbone or "vgg16", image_weights)
        return extract_features(backbone, imagenet_preprocess(images), batch_size=32, device=device).numpy()
    encoder, _ = train_contrastive_cnn(images, device=device)
    return extract_features(encoder, images, device=device).numpy()


def compute_text(
    data: PolyvoreU, text_model: str | Path | None, cache: FeatureCache, device: torch.device | str
) -> np.ndarray:
    records = item_records(data)
    texts = [r["text"] for r in records]
    if text_model is None:
        text_model = cache.root / "text-encoder"
        train_text_encoder(texts, save_to=text_model, device=device)
    tokenizer, model = load_text_encoder(text_model, device=device)
    return encode_texts(tokenizer, model, texts, device=device).numpy()


def seeded(compute: Callable[[], dict[str, np.ndarray]]) -> Callable[[], dict[str, np.ndarray]]:
    """``compute`` run under :data:`ENCODER_SEED`, leaving the caller's random state untouched:
    features are the same whoever asks first, and a cache hit or miss changes nothing downstream."""

    def run() -> dict[str, np.ndarray]:
        with isolated_seed(ENCODER_SEED):
            return compute()

    return run


def check_attribute_keys(data: PolyvoreU) -> None:
    """Every item record carries the attributes the multi-hot table is built from (before any work)."""
    for category, records in data.items.items():
        for index, record in enumerate(records):
            missing = [k for k in MULTI_HOT_KEYS if k not in record["attributes"]]
            if missing:
                raise DataFormatError(
                    data.root / f"items_{category}.jsonl",
                    f"item {index}: attributes lack {missing}; expected {list(MULTI_HOT_KEYS)}",
                    line=index + 1,
                )


def environment_key(device: torch.device | str) -> dict:
    """What trained features depend on besides the data: code version, torch, device, CPU threads.

    Training on the CPU is deterministic for a given number of threads, but a different thread
    count sums in a different order and the epochs amplify the difference, so it is part of the key.
    """
    return {
        "version": FEATURES_VERSION,
        "seed": ENCODER_SEED,
        "torch": torch.__version__,
        "device": torch.device(device).type,
        "threads": torch.get_num_threads(),
    }


def fashion_features(
    data: PolyvoreU,
    cache: FeatureCache | None = None,
    image_backbone: str | None = None,
    image_weights: str | Path | None = None,
    text_model: str | Path | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, dict[str, np.ndarray]]:
    """``features[modality][category]``: float32 arrays, one row per item, cached on disk."""
    check_attribute_keys(data)
    cache = cache or FeatureCache()
    key = {"data": data_fingerprint(data)} | environment_key(device)
    visual = cache.load_or_compute(
        "fashion-visual",
        key | {"backbone": image_backbone, "weights": str(image_weights)},
        seeded(lambda: {"rows": compute_visual(data, image_backbone, image_weights, device)}),
    )["rows"]
    text = cache.load_or_compute(
        "fashion-text",
        key | {"text_model": str(text_model)},
        seeded(lambda: {"rows": compute_text(data, text_model, cache, device)}),
    )["rows"]
    tables = {"visual": visual, "text": text}
    if set(data.items) == set(CATEGORIES):
        ids, vocabulary = vocabulary_ids([r["attributes"] for r in item_records(data)], MULTI_HOT_KEYS)
        tables["category"] = multi_hot(ids, len(vocabulary))
    return {name: split_by_category(rows.astype(np.float32), data) for name, rows in tables.items()}


def shopping_features(
    sample,
    cache: FeatureCache | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, np.ndarray]:
    """``{image, text, category}``: ``(num_items + 1, F)`` tables for the shopping sample (row 0 = padding).

    Image and text encoders are pretrained offline as for the outfits, on the product pictures
    and titles alone (contrastive and masked-language modelling); categories are the multi-hot
    ``item2attributes``. Nothing here reads the hidden truth.
    """
    cache = cache or FeatureCache()
    items = range(1, sample.num_items + 1)
    files = [sample.root / "meta.jsonl", sample.root / "item_list.txt"]
    pictures = [sample.root / sample.meta[name].image_url for name in sample.item_names]
    key = {"data": fingerprint_files(files + pictures)} | environment_key(device)

    def image_rows() -> dict[str, np.ndarray]:
        pictures = [sample.image(i) for i in items]
        check_same_size([sample.image_path(i) for i in items], pictures)
        images = torch.stack([torch.from_numpy(p).permute(2, 0, 1).float() / 255 for p in pictures])
        encoder, _ = train_contrastive_cnn(images, device=device)
        return {"rows": extract_features(encoder, images, device=device).numpy()}

    def text_rows() -> dict[str, np.ndarray]:
        titles = [sample.title(i) for i in items]
        folder = cache.root / "shopping-text-encoder"
        train_text_encoder(titles, save_to=folder, device=device)
        tokenizer, model = load_text_encoder(folder, device=device)
        return {"rows": encode_texts(tokenizer, model, titles, device=device).numpy()}

    image = cache.load_or_compute("shopping-image", key, seeded(image_rows))["rows"]
    text = cache.load_or_compute("shopping-text", key, seeded(text_rows))["rows"]
    category = multi_hot(
        [[a - 1 for a in sample.item_attributes.get(i, [])] for i in items], len(sample.attribute_names)
    )
    pad = lambda rows: np.vstack([np.zeros((1, rows.shape[1]), np.float32), rows.astype(np.float32)])  # noqa: E731
    return {"image": pad(image), "text": pad(text), "category": pad(category)}
