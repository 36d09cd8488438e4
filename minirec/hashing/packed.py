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

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ID_BITS = 40  # scan keys are ``distance << ID_BITS | id``: ids below 2**40, distances below 2**23
MAX_CODES = 1 << ID_BITS
NO_KEY = np.iinfo(np.int64).max  # an empty slot of a running top-k: after every real key
# Sizes of the batched scan (scan_topk), measured on a 2-core AMD EPYC VM with numpy 2.4.
BLOCK_CODES = 1 << 17  # codes per unit of work a thread takes
STEP_PAIRS = 1 << 19  # query-code pairs per step: candidates are looked for and merged once a step
MIN_STEP_CODES = 1024  # codes per step at least, so that a ufunc pass is long enough to amortise its call
TILE_BYTES = 1 << 22  # the XOR result of a tile of queries (few tiles: few ufunc calls, see scan_topk)
MIN_THREAD_PAIRS = 1 << 21  # query-code pairs (about 2 ms of work) that make one more thread worth waking


def check_bits(bits: int) -> int:
    """``bits`` if it is a positive multiple of 8 (whole bytes per code); otherwise ``ValueError``."""
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or bits < 8 or bits % 8:
        raise ValueError(f"bits must be a positive multiple of 8 (whole bytes per code), got {bits!r}")
    return int(bits)


def check_packed(codes: np.ndarray, bits: int, name: str) -> np.ndarray:
    """``codes`` as a C-contiguous ``(n, bits / 8)`` uint8 array, or ``ValueError`` naming ``name``."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.dtype != np.uint8 or codes.shape[1] != bits // 8:
        raise ValueError(
            f"{name}: expected packed codes (n, {bits // 8}) uint8 for {bits}-bit codes (see pack_codes), "
            f"got shape {codes.shape} dtype {codes.dtype}"
        )
    return np.ascontiguousarray(codes)


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
    queries: np.ndarray,
    columns: Sequence[np.ndarray],
    k: int,
    threads: int | None = None,
    *,
    block_codes: int = BLOCK_CODES,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hamming_topk` on a database already split into contiguous columns (one per byte/word).

    All queries are scanned together against blocks of ``block_codes`` codes, on ``threads``
    threads (``None``: every CPU this process may run on); see :func:`scan_topk` for the design.
    """
    queries = np.atleast_2d(queries)
    columns = list(columns)
    if not columns or len(columns) != queries.shape[1]:
        raise ValueError(
            f"columns: expected one column per byte or word of the queries ({queries.shape[1]}), "
            f"got {len(columns)}"
        )
    num_codes = len(columns[0])
    for position, column in enumerate(columns):
        if column.ndim != 1 or len(column) != num_codes or column.dtype != queries.dtype:
            raise ValueError(
                f"columns[{position}]: expected a 1-D {queries.dtype} array of {num_codes} codes "
                f"(the queries' layout), got shape {column.shape} dtype {column.dtype}"
            )

    def load_block(start: int, stop: int) -> list[np.ndarray]:
        return [column[start:stop] for column in columns]

    return scan_topk(queries, num_codes, load_block, k, block_codes=block_codes, threads=threads)


