"""Readers and PyTorch datasets for Polyvore-U style outfit data.

Layout (the real Polyvore-U release and ``data_samples/fashion`` alike)::

    image_list_top, image_list_bottom, image_list_shoe    line i = image path of item i
    tuples_{train,val,test}_posi.csv                       header user,top,bottom,shoe
    tuples_{train,val,test}_nega.csv                       row-aligned negatives
    items_{top,bottom,shoe}.jsonl                          optional: text and attributes
    fitb_test.csv                                          optional: fill-in-the-blank questions

Every reader checks what it reads and raises :class:`DataFormatError` naming the file, the
line and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from minirec.data.errors import DataFormatError
from minirec.data.io import iter_text_lines

CATEGORIES: tuple[str, ...] = ("top", "bottom", "shoe")
TUPLE_COLUMNS: tuple[str, ...] = ("user", *CATEGORIES)
FITB_COLUMNS: tuple[str, ...] = ("user", "blank", *CATEGORIES, "candidate_0", "candidate_1",
                                 "candidate_2", "candidate_3", "answer")


def _parse_int(path: Path, number: int, column: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataFormatError(path, f"column {column!r} should be an integer, got {text!r}",
                              line=number) from None


def _check_range(path: Path, number: int, column: str, value: int, size: int, what: str) -> None:
    if not 0 <= value < size:
        raise DataFormatError(
            path, f"unknown {what} id {value} in column {column!r}; expected 0..{size - 1}", line=number
        )


def _csv_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    lines = iter_text_lines(path)
    first = next(lines, None)
    if first is None:
        raise DataFormatError(path, f"empty file; expected the header {','.join(columns)}", line=1)
    header = first[1].strip().split(",")
    if tuple(header) != columns:
        raise DataFormatError(path, f"expected the header {','.join(columns)}, got {first[1]!r}", line=1)
    rows = []
    for number, line in lines:
        if not line.strip():
            continue
        values = line.strip().split(",")
        if len(values) != len(columns):
            raise DataFormatError(
                path, f"expected {len(columns)} columns ({','.join(columns)}), got {len(values)}",
                line=number,
            )
        rows.append((number, values))
    return rows


def read_image_list(path: str | Path, image_root: str | Path | None = None) -> list[str]:
    """Image paths, one per line. With ``image_root``, each file must exist there."""
    path = Path(path)
    names = []
    for number, line in iter_text_lines(path):
        name = line.strip()
        if not name:
            raise DataFormatError(path, "empty line; expected an image file name", line=number)
        if image_root is not None and not (Path(image_root) / name).is_file():
            raise DataFormatError(
                path, f"image file {name!r} not found under {image_root}; expected an existing file",
                line=number,
            )
        names.append(name)
    if not names:
        raise DataFormatError(path, "no images listed; expected one image file name per line")
    return names


def read_tuples(path: str | Path, num_users: int | None = None,
                num_items: dict[str, int] | None = None) -> np.ndarray:
    """An ``(n, 4)`` int64 array of ``user, top, bottom, shoe`` rows, ids range-checked."""
    path = Path(path)
    rows = _csv_rows(path, TUPLE_COLUMNS)
    out = np.empty((len(rows), len(TUPLE_COLUMNS)), np.int64)
    for r, (number, values) in enumerate(rows):
        for c, (column, text) in enumerate(zip(TUPLE_COLUMNS, values, strict=True)):
            out[r, c] = _parse_int(path, number, column, text)
            if column == "user" and num_users is not None:
                _check_range(path, number, column, int(out[r, c]), num_users, "user")
            elif column != "user" and num_items is not None:
                _check_range(path, number, column, int(out[r, c]), num_items[column], "item")
    return out


def read_fitb(path: str | Path, num_items: dict[str, int] | None = None) -> np.ndarray:
    """Fill-in-the-blank questions as an ``(n, 10)`` array; the ``blank`` column holds a slot index."""
    path = Path(path)
    rows = _csv_rows(path, FITB_COLUMNS)
    out = np.empty((len(rows), len(FITB_COLUMNS)), np.int64)
    for r, (number, values) in enumerate(rows):
        blank = values[1]
        if blank not in CATEGORIES:
            raise DataFormatError(path, f"column 'blank' should be one of {CATEGORIES}, got {blank!r}",
                                  line=number)
        out[r] = [_parse_int(path, number, col, v) if col != "blank" else CATEGORIES.index(v)
                  for col, v in zip(FITB_COLUMNS, values, strict=True)]
        for slot, category in enumerate(CATEGORIES):
            item = int(out[r, 2 + slot])
            if (item == -1) != (slot == out[r, 1]):
                raise DataFormatError(path, f"column {category!r} should be -1 exactly at the blank slot",
                                      line=number)
            if num_items is not None and item != -1:
                _check_range(path, number, category, item, num_items[category], "item")
        if num_items is not None:
            size = num_items[CATEGORIES[out[r, 1]]]
            for k in range(4):
                _check_range(path, number, f"candidate_{k}", int(out[r, 5 + k]), size, "item")
        if not 0 <= out[r, 9] < 4:
            raise DataFormatError(path, f"column 'answer' should be 0..3, got {out[r, 9]}", line=number)
    return out


def read_item_records(path: str | Path, expected: int) -> list[dict[str, Any]]:
    """Item records (``id``, ``image``, ``text``, ``attributes``), line i holding item i."""
    path = Path(path)
    records = []
    for number, line in iter_text_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(path, f"not a JSON object ({err.msg})", line=number) from None
        for key in ("id", "text", "attributes"):
            if not isinstance(record, dict) or key not in record:
                raise DataFormatError(path, f"missing field {key!r}", line=number)
        if record["id"] != number - 1:
            raise DataFormatError(path, f"field 'id' should be {number - 1} (the line index), "
                                  f"got {record['id']!r}", line=number)
        records.append(record)
    if len(records) != expected:
        raise DataFormatError(path, f"expected {expected} items (one per image), found {len(records)}")
    return records


@dataclass
class PolyvoreU:
    """A Polyvore-U style dataset folder, read and validated eagerly.

    Attributes:
        images: per category, image paths relative to ``root``.
        tuples: ``tuples[split][kind]`` with kind ``posi``, ``nega`` and, if present, ``nega_hard``.
        num_users: one more than the largest user id in any tuple file.
        items: per category, item records (text, attributes) when ``items_*.jsonl`` exist.
        fitb: fill-in-the-blank questions when ``fitb_test.csv`` exists.
    """

    root: Path
    images: dict[str, list[str]]
    tuples: dict[str, dict[str, np.ndarray]]
    num_users: int
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fitb: np.ndarray | None = None

    @classmethod
    def load(cls, root: str | Path, splits: tuple[str, ...] = ("train", "val", "test")) -> PolyvoreU:
        root = Path(root)
        images = {c: read_image_list(root / f"image_list_{c}", image_root=root) for c in CATEGORIES}
        num_items = {c: len(v) for c, v in images.items()}
        raw = {s: {k: read_tuples(root / f"tuples_{s}_{k}.csv", num_items=num_items)
                   for k in ("posi", "nega", "nega_hard") if (root / f"tuples_{s}_{k}.csv").exists()}
               for s in splits}
        num_users = 1 + max((int(t[:, 0].max()) for kinds in raw.values() for t in kinds.values()
                             if len(t)), default=-1)
        for split, kinds in raw.items():
            if "posi" not in kinds:
                raise FileNotFoundError(root / f"tuples_{split}_posi.csv")
            for kind, table in kinds.items():
                if kind != "posi" and len(table) != len(kinds["posi"]):
                    raise DataFormatError(root / f"tuples_{split}_{kind}.csv",
                                          f"expected {len(kinds['posi'])} rows, row-aligned with "
                                          f"tuples_{split}_posi.csv; found {len(table)}")
        items = {c: read_item_records(root / f"items_{c}.jsonl", num_items[c])
                 for c in CATEGORIES if (root / f"items_{c}.jsonl").exists()}
        fitb_path = root / "fitb_test.csv"
        fitb = read_fitb(fitb_path, num_items) if fitb_path.exists() else None
        return cls(root, images, raw, num_users, items, fitb)

    @property
    def num_items(self) -> dict[str, int]:
        return {c: len(v) for c, v in self.images.items()}

    def image_path(self, category: str, item: int) -> Path:
        return self.root / self.images[category][item]

    def load_image(self, category: str, item: int) -> np.ndarray:
        """The item's picture as an ``(H, W, 3)`` uint8 array."""
        with Image.open(self.image_path(category, item)) as image:
            return np.asarray(image.convert("RGB"))


class ItemImages(Dataset):
    """All pictures of one category as float tensors ``(3, H, W)`` in [0, 1], with the item id."""

    def __init__(self, data: PolyvoreU, category: str) -> None:
        self.data, self.category = data, category

    def __len__(self) -> int:
        return self.data.num_items[self.category]

    def __getitem__(self, item: int) -> tuple[torch.Tensor, int]:
        pixels = self.data.load_image(self.category, item)
        return torch.from_numpy(pixels).permute(2, 0, 1).float().div(255.0), item


class OutfitPairs(Dataset):
    """Row-aligned (positive, negative) outfits for BPR: ``(user, pos items (3,), neg items (3,))``."""

    def __init__(self, positives: np.ndarray, negatives: np.ndarray) -> None:
        if positives.shape != negatives.shape or not np.array_equal(positives[:, 0], negatives[:, 0]):
            raise ValueError("positives and negatives must be row-aligned: same shape and same users")
        self.positives = torch.as_tensor(positives, dtype=torch.long)
        self.negatives = torch.as_tensor(negatives, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.positives)

    def __getitem__(self, row: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.positives[row, 0], self.positives[row, 1:], self.negatives[row, 1:]
