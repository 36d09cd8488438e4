"""Hamming nearest-neighbour search: one interface, exact and approximate back ends.

>>> index = HammingIndex(bits=64)            # back end "faiss" (IndexBinaryFlat) by default
>>> index.add(item_codes)                    # (n, 64) in ±1, {0, 1} or bool, or packed (n, 8) uint8
>>> distances, ids = index.search(user_codes, k=10)

Exact back ends return the same ids and distances, sorted by distance and, among equal distances,
by smaller id (the order a brute-force sort gives):

- ``"faiss"``: ``faiss.IndexBinaryFlat``, a linear scan with SIMD popcount on several threads;
- ``"numpy"``: this package's from-scratch XOR + popcount over 64-bit words, queries in blocks on
  every core (:func:`minirec.hashing.packed.topk_over_columns`);
- ``"mih"``: multi-index hashing (:class:`minirec.hashing.mih.MultiIndexHashing`), from scratch:
  exact, and sublinear when the nearest codes are near the query.

Approximate back ends trade recall for speed (faiss's scalable binary indexes); they may miss true
neighbours, order ties arbitrarily, and return id ``-1`` where they found fewer than ``k`` codes:

- ``"ivf"``: ``faiss.IndexBinaryIVF``, codes bucketed by the nearest of ``nlist`` centroids;
  a query scans its ``nprobe`` nearest buckets. Trained on the codes at the first search.
- ``"hnsw"``: ``faiss.IndexBinaryHNSW``, a navigable small-world graph; ``ef_search`` candidates.
- ``"multihash"``: ``faiss.IndexBinaryMultiHash``, ``nhash`` tables of ``b``-bit substrings probed
  within ``nflip`` flipped bits: multi-index hashing without the growing radius, so not exact.

Options are keyword arguments of :class:`HammingIndex`; the search-time ones (``nprobe``,
``ef_search``, ``nflip``) can be changed later with :meth:`HammingIndex.configure`.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
import torch

from minirec.hashing.mih import MultiIndexHashing, SearchStats, recommended_substrings
from minirec.hashing.packed import check_bits, from_words, pack_codes, to_words, topk_over_columns

EXACT_BACKENDS = ("faiss", "numpy", "mih")
APPROXIMATE_BACKENDS = ("ivf", "hnsw", "multihash")
BACKENDS = EXACT_BACKENDS + APPROXIMATE_BACKENDS
FAISS_BACKENDS = ("faiss", "ivf", "hnsw", "multihash")

# Every option of each back end and its default; None means "chosen from the data when built".
OPTIONS: dict[str, dict[str, int | None]] = {
    "faiss": {},
    "numpy": {"threads": None},  # None: every CPU this process may use
    "mih": {"substrings": None},  # None: about bits / log2(n)
    "ivf": {"nlist": None, "nprobe": 16},  # nlist None: about sqrt(n)
    "hnsw": {"neighbours": 32, "ef_construction": 40, "ef_search": 64},
    "multihash": {"nhash": None, "b": None, "nflip": 2},  # nhash, b None: bits / log2(n) tables
}
SEARCH_OPTIONS = {"numpy": ("threads",), "ivf": ("nprobe",), "hnsw": ("ef_search",), "multihash": ("nflip",)}


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


class Backend(Protocol):
    """What every back end does with packed ``(n, bits/8)`` uint8 codes."""

    @property
    def ntotal(self) -> int: ...

    def add(self, packed: np.ndarray) -> None: ...

    def search(self, packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def memory(self) -> int: ...

    def configure(self, **search_options: int) -> None: ...


class HammingIndex:
    """Top-k search by Hamming distance over ``bits``-bit codes; see the module docstring.

    ``backend`` is one of :data:`BACKENDS`; ``options`` are that back end's keyword options
    (:data:`OPTIONS`), e.g. ``HammingIndex(64, "ivf", nlist=4096, nprobe=32)``.
    """

    def __init__(self, bits: int, backend: str = "faiss", **options: int | None) -> None:
        check_bits(bits)
        if backend not in BACKENDS:
            raise ValueError(f"backend should be one of {BACKENDS}, got {backend!r}")
        unknown = sorted(set(options) - set(OPTIONS[backend]))
        if unknown:
            raise ValueError(
                f"HammingIndex(backend={backend!r}) has no option {unknown[0]!r}; "
                f"its options are {sorted(OPTIONS[backend]) or 'none'}"
            )
        for name, value in options.items():
            _check_option(name, value)
        self.bits, self.backend = bits, backend
        self.options = OPTIONS[backend] | options
        self._backend: Backend = _new_backend(bits, backend, self.options)

    @property
    def exact(self) -> bool:
        """Whether results are the exact top-k (ties by smaller id) rather than an approximation."""
        return self.backend in EXACT_BACKENDS

    @property
    def ntotal(self) -> int:
        """Number of codes stored."""
        return self._backend.ntotal

    @property
    def last_stats(self) -> SearchStats | None:
        """Multi-index hashing's work in the last search (radius, candidates per query); else ``None``."""
        return self._backend.index.last_stats if isinstance(self._backend, MultiIndexBackend) else None

    def __len__(self) -> int:
        return self.ntotal

    @property
    def nbytes(self) -> int:
        """Bytes taken by the stored codes (``bits / 8`` per code, rounded up to words for numpy)."""
        return self._backend.memory()

    def __repr__(self) -> str:
        return f"HammingIndex(bits={self.bits}, backend={self.backend!r}, ntotal={self.ntotal})"

    def add(self, codes: np.ndarray | torch.Tensor) -> None:
        """Append codes; their ids continue from :attr:`ntotal` (0, 1, 2, ... in insertion order)."""
        self._backend.add(as_packed_bytes(codes, self.bits))

    def configure(self, **search_options: int) -> None:
        """Change search-time options (``nprobe``, ``ef_search``, ``nflip``, ``threads``); no rebuild."""
        allowed = SEARCH_OPTIONS.get(self.backend, ())
        for name, value in search_options.items():
            if name not in allowed:
                raise ValueError(
                    f"HammingIndex(backend={self.backend!r}) cannot change {name!r} after building; "
                    f"search-time options: {list(allowed) or 'none'}"
                )
            _check_option(name, value)
            self.options[name] = value
        self._backend.configure(**search_options)

    def search(self, queries: np.ndarray | torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``(q, k')`` int32 and ids ``(q, k')`` int64 of the nearest codes, ``k' = min(k, n)``.

        Exact back ends sort rows by distance, then by id (the smaller id first among equal
        distances). Approximate ones return id ``-1`` (distance ``bits + 1``) for missing places.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if self.ntotal == 0:
            raise ValueError("the index is empty: add codes before searching")
        packed = as_packed_bytes(queries, self.bits, name="queries")
        distances, ids = self._backend.search(packed, min(k, self.ntotal))
        distances, ids = distances.astype(np.int32, copy=False), ids.astype(np.int64, copy=False)
        distances[ids < 0] = self.bits + 1
        return distances, ids


def _check_option(name: str, value: int | None) -> None:
    smallest = 0 if name == "nflip" else 1  # nflip = 0 probes the query's own buckets only
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < smallest):
        raise ValueError(f"option {name} must be a whole number >= {smallest}, got {value!r}")


