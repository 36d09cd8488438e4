"""Readers and PyTorch datasets for Polyvore-U outfit data (Lu et al. 2019).

Layout of the real release (e.g. ``polyvore-630``) and of ``data_samples/fashion`` alike::

    image_list_top, image_list_bottom, image_list_shoe   line i = image file of item i
    tuples_{train,val,test}_posi                          CSV, header user,top,bottom,shoe
    tuples_{train,val,test}_nega                          random mixtures, row-aligned
    tuples_{train,val,test}_nega_hard                     other users' outfits, row-aligned
    fill_in_blank_test                                    4 outfits per line, the true one first
    items_{top,bottom,shoe}.jsonl                         (sample only) text and attributes

The tuple files have no extension in the release; a ``.csv`` suffix is accepted too. The
variable-length variants (Polyvore-519 / -32) have the header ``user,top,top,bottom,shoe`` and
``-1`` for a missing second top, which is read as a copy of the first top (the convention of
the official code). Every reader checks what it reads and raises :class:`DataFormatError`
naming the file, the line and what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from minirec.data.errors import ID_TOKEN, DataFormatError, check_id_range
from minirec.data.io import iter_text_lines, present
from minirec.data.pictures import read_picture

CATEGORIES: tuple[str, ...] = ("top", "bottom", "shoe")
#: Accepted tuple headers: three slots, or two tops for the variable-length variants.
OUTFIT_SLOTS: tuple[tuple[str, ...], ...] = (CATEGORIES, ("top", "top", "bottom", "shoe"))
FITB_CANDIDATES = 4


def _parse_int(path: Path, number: int, column: str, text: str) -> int:
    if not ID_TOKEN.fullmatch(text.strip()):
        raise DataFormatError(path, f"column {column!r} should be an integer, got {text!r}", line=number)
    return int(text)


def _check_range(path: Path, number: int, column: str, value: int, size: int, what: str) -> None:
    if not 0 <= value < size:
        raise DataFormatError(
            path, f"unknown {what} id {value} in column {column!r}; expected 0..{size - 1}", line=number
        )


def _header_and_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The comma-separated header and the non-empty rows, each checked for its column count."""
    lines = iter_text_lines(path)
    first = next(lines, None)
    if first is None or not first[1].strip():
        raise DataFormatError(path, "empty file; expected a header such as user,top,bottom,shoe", line=1)
    header = first[1].strip().split(",")
    rows = []
    for number, line in lines:
        if not line.strip():
            continue
        values = line.strip().split(",")
        if len(values) != len(header):
            raise DataFormatError(
                path, f"expected {len(header)} columns ({','.join(header)}), got {len(values)}", line=number
            )
        rows.append((number, values))
    return header, rows


def _outfit_slots(path: Path, columns: list[str]) -> tuple[str, ...]:
    for slots in OUTFIT_SLOTS:
        if tuple(columns) == ("user", *slots):
            return slots
    expected = " or ".join(",".join(("user", *slots)) for slots in OUTFIT_SLOTS)
    raise DataFormatError(path, f"expected the header {expected}, got {','.join(columns)!r}", line=1)


def _parse_outfit(
    path: Path,
    number: int,
    slots: tuple[str, ...],
    values: list[str],
    num_users: int | None,
    num_items: dict[str, int] | None,
) -> list[int]:
    """``[user, item per slot]``; a ``-1`` second top becomes a copy of the first."""
    row = [
        _parse_int(path, number, column, text) for column, text in zip(("user", *slots), values, strict=True)
    ]
    if num_users is not None:
        _check_range(path, number, "user", row[0], num_users, "user")
    elif row[0] < 0:
        raise DataFormatError(path, f"column 'user' should be a user id >= 0, got {row[0]}", line=number)
    for k, category in enumerate(slots, start=1):
        second_top = len(slots) == 4 and k == 2
        if second_top and row[k] == -1:
            row[k] = row[1]
        elif num_items is not None:
            _check_range(path, number, category, row[k], num_items[category], "item")
        elif row[k] < 0:
            raise DataFormatError(
                path, f"column {category!r} should be an item id >= 0, got {row[k]}", line=number
            )
    return row


