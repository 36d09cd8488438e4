"""Exact Hamming nearest-neighbour search: one interface, two back ends (from-scratch numpy, faiss).

>>> index = HammingIndex(bits=64)            # back end "faiss" (IndexBinaryFlat) by default
>>> index.add(item_codes)                    # (n, 64) in ±1, {0, 1} or bool, or packed (n, 8) uint8
>>> distances, ids = index.search(user_codes, k=10)

Both back ends scan every code (no approximation) and return the same ids and distances, sorted
by distance and, among equal distances, by smaller id: the order a brute-force sort gives.
"""

from __future__ import annotations

import numpy as np
import torch

from minirec.hashing.packed import from_words, pack_codes, to_words, topk_over_columns

BACKENDS = ("faiss", "numpy")


def as_packed_bytes(codes: np.ndarray | torch.Tensor, bits: int, name: str = "codes") -> np.ndarray:
    """``(n, bits)`` codes (±1, {0, 1}, bool), packed ``(n, bits/8)`` uint8 or uint64 words -> bytes."""
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().cpu().numpy()
    codes = np.atleast_2d(np.asarray(codes))
    num_bytes = bits // 8
    if codes.ndim == 2 and codes.shape[1] == bits:
        return pack_codes(codes)
    if codes.ndim == 2 and codes.dtype == np.uint8 and codes.shape[1] == num_bytes:
        return np.ascontiguousarray(codes)
    if codes.ndim == 2 and codes.dtype == np.uint64 and codes.shape[1] == -(-num_bytes // 8):
        return np.ascontiguousarray(from_words(codes, num_bytes))
    raise ValueError(
        f"{name}: expected (n, {bits}) codes in ±1/0-1/bool, or packed (n, {num_bytes}) "
        f"uint8, got shape {codes.shape} dtype {codes.dtype}"
    )


class HammingIndex:
    """Exact top-k search by Hamming distance over ``bits``-bit codes.

    ``backend="faiss"`` stores the codes in a ``faiss.IndexBinaryFlat`` (SIMD popcount, several
    threads); ``backend="numpy"`` is this package's from-scratch XOR + popcount over 64-bit words
    (:func:`minirec.hashing.packed.topk_over_columns`), with no dependency beyond numpy.
    """

    def __init__(self, bits: int, backend: str = "faiss") -> None:
        if bits < 8 or bits % 8:
            raise ValueError(f"bits must be a positive multiple of 8 (whole bytes), got {bits}")
        if backend not in BACKENDS:
            raise ValueError(f"backend should be one of {BACKENDS}, got {backend!r}")
        self.bits, self.backend = bits, backend
        self._columns: list[np.ndarray] = []  # numpy: one contiguous uint64 array per word
        self._faiss = _new_faiss_index(bits) if backend == "faiss" else None

    @property
    def ntotal(self) -> int:
        """Number of codes stored."""
        if self._faiss is not None:
            return int(self._faiss.ntotal)
        return len(self._columns[0]) if self._columns else 0

    def __len__(self) -> int:
        return self.ntotal

    @property
    def nbytes(self) -> int:
        """Bytes taken by the stored codes (``bits / 8`` per code, rounded up to words for numpy)."""
        if self._faiss is not None:
            return self.ntotal * int(self._faiss.code_size)
        return sum(column.nbytes for column in self._columns)

    def __repr__(self) -> str:
        return f"HammingIndex(bits={self.bits}, backend={self.backend!r}, ntotal={self.ntotal})"

    def add(self, codes: np.ndarray | torch.Tensor) -> None:
        """Append codes; their ids continue from :attr:`ntotal` (0, 1, 2, ... in insertion order)."""
        packed = as_packed_bytes(codes, self.bits)
        if self._faiss is not None:
            self._faiss.add(packed)
            return
        words = to_words(packed)
        new = [np.ascontiguousarray(words[:, w]) for w in range(words.shape[1])]
        self._columns = (
            [np.concatenate([old, part]) for old, part in zip(self._columns, new, strict=True)]
            if self._columns
            else new
        )

    def search(self, queries: np.ndarray | torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``(q, k')`` int32 and ids ``(q, k')`` int64 of the nearest codes, ``k' = min(k, n)``.

        Rows are sorted by distance, then by id (the smaller id first among equal distances).
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if self.ntotal == 0:
            raise ValueError("the index is empty: add codes before searching")
        packed = as_packed_bytes(queries, self.bits, name="queries")
        k = min(k, self.ntotal)
        if self._faiss is not None:
            distances, ids = self._faiss.search(packed, k)
            return distances.astype(np.int32, copy=False), ids.astype(np.int64, copy=False)
        return topk_over_columns(to_words(packed), self._columns, k)


def _new_faiss_index(bits: int):  # -> faiss.IndexBinaryFlat
    try:
        import faiss
    except ImportError as error:
        raise ImportError(
            "HammingIndex(backend='faiss') needs the faiss-cpu package, one of minirec's "
            "dependencies (pip install faiss-cpu); backend='numpy' needs nothing else"
        ) from error
    return faiss.IndexBinaryFlat(bits)