def default_threads() -> int:
    """The number of CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def scan_topk(
    queries: np.ndarray,
    num_codes: int,
    load_block: Callable[[int, int], Sequence[np.ndarray]],
    k: int,
    *,
    block_codes: int = BLOCK_CODES,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` by Hamming distance, the database read block by block: ``(q, k')`` int32 and int64.

    ``load_block(start, stop)`` returns codes ``start .. stop - 1`` as columns: one 1-D array
    per byte or word (the dtype of ``queries``, ``(q, W)``), contiguous or strided. The blocks,
    of ``block_codes`` codes, are shared out to ``threads`` threads (``None``: every CPU this
    process may run on) as each one finishes its previous block. Rows come sorted by distance,
    then by smaller id, with ``k' = min(k, num_codes)``: the answer of ``faiss.IndexBinaryFlat``.

    Why threads help: numpy's ufuncs release the GIL, so the threads' XOR and popcount passes
    run on separate cores. Each thread keeps its own running top-k; they are merged at the end.
    Between ufunc calls a thread needs the GIL back, so the steps are made of few, long calls
    (``TILE_BYTES``): with many short calls the threads spend their time waiting for the GIL.
    Small searches stay on one thread (:func:`_worker_count`).

    Why blocks: a thread works through its block in steps of ``m = STEP_PAIRS / q`` codes (a
    few thousand for 100 queries). A step computes the distances of all queries to its codes by
    broadcasting (``(q, 1) XOR (m,)`` per word, popcount, sum over words) into a ``(q, m)``
    array small enough to stay in the CPU cache. A pass of one ufunc over many queries at once
    costs far less Python overhead than one pass per query, and no ``(q, n)`` array is built.

    Why a threshold rather than a sort: once a query has ``k`` neighbours, a new code can only
    enter if it is strictly closer than the current ``k``-th (an equal distance loses the tie,
    since every id a thread scans later is larger). So each step keeps only the entries below
    each query's threshold: one comparison per distance and, once the threshold is tight, almost
    never a candidate, while sorting or partitioning would touch every distance again.
    """
    queries = np.atleast_2d(queries)
    threads = default_threads() if threads is None else threads
    _check_scan_arguments(queries, num_codes, k, block_codes, threads)
    k = min(k, num_codes)
    if len(queries) == 0:
        return np.empty((0, k), dtype=np.int32), np.empty((0, k), dtype=np.int64)
    max_distance = 8 * queries.dtype.itemsize * queries.shape[1]
    blocks = _BlockQueue(num_codes, block_codes)

    def scan_blocks() -> np.ndarray:
        best = RunningTopK(len(queries), k, max_distance)
        scratch = _ScanScratch(queries, max_distance, min(block_codes, num_codes))
        for start, stop in blocks:
            best.scan(queries, load_block(start, stop), start, scratch)
        return best.keys

    workers = _worker_count(threads, -(-num_codes // block_codes), len(queries) * num_codes)
    if workers == 1:
        return split_keys(scan_blocks())
    helpers = [_helper_pool(workers - 1).submit(scan_blocks) for _ in range(workers - 1)]
    try:
        own = scan_blocks()  # the calling thread scans too
    finally:
        blocks.close()  # on an error, the helpers stop after their current block
    keys = np.concatenate([own] + [helper.result() for helper in helpers], axis=1)
    return split_keys(np.sort(keys, axis=1)[:, :k])


def _worker_count(threads: int, num_blocks: int, num_pairs: int) -> int:
    """Threads for one scan: at most ``threads``, one per block, and one per ``MIN_THREAD_PAIRS`` pairs.

    Waking a thread on an idle core took 0.1-0.3 ms on the 2-core VM we measured, so a search
    of about a millisecond (one query against 10**6 codes) is fastest on the calling thread alone.
    """
    return max(1, min(threads, num_blocks, num_pairs // MIN_THREAD_PAIRS))


class _BlockQueue:
    """``(start, stop)`` of each block in increasing order, handed out to several threads.

    Each thread receives increasing starts, as :class:`RunningTopK` needs, and takes the next
    block as soon as it is free: a thread slowed down by other work on its core takes fewer.
    """

    def __init__(self, num_codes: int, block_codes: int) -> None:
        self._starts = iter(range(0, num_codes, block_codes))
        self._num_codes, self._block_codes = num_codes, block_codes
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        while True:
            with self._lock:
                start = next(self._starts, None)
            if start is None:
                return
            yield start, min(start + self._block_codes, self._num_codes)

    def close(self) -> None:
        """Hand out no more blocks."""
        with self._lock:
            self._starts = iter(())


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _helper_pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` threads kept for the process's life (a new one costs ~0.1 ms a search).

    Keyed by process id too: a forked child inherits the pool object but not its threads.
    """
    key = (os.getpid(), threads)
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="minirec-scan")
        return _POOLS[key]


def _check_scan_arguments(
    queries: np.ndarray, num_codes: int, k: int, block_codes: int, threads: int
) -> None:
    """Raise ``ValueError`` naming the first bad argument of :func:`scan_topk`."""
    if queries.ndim != 2 or queries.dtype.kind != "u" or queries.shape[1] == 0:
        raise ValueError(
            f"queries: expected packed codes (q, W) of unsigned integers (uint8 bytes or uint64 words), "
            f"got shape {queries.shape} dtype {queries.dtype}"
        )
    if 8 * queries.itemsize * queries.shape[1] >= 1 << (63 - ID_BITS):
        raise ValueError(
            f"queries: expected codes of fewer than {1 << (63 - ID_BITS)} bits, got {queries.shape}"
        )
    checks = (
        ("num_codes", num_codes, 1, MAX_CODES),
        ("k", k, 1, None),
        ("block_codes", block_codes, 1, None),
        ("threads", threads, 1, None),
    )
    for name, value, low, high in checks:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name}: expected a whole number >= {low}, got {value!r}")
        if high is not None and value > high:
            raise ValueError(f"{name}: expected at most {high} (ids are kept in {ID_BITS} bits), got {value}")


def split_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``distance << ID_BITS | id`` -> distances (int32) and ids (int64)."""
    return (keys >> ID_BITS).astype(np.int32), keys & ((1 << ID_BITS) - 1)


class RunningTopK:
    """The ``k`` best (distance, id) of each query among the codes scanned so far.

    Kept as int64 keys ``distance << ID_BITS | id``, sorted along each row, so that the order
    of keys is the order by distance, then id, and a merge is one row-wise sort. Ids must reach
    :meth:`scan` in increasing order (see :func:`scan_topk` for why the threshold needs this).
    """

    def __init__(self, num_queries: int, k: int, max_distance: int) -> None:
        self.k = k
        self.keys = np.full((num_queries, k), NO_KEY, dtype=np.int64)  # (q, k) sorted rows
        self.scanned = 0  # codes merged so far (the same for every query)
        # (q, 1): once k codes are scanned, a new code is a candidate only if strictly closer
        self.thresholds = np.zeros((num_queries, 1), dtype=distance_dtype(max_distance))

    def scan(
        self, queries: np.ndarray, columns: Sequence[np.ndarray], offset: int, scratch: _ScanScratch
    ) -> None:
        """Merge the codes ``offset, offset + 1, ...`` (given as columns) into every query's top-k."""
        start, num_codes = 0, len(columns[0])
        while start < num_codes:
            step = scratch.step_codes
            if self.scanned < self.k:  # a short first step: finding its k-th distance costs a partition
                step = min(step, max(self.k, MIN_STEP_CODES))
            part = [column[start : start + step] for column in columns]
            distances = _distances_to_columns(queries, part, scratch)
            self._merge_candidates(distances, offset + start)
            self.scanned += len(part[0])
            start += len(part[0])
            if self.scanned >= self.k:
                self.thresholds[:, 0] = self.keys[:, -1] >> ID_BITS

    def _merge_candidates(self, distances: np.ndarray, offset: int) -> None:
        """Merge the entries of ``distances`` ``(q, m)`` that may enter their query's top-k."""
        width = distances.shape[1]
        if self.scanned >= self.k:
            # One minimum per row finds the few queries with a candidate (often none at all).
            hit = np.flatnonzero(distances.min(axis=1) < self.thresholds[:, 0])
            if len(hit) == 0:
                return
            candidates = distances[hit] < self.thresholds[hit]
            local, code = np.divmod(np.flatnonzero(candidates), width)  # 1-D: far faster than 2-D
            query = hit[local]
        elif width >= self.k:
            # Fewer than k codes so far: the top-k of this step alone bounds what may enter.
            cutoff = np.partition(distances, self.k - 1, axis=1)[:, self.k - 1 : self.k]
            query, code = np.divmod(np.flatnonzero(distances <= cutoff), width)
        else:
            query, code = np.divmod(np.arange(distances.size), width)
        keys = (distances[query, code].astype(np.int64) << ID_BITS) | (code + offset)
        self._merge(query, keys)

    def _merge(self, query: np.ndarray, keys: np.ndarray) -> None:
        """Merge candidate ``keys`` of rows ``query`` (ascending) into :attr:`keys`, one sort per row."""
        starts_row = np.ones(len(query), dtype=bool)
        np.not_equal(query[1:], query[:-1], out=starts_row[1:])
        firsts = np.flatnonzero(starts_row)
        counts = np.empty_like(firsts)
        np.subtract(firsts[1:], firsts[:-1], out=counts[:-1])
        counts[-1] = len(query) - firsts[-1]
        touched = query[firsts]
        table = np.full((len(touched), self.k + int(counts.max())), NO_KEY, dtype=np.int64)
        table[:, : self.k] = self.keys[touched]
        slots = np.arange(len(query)) - np.repeat(firsts, counts) + self.k
        table[np.repeat(np.arange(len(touched)), counts), slots] = keys
        table.sort(axis=1)
        self.keys[touched] = table[:, : self.k]


def distance_dtype(max_distance: int) -> np.dtype:
    """The smallest unsigned integer type that holds every distance up to ``max_distance``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if max_distance <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


class _ScanScratch:
    """One thread's buffers: distances of all queries to ``step_codes`` codes, and an XOR tile."""

    def __init__(self, queries: np.ndarray, max_distance: int, block_codes: int) -> None:
        self.step_codes = min(block_codes, max(MIN_STEP_CODES, STEP_PAIRS // len(queries)))
        self.tile_rows = max(1, min(len(queries), TILE_BYTES // (self.step_codes * queries.itemsize)))
        self.xor = np.empty((self.tile_rows, self.step_codes), dtype=queries.dtype)
        self.counts = np.empty((self.tile_rows, self.step_codes), dtype=np.uint8)
        self.total = np.empty((len(queries), self.step_codes), dtype=distance_dtype(max_distance))


def _distances_to_columns(
    queries: np.ndarray, columns: Sequence[np.ndarray], scratch: _ScanScratch
) -> np.ndarray:
    """Hamming distances ``(q, m)`` of packed queries ``(q, W)`` to ``m`` codes stored column by column.

    Word by word: ``(r, 1) XOR (m,)`` broadcasts to ``(r, m)`` for a tile of ``r`` queries, then
    popcount, summed over the words. Each pass runs over contiguous rows (several times faster
    than XOR on the ``(m, W)`` table followed by a row sum), and a tile (``TILE_BYTES``, all the
    queries unless there are thousands) stays in the CPU cache. The result is a view of
    ``scratch``, valid until the next call.
    """
    width = len(columns[0])
    total = scratch.total[:, :width]
    for first in range(0, len(queries), scratch.tile_rows):
        rows = slice(first, first + scratch.tile_rows)
        tile = queries[rows]
        xor, counts = scratch.xor[: len(tile), :width], scratch.counts[: len(tile), :width]
        np.bitwise_xor(tile[:, :1], columns[0], out=xor)
        np.bitwise_count(xor, out=total[rows])
        for word in range(1, len(columns)):
            np.bitwise_xor(tile[:, word : word + 1], columns[word], out=xor)
            np.bitwise_count(xor, out=counts)
            np.add(total[rows], counts, out=total[rows])
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
