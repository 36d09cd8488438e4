"""Codes packed into bits: XOR + popcount for Hamming distance, byte tables for weighted scores.

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
    """Inverse of :func:`pack_codes`: ``(n, dim)`` float codes in {-1, +1}."""
    bits = np.unpackbits(packed, axis=-1, count=dim)
    return bits.astype(np.float64) * 2.0 - 1.0


def hamming_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between packed rows of ``a`` and ``b`` (broadcasting), via XOR + popcount."""
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.int64)


def byte_weight_tables(weights: np.ndarray) -> np.ndarray:
    """``(ceil(D / 8), 256)`` tables: ``[k, v]`` sums the weights of the bits set when byte ``k`` is ``v``."""
    weights = np.asarray(weights, dtype=np.float64)
    padded = np.zeros(-(-len(weights) // 8) * 8)
    padded[: len(weights)] = weights
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float64)  # (256, 8)
    return np.stack([bits @ padded[8 * k: 8 * k + 8] for k in range(len(padded) // 8)])


def weighted_inner_product(a: np.ndarray, b: np.ndarray, tables: np.ndarray, weight_sum: float) -> np.ndarray:
    """``b_a^T diag(lambda) b_b`` from packed codes: ``sum(lambda) - 2 * sum_k T_k[a_k XOR b_k]``."""
    differing = np.bitwise_xor(a, b)  # (..., bytes)
    positions = np.arange(tables.shape[0])
    return weight_sum - 2.0 * tables[positions, differing].sum(axis=-1)
