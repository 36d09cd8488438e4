"""Codes packed into bits: XOR + popcount for Hamming distance, top-k search, byte tables for weights.

A ``D``-bit code stored as ``D`` float32 numbers takes ``4 D`` bytes; packed, it takes ``D / 8``
bytes, 32x less. Two layouts are used here: bytes (``uint8``, what faiss and ``np.packbits`` use)
and 64-bit words (``uint64``, one XOR and one popcount per 64 bits). Both keep the bits in the same
order, so a word array is only a different *view* of the byte array (zero-padded to whole words).

For ±1 codes, ``b_i^T diag(lambda) b_j = sum(lambda) - 2 * sum(lambda over the bits where b_i and
b_j differ)``. The differing bits are exactly the set bits of ``pack(b_i) XOR pack(b_j)``, so the
weighted score needs one XOR per byte and one table lookup per byte: for byte position ``k`` the
table ``T_k[v]`` holds the sum of the weights of the bits set in the byte value ``v``.
"""

from __future__ import annotations

import numpy as np


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """``(n, D)`` codes in {-1, +1}, {0, 1} or bool -> ``(n, ceil(D / 8))`` uint8 (bit 1 = positive)."""
    codes = np.asarray(codes)
    if codes.dtype != bool:
        values = np.unique(codes)
        if not (set(values.tolist()) <= {-1, 1} or set(values.tolist()) <= {0, 1}):
            raise ValueError(f"codes must be ±1, 0/1 or bool; found values {values[:5].tolist()}")
        codes = codes > 0
    return np.packbits(codes, axis=-1)


def unpack_codes(packed: np.ndarray, dim: int) -> np.ndarray:
    """Inverse of :func:`pack_codes` (bytes) or :func:`to_words` (words): ``(n, dim)`` floats in {-1, +1}."""
    packed = np.asarray(packed)
    if packed.dtype == np.uint64:
        packed = from_words(packed)
    bits = np.unpackbits(packed, axis=-1, count=dim)
    return bits.astype(np.float64) * 2.0 - 1.0


def to_words(packed: np.ndarray) -> np.ndarray:
    """``(n, B)`` packed bytes -> ``(n, ceil(B / 8))`` uint64 words (zero padding adds no distance)."""
    packed = np.asarray(packed, dtype=np.uint8)
    num_words = -(-packed.shape[-1] // 8)
    padded = np.zeros(packed.shape[:-1] + (8 * num_words,), dtype=np.uint8)
    padded[..., : packed.shape[-1]] = packed
    return padded.view(np.uint64)


def from_words(words: np.ndarray, num_bytes: int | None = None) -> np.ndarray:
    """Inverse of :func:`to_words`: the first ``num_bytes`` bytes of each row (default: all)."""
    as_bytes = np.ascontiguousarray(words, dtype=np.uint64).view(np.uint8)
    return as_bytes if num_bytes is None else as_bytes[..., :num_bytes]


def hamming_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between packed rows of ``a`` and ``b`` (bytes or words; broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.int64)


def code_bytes(num_codes: int, dim: int, storage: str = "packed") -> int:
    """Bytes to store ``num_codes`` codes of ``dim`` numbers: ``packed`` bits, or one ``float32`` each."""
    per_code = {"packed": -(-dim // 8), "float32": 4 * dim}
    if storage not in per_code:
        raise ValueError(f"storage should be one of {sorted(per_code)}, got {storage!r}")
    return num_codes * per_code[storage]


def smallest_k(distances: np.ndarray, k: int, max_distance: int) -> np.ndarray:
    """Ids of the ``k`` smallest integer ``distances`` (1-D), by distance then by id.

    Distances are integers in ``[0, max_distance]``, so a histogram finds the cut-off distance
    ``t`` (the k-th smallest) in one pass; every id with a distance below ``t``, and the
    smallest-id ones at ``t``, make the answer. No full sort of ``n`` numbers is needed.
    """
    k = min(k, len(distances))
    cumulative = np.cumsum(np.bincount(distances, minlength=max_distance + 1))
    cutoff = int(np.searchsorted(cumulative, k))  # smallest t with count(d <= t) >= k
    candidates = np.flatnonzero(distances <= cutoff)  # ascending ids
    order = np.argsort(distances[candidates], kind="stable")[:k]  # stable: ties keep id order
    return candidates[order]


def hamming_topk(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest packed ``database`` rows of each packed query, ties broken by smaller id.

    ``queries`` ``(q, B)`` and ``database`` ``(n, B)`` are bytes or words of the same layout.
    Returns distances ``(q, k')`` int32 and ids ``(q, k')`` int64 with ``k' = min(k, n)``.
    """
    queries, database = np.atleast_2d(queries), np.atleast_2d(database)
    if queries.shape[1] != database.shape[1] or queries.dtype != database.dtype:
        raise ValueError(
            f"queries {queries.shape} {queries.dtype} and database {database.shape} "
            f"{database.dtype} must share the packed layout"
        )
    columns = [np.ascontiguousarray(database[:, w]) for w in range(database.shape[1])]
    return topk_over_columns(queries, columns, k)


def topk_over_columns(
    queries: np.ndarray, columns: list[np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hamming_topk` on a database already split into contiguous columns (one per byte/word)."""
    max_distance = 8 * columns[0].itemsize * len(columns)
    k = min(k, len(columns[0]))
    distances = np.empty((len(queries), k), dtype=np.int32)
    ids = np.empty((len(queries), k), dtype=np.int64)
    for row, query in enumerate(queries):
        d = _distances_to_columns(query, columns)
        ids[row] = smallest_k(d, k, max_distance)
        distances[row] = d[ids[row]]
    return distances, ids


def _distances_to_columns(query: np.ndarray, columns: list[np.ndarray]) -> np.ndarray:
    """Hamming distances of one packed query to a database stored column by column (one word each).

    Column-wise, each XOR and popcount runs over one contiguous array: several times faster than
    the same operations on the ``(n, W)`` table followed by a row sum.
    """
    total = np.bitwise_count(np.bitwise_xor(columns[0], query[0])).astype(np.uint16)
    for word, column in zip(query[1:], columns[1:], strict=True):
        total += np.bitwise_count(np.bitwise_xor(column, word))
    return total


def byte_weight_tables(weights: np.ndarray) -> np.ndarray:
    """``(ceil(D / 8), 256)`` tables: ``[k, v]`` sums the weights of the bits set when byte ``k`` is ``v``."""
    weights = np.asarray(weights, dtype=np.float64)
    padded = np.zeros(-(-len(weights) // 8) * 8)
    padded[: len(weights)] = weights
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float64)  # (256, 8)
    return np.stack([bits @ padded[8 * k : 8 * k + 8] for k in range(len(padded) // 8)])


def weighted_inner_product(a: np.ndarray, b: np.ndarray, tables: np.ndarray, weight_sum: float) -> np.ndarray:
    """``b_a^T diag(lambda) b_b`` from packed codes: ``sum(lambda) - 2 * sum_k T_k[a_k XOR b_k]``."""
    differing = np.bitwise_xor(a, b)  # (..., bytes)
    positions = np.arange(tables.shape[0])
    return weight_sum - 2.0 * tables[positions, differing].sum(axis=-1)