class NumpyScan:
    """The from-scratch exact scan: one contiguous uint64 array per 64-bit word of the codes."""

    def __init__(self, bits: int, threads: int | None) -> None:
        self.threads = threads
        self._columns: list[np.ndarray] = []

    @property
    def ntotal(self) -> int:
        return len(self._columns[0]) if self._columns else 0

    def memory(self) -> int:
        return sum(column.nbytes for column in self._columns)

    def add(self, packed: np.ndarray) -> None:
        words = to_words(packed)
        new = [np.ascontiguousarray(words[:, w]) for w in range(words.shape[1])]
        self._columns = (
            [np.concatenate([old, part]) for old, part in zip(self._columns, new, strict=True)]
            if self._columns
            else new
        )

    def configure(self, **search_options: int) -> None:
        self.threads = search_options.get("threads", self.threads)

    def search(self, packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return topk_over_columns(to_words(packed), self._columns, k, threads=self.threads)


class MultiIndexBackend:
    """:class:`~minirec.hashing.mih.MultiIndexHashing` behind the common interface."""

    def __init__(self, bits: int, substrings: int | None) -> None:
        self.index = MultiIndexHashing(bits, substrings)

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    def memory(self) -> int:
        return self.index.nbytes

    def configure(self, **search_options: int) -> None:
        pass  # no search-time options (HammingIndex.configure refuses any)

    def add(self, packed: np.ndarray) -> None:
        self.index.add(packed)

    def search(self, packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(packed, k)


class FaissBackend:
    """A faiss binary index; the ones that need the data first (IVF) are built at the first search.

    Codes added before the build wait in a list; after it, they go straight into the index.
    """

    def __init__(self, bits: int, kind: str, options: dict[str, Any]) -> None:
        self.faiss = _import_faiss(kind)
        self.bits, self.kind, self.options = bits, kind, options
        self._pending: list[np.ndarray] = []
        self._index: Any = self.faiss.IndexBinaryFlat(bits) if kind == "faiss" else None

    @property
    def ntotal(self) -> int:
        built = int(self._index.ntotal) if self._index is not None else 0
        return built + sum(len(part) for part in self._pending)

    def memory(self) -> int:
        return self.ntotal * (self.bits // 8)

    def configure(self, **search_options: int) -> None:
        self.options |= search_options
        if self._index is not None:
            self._apply_search_options()

    def add(self, packed: np.ndarray) -> None:
        if self._index is None:
            self._pending.append(packed)
        else:
            self._index.add(packed)

    def search(self, packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._pending:
            codes = np.concatenate(self._pending)
            self._pending = []
            if self._index is None:
                self._index = self._build(codes)
                self._apply_search_options()
            self._index.add(codes)
        distances, ids = self._index.search(packed, k)
        return distances, ids

    def _build(self, codes: np.ndarray) -> Any:
        faiss, bits, options = self.faiss, self.bits, self.options
        if self.kind == "hnsw":
            index = faiss.IndexBinaryHNSW(bits, options["neighbours"])
            index.hnsw.efConstruction = options["ef_construction"]
            return index
        if self.kind == "multihash":
            nhash = options["nhash"] or recommended_substrings(bits, len(codes))
            return faiss.IndexBinaryMultiHash(bits, nhash, options["b"] or bits // nhash)
        # sqrt(n) lists: a query compares with sqrt(n) centroids, then scans about nprobe sqrt(n) codes
        nlist = options["nlist"] or max(1, min(len(codes) // 40, round(math.sqrt(len(codes)))))
        self._quantizer = faiss.IndexBinaryFlat(bits)  # held here: the IVF index only borrows it
        index = faiss.IndexBinaryIVF(self._quantizer, bits, nlist)
        sample = np.random.default_rng(0).permutation(len(codes))[: 40 * nlist]  # faiss asks >= 39 per list
        index.train(codes[np.sort(sample)])
        return index

    def _apply_search_options(self) -> None:
        if self.kind == "ivf":
            self._index.nprobe = self.options["nprobe"]
        elif self.kind == "hnsw":
            self._index.hnsw.efSearch = self.options["ef_search"]
        elif self.kind == "multihash":
            self._index.nflip = self.options["nflip"]


def _new_backend(bits: int, backend: str, options: dict[str, Any]) -> Backend:
    if backend == "numpy":
        return NumpyScan(bits, options["threads"])
    if backend == "mih":
        return MultiIndexBackend(bits, options["substrings"])
    return FaissBackend(bits, backend, options)


def _import_faiss(backend: str) -> Any:
    try:
        import faiss
    except ImportError as error:
        raise ImportError(
            f"HammingIndex(backend={backend!r}) needs the faiss-cpu package, one of minirec's "
            "dependencies (pip install faiss-cpu); backends 'numpy' and 'mih' need nothing else"
        ) from error
    return faiss
