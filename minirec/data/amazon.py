"""Amazon review / metadata JSON lines, and their conversion to the sequence format.

Reviews (McAuley et al.): one object per line with at least ``reviewerID`` (str), ``asin`` (str)
and ``unixReviewTime`` (int). Metadata: ``asin`` (str), and optionally ``title`` (str),
``brand`` (str), ``categories`` (list of category paths, each a list of str) and ``imUrl``.
The 2014 metadata dumps are Python literals rather than strict JSON (single quotes); both are
accepted. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minirec.data.errors import ID_TOKEN, DataFormatError
from minirec.data.io import atomic_write_json, atomic_write_text, iter_text_lines


@dataclass(frozen=True)
class Review:
    user: str
    item: str
    time: int


@dataclass(frozen=True)
class ItemMeta:
    asin: str
    title: str = ""
    brand: str = ""
    categories: tuple[tuple[str, ...], ...] = ()
    image_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def _parse_object(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as json_error:
        try:
            obj = ast.literal_eval(line)  # the 2014 metadata dumps use Python literal syntax
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            # TypeError: an unhashable key such as {[1]: 2}; RecursionError: absurdly deep nesting
            raise DataFormatError(
                path, f"not a JSON object ({json_error.msg} at column {json_error.colno})", line=number
            ) from None
    if not isinstance(obj, dict):
        raise DataFormatError(path, f"expected a JSON object, got {type(obj).__name__}", line=number)
    return obj


def _field(path: Path, number: int, obj: dict[str, Any], name: str, kind: type) -> Any:
    if name not in obj:
        raise DataFormatError(path, f"missing field {name!r}", line=number)
    value = obj[name]
    if kind is int and isinstance(value, str) and ID_TOKEN.fullmatch(value.strip()):
        value = int(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataFormatError(
            path,
            f"field {name!r} should be {kind.__name__}, got {type(value).__name__} {value!r}",
            line=number,
        )
    return value


def _optional_text(path: Path, number: int, obj: dict[str, Any], name: str) -> str:
    """A text field that may be absent ("" then); a number is written as text, a list is refused."""
    value = obj.get(name, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise DataFormatError(
            path, f"field {name!r} should be a string, got {type(value).__name__} {value!r}", line=number
        )
    return value


def _objects(path: str | Path) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    path = Path(path)
    for number, line in iter_text_lines(path):
        if line.strip():
            yield path, number, _parse_object(path, number, line)


def read_reviews(path: str | Path) -> list[Review]:
    """All reviews of a JSON-lines file, in file order."""
    reviews = [
        Review(
            user=_field(p, n, obj, "reviewerID", str),
            item=_field(p, n, obj, "asin", str),
            time=_field(p, n, obj, "unixReviewTime", int),
        )
        for p, n, obj in _objects(path)
    ]
    if not reviews:
        raise DataFormatError(path, "no reviews found; expected one JSON object per line")
    return reviews


def read_metadata(path: str | Path) -> dict[str, ItemMeta]:
    """Item metadata keyed by ASIN."""
    items: dict[str, ItemMeta] = {}
    for p, n, obj in _objects(path):
        asin = _field(p, n, obj, "asin", str)
        categories = obj.get("categories", [])
        if not (
            isinstance(categories, list)
            and all(isinstance(c, list) and all(isinstance(x, str) for x in c) for c in categories)
        ):
            raise DataFormatError(p, "field 'categories' should be a list of lists of strings", line=n)
        if asin in items:
            raise DataFormatError(p, f"duplicate asin {asin!r}", line=n)
        known = {"asin", "title", "brand", "categories", "imUrl"}
        items[asin] = ItemMeta(
            asin=asin,
            title=_optional_text(p, n, obj, "title"),
            brand=_optional_text(p, n, obj, "brand"),
            categories=tuple(tuple(c) for c in categories),
            image_url=_optional_text(p, n, obj, "imUrl"),
            extra={k: v for k, v in obj.items() if k not in known},
        )
    return items


@dataclass(frozen=True)
class SequenceData:
    """Interactions as 1-based integer ids, the format of SASRec / S3-Rec (``uid i1 i2 ...``)."""

    sequences: dict[int, list[int]]  # user id -> item ids in time order
    user_names: list[str]  # user_names[uid - 1] = reviewerID
    item_names: list[str]  # item_names[iid - 1] = asin
    item_attributes: dict[int, list[int]] = field(default_factory=dict)
    attribute_names: list[str] = field(default_factory=list)  # attribute_names[aid - 1]


def k_core(reviews: list[Review], min_user: int, min_item: int) -> list[Review]:
    """Repeatedly drop users with < ``min_user`` and items with < ``min_item`` reviews."""
    while True:
        users = Counter(r.user for r in reviews)
        items = Counter(r.item for r in reviews)
        kept = [r for r in reviews if users[r.user] >= min_user and items[r.item] >= min_item]
        if len(kept) == len(reviews):
            return kept
        reviews = kept


def item_attribute_names(meta: ItemMeta) -> list[str]:
    """Category-path names (without the shared root) and the brand, as the item's attributes."""
    names = {name for path in meta.categories for name in path[1:]}
    if meta.brand:
        names.add(f"brand:{meta.brand}")
    return sorted(names)


