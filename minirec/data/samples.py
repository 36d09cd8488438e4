"""The committed sample datasets, loaded together with their hidden ground truth.

``data_samples/`` sits next to the package in a checkout; set ``MINIREC_DATA`` to use
another copy (for instance one regenerated with different settings).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minirec.data import fashion_world as fw
from minirec.data.amazon import ItemMeta, read_metadata
from minirec.data.io import iter_text_lines
from minirec.data.pictures import read_picture
from minirec.data.polyvore import PolyvoreU
from minirec.data.sequences import LeaveOneOut, read_item_attributes, read_sequences
from minirec.data.shopping_world import CatalogueTruth, ShopperTaste


def samples_root() -> Path:
    """``$MINIREC_DATA`` if set, else ``data_samples/`` of the checkout."""
    return Path(os.environ.get("MINIREC_DATA") or Path(__file__).resolve().parents[2] / "data_samples")


# ----------------------------------------------------------------------------- fashion


def load_fashion(root: str | Path | None = None) -> PolyvoreU:
    """The sample outfits (``data_samples/fashion``), validated."""
    return PolyvoreU.load(Path(root) if root else samples_root() / "fashion")


def fashion_oracle(data: PolyvoreU) -> fw.FashionOracle:
    """The generator's own scorer for ``data`` (needs ``items_*.jsonl`` and ``truth.json``)."""
    items = {
        category: [
            fw.Item(
                category=c,
                style=fw.STYLES.index(r["attributes"]["style"]),
                colour=fw.COLOURS.index(r["attributes"]["colour"]),
                pattern=fw.PATTERNS.index(r["attributes"]["pattern"]),
            )
            for r in data.items[category]
        ]
        for c, category in enumerate(fw.CATEGORIES)
    }
    truth = json.loads((data.root / "truth.json").read_text(encoding="utf-8"))
    tastes = [fw.UserTaste(tuple(u["style_points"]), tuple(u["colour_points"])) for u in truth["users"]]
    return fw.FashionOracle(items, tastes)


# ----------------------------------------------------------------------------- shopping


@dataclass
class ShoppingSample:
    """Sequences (1-based ids), item attributes and metadata of an Amazon-style folder."""

    root: Path
    sequences: dict[int, list[int]]
    item_attributes: dict[int, list[int]]
    attribute_names: list[str]
    item_names: list[str]  # item_names[id - 1] = asin
    user_names: list[str]  # user_names[uid - 1] = reviewerID
    meta: dict[str, ItemMeta]

    @property
    def num_items(self) -> int:
        return len(self.item_names)

    def title(self, item: int) -> str:
        return self.meta[self.item_names[item - 1]].title

    def categories(self, item: int) -> list[str]:
        """Category-path leaves of an item, e.g. ``['Moisturizer']`` or two for multi-label ones."""
        return [path[-1] for path in self.meta[self.item_names[item - 1]].categories]

    def image_path(self, item: int) -> Path:
        return self.root / self.meta[self.item_names[item - 1]].image_url

    def image(self, item: int) -> np.ndarray:
        """The item's picture as an ``(H, W, 3)`` uint8 array, checked (see :func:`read_picture`)."""
        return read_picture(self.image_path(item))

    def split(self) -> LeaveOneOut:
        return LeaveOneOut.split(self.sequences, num_items=self.num_items)


def _lines(path: Path) -> list[str]:
    return [line for _, line in iter_text_lines(path)]


def load_shopping(root: str | Path | None = None) -> ShoppingSample:
    """The sample sequences (``data_samples/shopping``), validated."""
    root = Path(root) if root else samples_root() / "shopping"
    item_names = _lines(root / "item_list.txt")
    return ShoppingSample(
        root=root,
        sequences=read_sequences(root / "sequences.txt"),
        item_attributes=read_item_attributes(root / "sequences_item2attributes.json", len(item_names)),
        attribute_names=_lines(root / "attribute_list.txt"),
        item_names=item_names,
        user_names=_lines(root / "user_list.txt"),
        meta=read_metadata(root / "meta.jsonl"),
    )


def shopping_truth(sample: ShoppingSample) -> tuple[CatalogueTruth, dict[int, list[ShopperTaste]]]:
    """Hidden truth aligned to item ids (index 0 = padding, weight 0) and tastes per user id and step."""
    truth = json.loads((sample.root / "truth.json").read_text(encoding="utf-8"))
    rows = [truth["items"][asin] for asin in sample.item_names]
    catalogue = CatalogueTruth(
        leaf=np.array([0] + [r["leaf"] for r in rows], np.int64),
        palette=np.array([-1] + [r["palette"] for r in rows], np.int64),
        ingredient=np.array([-1] + [r["ingredient"] for r in rows], np.int64),
        popularity=np.array([0.0] + [r["popularity"] for r in rows]),
    )
    tastes = {
        uid: [ShopperTaste(*step) for step in truth["user_tastes"][name]]
        for uid, name in enumerate(sample.user_names, start=1)
    }
    return catalogue, tastes
