"""Categories and attributes as multi-hot vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def multi_hot(attribute_lists: Sequence[Sequence[int]], size: int) -> np.ndarray:
    """``(len(attribute_lists), size)`` float32 rows with a 1 at every listed attribute id."""
    out = np.zeros((len(attribute_lists), size), np.float32)
    for row, listed in enumerate(attribute_lists):
        ids = np.asarray(listed, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= size):
            raise ValueError(f"row {row}: attribute ids {ids.tolist()} fall outside 0..{size - 1}")
        out[row, ids] = 1.0
    return out


def vocabulary_ids(
    records: Sequence[dict[str, str]], keys: Sequence[str]
) -> tuple[list[list[int]], list[str]]:
    """Map each record's ``key=value`` pairs to ids over the sorted vocabulary of all such pairs."""
    vocabulary = sorted({f"{k}={r[k]}" for r in records for k in keys})
    index = {name: i for i, name in enumerate(vocabulary)}
    return [[index[f"{k}={r[k]}"] for k in keys] for r in records], vocabulary


def category_table(attributes: dict[int, list[int]], num_items: int) -> np.ndarray:
    """``(num_items + 1, A)`` multi-hot rows (row 0 = padding); attribute ids are 1-based."""
    size = max((max(a) for a in attributes.values() if a), default=0)
    rows: list[list[int]] = [[]] + [[a - 1 for a in attributes.get(i, [])] for i in range(1, num_items + 1)]
    return multi_hot(rows, size)