def reviews_to_sequences(
    reviews: list[Review],
    metadata: dict[str, ItemMeta] | None = None,
    min_user: int = 5,
    min_item: int = 1,
) -> SequenceData:
    """Sort each user's reviews by time and map users/items to 1-based ids (sorted by name).

    Ties in time keep file order. With ``metadata``, items also get attribute ids from their
    category paths and brand (:func:`item_attribute_names`).
    """
    reviews = k_core(reviews, min_user, min_item)
    if not reviews:
        raise ValueError(f"no reviews left after the {min_user}/{min_item}-core filter")
    user_names = sorted({r.user for r in reviews})
    item_names = sorted({r.item for r in reviews})
    user_id = {name: i + 1 for i, name in enumerate(user_names)}
    item_id = {name: i + 1 for i, name in enumerate(item_names)}
    by_user: dict[int, list[tuple[int, int, int]]] = {}
    for order, r in enumerate(reviews):
        by_user.setdefault(user_id[r.user], []).append((r.time, order, item_id[r.item]))
    sequences = {u: [item for _, _, item in sorted(events)] for u, events in sorted(by_user.items())}
    if metadata is None:
        return SequenceData(sequences, user_names, item_names)
    per_item = {
        iid: item_attribute_names(metadata[name]) if name in metadata else [] for name, iid in item_id.items()
    }
    attribute_names = sorted({a for names in per_item.values() for a in names})
    attribute_id = {name: i + 1 for i, name in enumerate(attribute_names)}
    item_attributes = {iid: [attribute_id[a] for a in names] for iid, names in sorted(per_item.items())}
    return SequenceData(sequences, user_names, item_names, item_attributes, attribute_names)


def write_sequence_files(data: SequenceData, root: str | Path, name: str = "sequences") -> None:
    """Write ``{name}.txt``, ``{name}_item2attributes.json`` and the id -> name lists."""
    root = Path(root)
    lines = [" ".join(map(str, [u, *items])) for u, items in data.sequences.items()]
    atomic_write_text(root / f"{name}.txt", "\n".join(lines) + "\n")
    atomic_write_text(root / "user_list.txt", "\n".join(data.user_names) + "\n")
    atomic_write_text(root / "item_list.txt", "\n".join(data.item_names) + "\n")
    if data.item_attributes:
        atomic_write_json(
            root / f"{name}_item2attributes.json", {str(i): a for i, a in data.item_attributes.items()}
        )
        atomic_write_text(root / "attribute_list.txt", "\n".join(data.attribute_names) + "\n")