def tuple_file(root: str | Path, name: str) -> Path:
    """``root/name``, or ``root/name.csv`` when only that exists."""
    plain, csv = Path(root) / name, Path(root) / f"{name}.csv"
    return csv if present(csv) and not present(plain) else plain


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
                path,
                f"image file {name!r} not found under {image_root}; expected an existing file",
                line=number,
            )
        names.append(name)
    if not names:
        raise DataFormatError(path, "no images listed; expected one image file name per line")
    return names


def read_tuples(
    path: str | Path, num_users: int | None = None, num_items: dict[str, int] | None = None
) -> np.ndarray:
    """Outfit rows ``user, top, [top,] bottom, shoe`` as an int64 array, ids range-checked."""
    path = Path(path)
    header, rows = _header_and_rows(path)
    slots = _outfit_slots(path, header)
    if not rows:
        raise DataFormatError(path, "a header but no outfits; expected at least one row", line=2)
    out = np.empty((len(rows), 1 + len(slots)), np.int64)
    for r, (number, values) in enumerate(rows):
        out[r] = _parse_outfit(path, number, slots, values, num_users, num_items)
    return out


def read_fitb(path: str | Path, num_items: dict[str, int] | None = None) -> np.ndarray:
    """Fill-in-the-blank questions, ``(questions, candidates, 1 + slots)``; candidate 0 is the truth.

    Each line of the official ``fill_in_blank_test`` holds several whole outfits of one user that
    differ in a single slot, the ground truth first.
    """
    path = Path(path)
    header, rows = _header_and_rows(path)
    width = next(
        (
            1 + len(s)
            for s in OUTFIT_SLOTS
            if len(header) % (1 + len(s)) == 0 and header[: 1 + len(s)] == ["user", *s]
        ),
        None,
    )
    if width is None or header != header[:width] * (len(header) // width):
        raise DataFormatError(
            path,
            "expected the header user,top,bottom,shoe repeated once per "
            f"candidate outfit, got {','.join(header[:8])!r}...",
            line=1,
        )
    slots = _outfit_slots(path, header[:width])
    candidates = len(header) // width
    if candidates < 2:
        raise DataFormatError(
            path, f"{candidates} candidate outfit per question; expected at least 2 (the truth first)", line=1
        )
    if not rows:
        raise DataFormatError(path, "a header but no questions; expected at least one row", line=2)
    out = np.empty((len(rows), candidates, width), np.int64)
    for r, (number, values) in enumerate(rows):
        for c in range(candidates):
            out[r, c] = _parse_outfit(
                path, number, slots, values[c * width : (c + 1) * width], None, num_items
            )
        if len(set(out[r, :, 0].tolist())) != 1:
            raise DataFormatError(
                path, "all candidate outfits of a question should have the same user", line=number
            )
        differing = (out[r, 1:, 1:] != out[r, :1, 1:]).sum(axis=1)
        if not np.all(differing == 1):
            raise DataFormatError(
                path, "each candidate outfit should differ from the first in exactly one slot", line=number
            )
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
        except RecursionError:
            raise DataFormatError(path, "nested too deeply; expected an item record", line=number) from None
        for key in ("id", "text", "attributes"):
            if not isinstance(record, dict) or key not in record:
                raise DataFormatError(path, f"missing field {key!r}", line=number)
        attributes = record["attributes"]
        if not isinstance(record["text"], str):
            raise DataFormatError(
                path, f"field 'text' should be a string, got {record['text']!r}", line=number
            )
        if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
            raise DataFormatError(
                path, f"field 'attributes' should map names to strings, got {attributes!r}", line=number
            )
        if isinstance(record["id"], bool) or record["id"] != number - 1:
            raise DataFormatError(
                path, f"field 'id' should be {number - 1} (the line index), got {record['id']!r}", line=number
            )
        records.append(record)
    if len(records) != expected:
        raise DataFormatError(path, f"expected {expected} items (one per image), found {len(records)}")
    return records


@dataclass
class PolyvoreU:
    """A Polyvore-U style dataset folder, read and validated eagerly.

    Attributes:
        root: the folder of the tuple files (e.g. ``polyvore/tuples_630`` of the release).
        image_dir: the folder the ``image_list_*`` names are relative to (the release keeps the
            pictures apart, in ``polyvore/images/291x291``; the sample keeps them under ``root``).
        images: per category, image paths relative to ``image_dir``.
        tuples: ``tuples[split][kind]`` with kind ``posi``, ``nega`` and, if present, ``nega_hard``;
            rows ``user, item per slot``.
        num_users: one more than the largest user id in any tuple file.
        items: per category, item records (text, attributes) when ``items_*.jsonl`` exist.
        fitb: ``(questions, 4, 1 + slots)`` outfits, the true one first, when
            ``fill_in_blank_test`` exists.
    """

    root: Path
    image_dir: Path
    images: dict[str, list[str]]
    tuples: dict[str, dict[str, np.ndarray]]
    num_users: int
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fitb: np.ndarray | None = None

    @classmethod
    def load(
        cls,
        root: str | Path,
        image_dir: str | Path | None = None,
        splits: tuple[str, ...] = ("train", "val", "test"),
    ) -> PolyvoreU:
        """Read and validate a folder; each listed image must exist under ``image_dir`` (default: root)."""
        root = Path(root).expanduser()
        image_dir = Path(image_dir).expanduser() if image_dir is not None else root
        images = {c: read_image_list(root / f"image_list_{c}", image_root=image_dir) for c in CATEGORIES}
        num_items = {c: len(v) for c, v in images.items()}
        raw = {
            s: {
                k: read_tuples(tuple_file(root, f"tuples_{s}_{k}"), num_items=num_items)
                for k in ("posi", "nega", "nega_hard")
                if present(tuple_file(root, f"tuples_{s}_{k}"))
            }
            for s in splits
        }
        users = {int(u) for kinds in raw.values() for t in kinds.values() for u in np.unique(t[:, 0])}
        _, holder = max((int(t[:, 0].max()), (s, k)) for s, kinds in raw.items() for k, t in kinds.items())
        num_users = 1 + check_id_range(tuple_file(root, f"tuples_{holder[0]}_{holder[1]}"), "user", users)
        for split, kinds in raw.items():
            if "posi" not in kinds:
                raise FileNotFoundError(
                    f"{root / f'tuples_{split}_posi'}: no such file; expected the positives of {split}"
                )
            for kind, table in kinds.items():
                if kind != "posi" and table.shape != kinds["posi"].shape:
                    raise DataFormatError(
                        tuple_file(root, f"tuples_{split}_{kind}"),
                        f"expected {len(kinds['posi'])} rows of {kinds['posi'].shape[1]} "
                        f"columns, row-aligned with tuples_{split}_posi; found "
                        f"{table.shape[0]} rows of {table.shape[1]}",
                    )
        items = {
            c: read_item_records(root / f"items_{c}.jsonl", num_items[c])
            for c in CATEGORIES
            if present(root / f"items_{c}.jsonl")
        }
        fitb_path = tuple_file(root, "fill_in_blank_test")
        fitb = read_fitb(fitb_path, num_items) if present(fitb_path) else None
        return cls(root, image_dir, images, raw, num_users, items, fitb)

    @property
    def slots(self) -> tuple[str, ...]:
        """Category of each outfit slot, e.g. ``('top', 'bottom', 'shoe')``."""
        width = next(iter(self.tuples.values()))["posi"].shape[1]
        return next(s for s in OUTFIT_SLOTS if len(s) == width - 1)

    @property
    def num_items(self) -> dict[str, int]:
        return {c: len(v) for c, v in self.images.items()}

    def image_path(self, category: str, item: int) -> Path:
        return self.image_dir / self.images[category][item]

    def load_image(self, category: str, item: int) -> np.ndarray:
        """The item's picture as an ``(H, W, 3)`` uint8 array, checked (see :func:`read_picture`)."""
        return read_picture(self.image_path(category, item))


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
    """Row-aligned (positive, negative) outfits for BPR: ``(user, positive items, negative items)``."""

    def __init__(self, positives: np.ndarray, negatives: np.ndarray) -> None:
        if positives.shape != negatives.shape or not np.array_equal(positives[:, 0], negatives[:, 0]):
            raise ValueError("positives and negatives must be row-aligned: same shape and same users")
        self.positives = torch.as_tensor(positives, dtype=torch.long)
        self.negatives = torch.as_tensor(negatives, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.positives)

    def __getitem__(self, row: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.positives[row, 0], self.positives[row, 1:], self.negatives[row, 1:]
