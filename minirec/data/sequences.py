"""The one-line-per-user sequence format, item attributes, leave-one-out splits and datasets.

``sequences.txt``: ``uid i1 i2 ... in`` per line, items in time order, 1-based integer ids
(0 is reserved for padding). ``item2attributes.json``: ``{"item id": [attribute ids]}``.
This is the format of SASRec, S3-Rec and the Amazon Beauty benchmark in ``../shared/data``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from minirec.data.errors import ID_TOKEN, DataFormatError, check_id_range
from minirec.data.io import iter_text_lines, present


def read_sequences(path: str | Path) -> dict[int, list[int]]:
    """``{user id: [item ids in time order]}`` from a ``uid i1 i2 ...`` file."""
    path = Path(path)
    sequences: dict[int, list[int]] = {}
    for number, line in iter_text_lines(path):
        if not line.strip():
            continue
        tokens = line.split()
        bad = next((t for t in tokens if not ID_TOKEN.fullmatch(t)), None)
        if bad is not None:
            raise DataFormatError(
                path, f"expected integer ids 'uid i1 i2 ...', got token {bad!r}", line=number
            )
        ids = [int(t) for t in tokens]
        user, items = ids[0], ids[1:]
        if not items:
            raise DataFormatError(
                path,
                f"user {user} has an empty sequence; expected 'uid i1 i2 ...' with at least one item",
                line=number,
            )
        if user in sequences:
            raise DataFormatError(path, f"user {user} appears twice; expected one line per user", line=number)
        if user < 1 or min(items) < 1:
            raise DataFormatError(path, "ids must be >= 1 (0 is reserved for padding)", line=number)
        sequences[user] = items
    if not sequences:
        raise DataFormatError(path, "no sequences found; expected lines 'uid i1 i2 ...'")
    check_id_range(path, "user", set(sequences))
    check_id_range(path, "item", {i for items in sequences.values() for i in items})
    return sequences


def read_item_attributes(path: str | Path, num_items: int | None = None) -> dict[int, list[int]]:
    """``{item id: [attribute ids]}`` from ``{"item id": [attribute ids]}`` JSON."""
    path = Path(path)
    text = "\n".join(line for _, line in iter_text_lines(path))

    def refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        repeated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)  # linear: 10^4+ items
        if repeated:
            raise DataFormatError(path, f"item ids {repeated[:5]} appear more than once; expected each once")
        return dict(pairs)

    try:
        raw = json.loads(text, object_pairs_hook=refuse_duplicates)
    except json.JSONDecodeError as err:
        raise DataFormatError(path, f"not valid JSON ({err.msg})", line=err.lineno) from None
    except RecursionError:
        raise DataFormatError(path, 'nested too deeply; expected {"item id": [attribute ids]}') from None
    if not isinstance(raw, dict):
        raise DataFormatError(path, 'expected a JSON object {"item id": [attribute ids]}')
    attributes: dict[int, list[int]] = {}
    for key, value in raw.items():
        if not ID_TOKEN.fullmatch(key) or int(key) < 1:
            raise DataFormatError(path, f"key {key!r} should be an integer item id >= 1")
        item = int(key)
        if num_items is not None and not 1 <= item <= num_items:
            raise DataFormatError(path, f"unknown item id {item}; expected 1..{num_items}")
        is_id = (
            [isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in value]
            if isinstance(value, list)
            else []
        )
        if not isinstance(value, list) or not all(is_id):
            raise DataFormatError(path, f"item {key}: expected a list of attribute ids >= 1, got {value!r}")
        attributes[item] = value
    used = {a for values in attributes.values() for a in values}
    if used:
        check_id_range(path, "attribute", used)
    return attributes


@dataclass(frozen=True)
class LeaveOneOut:
    """The standard split: last item = test target, second to last = validation target.

    ``train[u]`` is the sequence without its last two items; validation inputs are
    ``train[u]`` and test inputs are ``train[u] + [valid[u]]``. Users need >= 3 items.
    """

    train: dict[int, list[int]]
    valid: dict[int, int]
    test: dict[int, int]
    num_items: int

    @classmethod
    def split(cls, sequences: dict[int, list[int]], num_items: int | None = None) -> LeaveOneOut:
        short = [u for u, s in sequences.items() if len(s) < 3]
        if short:
            raise ValueError(f"leave-one-out needs >= 3 items per user; users {short[:5]} have fewer")
        largest = max(max(s) for s in sequences.values())
        return cls(
            train={u: s[:-2] for u, s in sequences.items()},
            valid={u: s[-2] for u, s in sequences.items()},
            test={u: s[-1] for u, s in sequences.items()},
            num_items=num_items if num_items is not None else largest,
        )

    def history(self, user: int, stage: str) -> list[int]:
        """Input sequence for ``stage`` in {'valid', 'test'}."""
        if stage == "valid":
            return self.train[user]
        if stage == "test":
            return self.train[user] + [self.valid[user]]
        raise ValueError(f"stage should be 'valid' or 'test', got {stage!r}")


def left_pad(sequence: list[int], length: int) -> np.ndarray:
    """The last ``length`` items, left-padded with 0."""
    out = np.zeros(length, np.int64)
    tail = sequence[-length:]
    if tail:
        out[-len(tail) :] = tail
    return out


class NextItemDataset(Dataset):
    """Training windows for next-item prediction: ``(inputs (L,), targets (L,))``.

    For a training sequence ``s``, inputs are ``s[:-1]`` and targets ``s[1:]``, both the last
    ``max_length`` positions, left-padded with 0 (padding targets are ignored by the losses).
    """

    def __init__(self, train: dict[int, list[int]], max_length: int) -> None:
        self.users = [u for u, s in train.items() if len(s) >= 2]
        self.train, self.max_length = train, max_length

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        sequence = self.train[self.users[index]]
        inputs = left_pad(sequence[:-1], self.max_length)
        targets = left_pad(sequence[1:], self.max_length)
        return torch.from_numpy(inputs), torch.from_numpy(targets)


def find_dataset(folder: Path) -> tuple[Path, Path | None]:
    """The sequence file of ``folder`` and its attribute file (``<name>_item2attributes.json``)."""
    attributes = sorted(folder.glob("*_item2attributes.json"))
    candidates = [folder / (a.name[: -len("_item2attributes.json")] + ".txt") for a in attributes]
    lists = {"user_list.txt", "item_list.txt", "attribute_list.txt"}  # written beside it by the converter
    sequences = [c for c in candidates if c.exists()] or sorted(
        p for p in folder.glob("*.txt") if p.name not in lists
    )
    if len(sequences) != 1:
        raise DataFormatError(
            folder,
            f"expected one sequence file '<name>.txt' (with "
            f"'<name>_item2attributes.json'), found {[p.name for p in sequences]}",
        )
    paired = sequences[0].with_name(sequences[0].stem + "_item2attributes.json")
    return sequences[0], paired if paired.exists() else None


MIN_ATTRIBUTE_COVERAGE = 0.5


def check_attribute_coverage(path: Path, attributes: dict[int, list[int]], num_items: int) -> None:
    """Refuse an attribute file that describes too few items, or none with any attribute.

    A model fed attributes for a handful of items trains on zero vectors for all the others: the
    run looks fine and means nothing. Items without attributes may be listed with ``[]``.
    """
    described = sum(1 for values in attributes.values() if values)
    if described < MIN_ATTRIBUTE_COVERAGE * num_items:
        raise DataFormatError(
            path,
            f"attributes for {described} of {num_items} items; expected at least "
            f"{MIN_ATTRIBUTE_COVERAGE:.0%} of the catalogue (or move the file away to run without them)",
        )


@dataclass(frozen=True)
class SequenceFolder:
    """A real dataset folder: ``<name>.txt`` and, if present, ``<name>_item2attributes.json``."""

    sequence_file: Path
    sequences: dict[int, list[int]]
    num_items: int
    attributes: dict[int, list[int]] | None  # None when the folder has no attribute file

    @classmethod
    def load(cls, folder: str | Path) -> SequenceFolder:
        sequence_file, attribute_file = find_dataset(Path(folder))
        sequences = read_sequences(sequence_file)
        item_list = sequence_file.with_name("item_list.txt")
        declared = sum(1 for _ in iter_text_lines(item_list)) if present(item_list) else None
        num_items = check_id_range(
            sequence_file, "item", {i for s in sequences.values() for i in s}, declared
        )
        num_items = declared or num_items
        attributes = None
        if attribute_file is not None:
            attributes = read_item_attributes(attribute_file, num_items)
            check_attribute_coverage(attribute_file, attributes, num_items)
        return cls(sequence_file, sequences, num_items, attributes)

    def split(self) -> LeaveOneOut:
        return LeaveOneOut.split(self.sequences, self.num_items)
