"""Exact k-nearest-neighbour search in Hamming space by multi-index hashing (Norouzi et al., 2014).

>>> index = MultiIndexHashing(bits=64)        # m substrings chosen when the tables are built
>>> index.add(packed_items)                   # (n, 8) uint8, as from pack_codes
>>> distances, ids = index.search(packed_queries, k=10)

The answer is exact: the same distances and ids, in the same order (distance, then smaller id),
as the brute-force :func:`minirec.hashing.packed.hamming_topk`. Only fewer codes are looked at.

**Substrings.** Each ``bits``-bit code is cut into ``m`` disjoint, contiguous substrings of
``b_j`` bits (``bits / m``; when ``m`` does not divide ``bits`` the first ``bits % m`` substrings
are one bit longer). Table ``j`` maps every value of substring ``j`` to the ids of the codes
holding it. Here a table is three arrays, built with one sort (compressed sparse rows):
``keys`` (the distinct substring values, sorted), ``offsets`` and ``ids``, so the codes whose
substring ``j`` equals ``keys[t]`` are ``ids[offsets[t]:offsets[t + 1]]``. When ``2**b_j`` is at
most ``DIRECT_SLOTS_PER_CODE * n`` (the usual case, since ``b_j`` is about ``log2(n)``), the table
is *direct*: it has a slot for every possible value, ``keys`` is dropped, and the codes with value
``v`` are ``ids[offsets[v]:offsets[v + 1]]``. A lookup is then one read instead of a binary
search (about 100 times faster for the 20 000 lookups of radius 5 on 21-bit substrings).

**Pigeonhole.** If two codes differ in ``d`` bits, those bits fall into ``m`` substrings, so at
least one substring differs in at most ``floor(d / m)`` bits. Put the other way: a code whose
every substring is at distance ``>= s + 1`` from the query's is at distance ``>= m (s + 1)``.
So once all ``m`` tables have been probed at substring radii ``0 .. s``, every code within full
distance ``m (s + 1) - 1`` has been seen. Counting table by table (the paper's refinement), once
tables ``0 .. j`` are also probed at radius ``s``, every code within ``m s + j`` has been seen.

**Search.** For ``s = 0, 1, 2, ...`` and each table ``j``: find the keys at substring distance
exactly ``s`` from the query's substring ``j``, take their ids as candidates, skip ids already
checked, and compute the candidates' exact full distances. Stop as soon as ``k`` candidates at
distance ``<= m s + j`` are known: nothing unseen can beat them, nor tie them, so the ``k`` best
by (distance, id) are exact. Also stop when every code has been checked.

**Probing keys at distance exactly s** is done one of two ways, whichever costs less:
(a) flip every choice of ``s`` of the ``b_j`` bits of the query's substring (the ``C(b_j, s)``
masks of :func:`flip_masks`) and look the results up in the table; or (b) once ``C(b_j, s)``
exceeds the number of slots, compute ``popcount(key XOR query)`` over every slot's key once,
group the slots by that distance, and read radius ``s`` (and every larger one) off the groups.
Method (b) caps the cost of a table at one pass over its keys, so a hopeless case (uniformly
random codes, where the k-th neighbour is far) degrades towards a linear scan instead of
enumerating millions of masks. (A direct table never needs (b): the ``C(b_j, s)`` over all ``s``
add up to its ``2**b_j`` slots.)

**Choosing m.** The paper recommends substrings of about ``log2(n)`` bits, so that a table has
about one code per key: ``m = bits / log2(n)``, rounded. Substrings are kept to at most 32 bits
(keys are ``uint32``), so ``m >= ceil(bits / 32)``; the automatic choice also keeps them to at
least 8 bits (``m <= bits / 8``), since shorter ones put a large share of all codes under each
key. An explicit ``m`` may be anything from ``ceil(bits / 32)`` to ``bits``.

**Building.** :meth:`MultiIndexHashing.add` only stores codes. The tables are (re)built from all
stored codes at the first search after an add (or by :meth:`MultiIndexHashing.build`), so many
adds followed by one search cost one build. With ``substrings=None``, ``m`` is chosen at every
build from the number of codes then stored. A search reuses one byte per code to mark the codes
it has checked, so searches on one index run one at a time (a lock sees to it).
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from minirec.hashing.packed import check_bits, check_packed, to_words

MAX_SUBSTRING_BITS = 32  # keys are uint32
MIN_DEFAULT_SUBSTRING_BITS = 8  # the default m never cuts codes into pieces shorter than a byte
DIRECT_SLOTS_PER_CODE = 8  # a direct table's offsets may cost up to 8 x 4 bytes per stored code


@dataclass(frozen=True)
class SearchStats:
    """What the last :meth:`MultiIndexHashing.search` did, one entry per query."""

    substrings: int  # m, the number of tables
    radius: np.ndarray  # (q,) int64: substring radius s reached when the search stopped
    candidates: np.ndarray  # (q,) int64: codes whose full distance was computed (each once)


@dataclass(frozen=True)
class _Table:
    """One substring's table: the codes in slot ``t`` are ``ids[offsets[t]:offsets[t + 1]]``.

    A sparse table has one slot per distinct substring value, ``keys[t]``, found by binary search.
    A direct table (``keys is None``) has one slot per possible value ``0 .. 2**b - 1``, most
    of them non-empty when ``2**b`` is not much larger than ``n``: a lookup is then one read.
    """

    substring_bits: int  # b
    offsets: np.ndarray  # (slots + 1,) int32 or int64
    ids: np.ndarray  # (n,) int32 or int64
    keys: np.ndarray | None  # (slots,) uint32, sorted and distinct; None for a direct table

    @property
    def num_slots(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        keys = 0 if self.keys is None else self.keys.nbytes
        return int(keys + self.offsets.nbytes + self.ids.nbytes)

    def slot_values(self) -> np.ndarray:
        """``(slots,)`` uint32: the substring value each slot holds."""
        if self.keys is None:
            return np.arange(self.num_slots, dtype=np.uint32)
        return self.keys

    def slots_of(self, values: np.ndarray) -> np.ndarray:
        """The slots of the distinct ``values`` (uint32); a sparse table drops the values it lacks."""
        if self.keys is None:
            return values.astype(np.int64)
        # Sorted look-ups walk the keys in one direction: several times faster than random order.
        values = np.sort(values)
        slots = np.minimum(np.searchsorted(self.keys, values), len(self.keys) - 1)
        return slots[self.keys[slots] == values]


class MultiIndexHashing:
    """Exact top-k Hamming search over ``bits``-bit packed codes through ``m`` substring tables.

    ``substrings`` is ``m``; ``None`` chooses :func:`recommended_substrings` at each build.
    Results match :func:`minirec.hashing.packed.hamming_topk` exactly, ties included.
    """

    def __init__(self, bits: int, substrings: int | None = None) -> None:
        bits = check_bits(bits)
        if substrings is not None:
            low, high = min_substrings(bits), bits
            if (
                isinstance(substrings, bool)
                or not isinstance(substrings, int | np.integer)
                or not low <= substrings <= high
            ):
                raise ValueError(
                    f"substrings must be None or an integer in [{low}, {high}] for {bits}-bit codes "
                    f"(each substring 1 to {MAX_SUBSTRING_BITS} bits), got {substrings!r}"
                )
            substrings = int(substrings)
        self.bits = bits
        self._requested_substrings = substrings
        self._num_words = -(-bits // 64)
        self._pending: list[np.ndarray] = []  # (n_i, W) uint64 chunks added since the last build
        self._words = np.empty((0, self._num_words), dtype=np.uint64)  # (n, W) codes, built part
        self._bounds: list[tuple[int, int]] = []  # substring j covers bits [start, stop)
        self._tables: list[_Table] = []
        # (n,) scratch marking the ids a query has checked; kept all False between queries, so a
        # search never allocates (and page-faults) n bytes. The lock keeps it to one search at a time.
        self._seen = np.zeros(0, dtype=bool)
        self._lock = threading.Lock()
        self.last_stats: SearchStats | None = None

    @property
    def ntotal(self) -> int:
        """Number of codes stored (ids run from 0 to ``ntotal - 1`` in insertion order)."""
        return len(self._words) + sum(len(chunk) for chunk in self._pending)

    def __len__(self) -> int:
        return self.ntotal

    @property
    def substrings(self) -> int | None:
        """``m`` of the current tables (or the one requested; ``None`` if automatic and not built)."""
        return len(self._tables) if self._tables else self._requested_substrings

    @property
    def nbytes(self) -> int:
        """Bytes held: the codes (as 64-bit words), plus the tables and a byte per code once built."""
        codes = self._words.nbytes + sum(chunk.nbytes for chunk in self._pending)
        return int(codes + self._seen.nbytes + sum(table.nbytes for table in self._tables))

    def __repr__(self) -> str:
        return f"MultiIndexHashing(bits={self.bits}, substrings={self.substrings}, ntotal={self.ntotal})"

    def add(self, packed: np.ndarray) -> None:
        """Append ``(n, bits / 8)`` uint8 packed codes; ids continue from :attr:`ntotal`.

        Only stores them: the tables are rebuilt at the next :meth:`search` (or :meth:`build`).
        """
        packed = check_packed(packed, self.bits, "packed")
        if len(packed):
            self._pending.append(to_words(packed))

    def build(self) -> None:
        """Build the substring tables from every stored code now (``search`` does it when needed)."""
        with self._lock:
            self._build()

    def _build(self) -> None:
        if self._pending:
            self._words = np.concatenate([self._words, *self._pending])
            self._pending = []
        n = len(self._words)
        if n == 0:
            self._tables = []
            return
        m = self._requested_substrings or recommended_substrings(self.bits, n)
        self._bounds = substring_bounds(self.bits, m)
        as_bytes = self._words.view(np.uint8)  # (n, 8 W): the packed bytes, zero-padded
        self._tables = [
            _build_table(substring_values(as_bytes, start, stop), stop - start)
            for start, stop in self._bounds
        ]
        self._seen = np.zeros(n, dtype=bool)

    def search(self, packed_queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``(q, k')`` int32 and ids ``(q, k')`` int64 of the nearest codes, ``k' = min(k, n)``.

        Rows are sorted by distance, then by id, exactly as :func:`~minirec.hashing.packed.hamming_topk`.
        Records per-query radius and candidate counts in :attr:`last_stats`.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        packed_queries = check_packed(packed_queries, self.bits, "packed_queries")
        if self.ntotal == 0:
            raise ValueError("the index is empty: add codes before searching")
        with self._lock:
            if self._pending or not self._tables:
                self._build()
            return self._search_all(packed_queries, min(int(k), len(self._words)))

    def _search_all(self, packed_queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` once the tables are built and the arguments checked."""
        query_words = to_words(packed_queries)  # (q, W)
        query_keys = np.stack(  # (q, m)
            [substring_values(query_words.view(np.uint8), start, stop) for start, stop in self._bounds],
            axis=1,
        )
        distances = np.empty((len(query_words), k), dtype=np.int32)
        ids = np.empty((len(query_words), k), dtype=np.int64)
        radius = np.empty(len(query_words), dtype=np.int64)
        candidates = np.empty(len(query_words), dtype=np.int64)
        for row, (words, keys) in enumerate(zip(query_words, query_keys, strict=True)):
            distances[row], ids[row], radius[row], candidates[row] = self._search_one(words, keys, k)
        self.last_stats = SearchStats(len(self._tables), radius, candidates)
        return distances, ids

    def _search_one(
        self, query_words: np.ndarray, query_keys: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Top-k of one query, its final substring radius and its candidate count."""
        seen = self._seen
        m, n = len(self._tables), len(self._words)
        probes = [_TableProbe(table, int(key)) for table, key in zip(self._tables, query_keys, strict=True)]
        best = _TopK(k, n)
        checked: list[np.ndarray] = []
        num_checked, s = 0, 0
        # Radius by radius, table by table. By radius max(b_j) every key of every table has been
        # probed, so every code has been checked: the loop always ends by one of the two tests.
        max_radius = max(table.substring_bits for table in self._tables)
        try:
            for s, j in itertools.product(range(max_radius + 1), range(m)):
                found = probes[j].ids_at_radius(s)
                new = found[~seen[found]]
                seen[new] = True
                checked.append(new)
                num_checked += len(new)
                best.offer(self._distances_to(query_words, new), new)
                # Pigeonhole: every code within m s + j of the query has now been checked.
                if num_checked == n or (best.is_full() and best.worst_distance() <= m * s + j):
                    break
        finally:  # even on an interrupt, so that the next search starts clean
            for new in checked:
                seen[new] = False
        top_distances, top_ids = best.sorted()
        return top_distances, top_ids, s, num_checked

    def _distances_to(self, query_words: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Exact Hamming distances from one query ``(W,)`` to the stored codes ``ids``."""
        return np.bitwise_count(self._words[ids] ^ query_words).sum(axis=1, dtype=np.int64)


class _TableProbe:
    """One query's view of one table: the ids stored under keys at substring distance exactly ``s``."""

    def __init__(self, table: _Table, query_key: int) -> None:
        self.table = table
        self.query_key = np.uint32(query_key)
        self._slots_by_distance: np.ndarray | None = None  # (slots,) sorted by key distance
        self._distance_starts: np.ndarray | None = None  # (b + 2,) where each distance starts

    def ids_at_radius(self, s: int) -> np.ndarray:
        """Ids of the codes whose substring differs from the query's in exactly ``s`` bits."""
        b = self.table.substring_bits
        if s > b:
            return np.empty(0, dtype=self.table.ids.dtype)
        if self._slots_by_distance is None and probe_by_enumeration(b, s, self.table.num_slots):
            slots = self.table.slots_of(flip_masks(b, s) ^ self.query_key)
        else:
            slots = self._scanned_slots(s)
        return _gather_ranges(self.table.ids, self.table.offsets, slots)

    def _scanned_slots(self, s: int) -> np.ndarray:
        """Method (b): distances to every slot's key, computed once, then grouped by distance."""
        if self._slots_by_distance is None or self._distance_starts is None:
            key_distances = np.bitwise_count(self.table.slot_values() ^ self.query_key)
            self._slots_by_distance = np.argsort(key_distances, kind="stable")
            counts = np.bincount(key_distances, minlength=self.table.substring_bits + 1)
            self._distance_starts = np.concatenate([[0], np.cumsum(counts)])
        return self._slots_by_distance[self._distance_starts[s] : self._distance_starts[s + 1]]


class _TopK:
    """The ``k`` best (distance, id) pairs offered so far, ordered by distance then id."""

    def __init__(self, k: int, n: int) -> None:
        self.k, self._scale = k, n  # sort key: distance * n + id, unique per pair
        self._keys = np.empty(0, dtype=np.int64)

    def offer(self, distances: np.ndarray, ids: np.ndarray) -> None:
        """Keep the best ``k`` of those held and ``(distances, ids)``."""
        keys = distances * self._scale + ids
        if self.is_full():  # only a key below the worst held can enter: most candidates cannot
            keys = keys[keys < self._keys.max()]
        merged = np.concatenate([self._keys, keys])
        if len(merged) > self.k:
            merged = np.partition(merged, self.k - 1)[: self.k]
        self._keys = merged

    def is_full(self) -> bool:
        return len(self._keys) == self.k

    def worst_distance(self) -> int:
        return int(self._keys.max()) // self._scale

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.sort(self._keys)
        return keys // self._scale, keys % self._scale


def min_substrings(bits: int) -> int:
    """The fewest substrings that keep each one within ``MAX_SUBSTRING_BITS`` bits."""
    return -(-bits // MAX_SUBSTRING_BITS)


def recommended_substrings(bits: int, n: int) -> int:
    """The paper's ``m = bits / log2(n)`` (rounded), kept to substrings of 8 to 32 bits where possible."""
    if n < 1:
        raise ValueError(f"n must be >= 1 to choose substrings, got {n}")
    low = min_substrings(bits)
    high = max(low, bits // MIN_DEFAULT_SUBSTRING_BITS)
    ideal = round(bits / math.log2(n)) if n > 1 else high
    return min(max(ideal, low), high)


def substring_bounds(bits: int, m: int) -> list[tuple[int, int]]:
    """``m`` contiguous ``[start, stop)`` bit ranges over ``bits``, the first ``bits % m`` a bit longer."""
    short, longer = divmod(bits, m)
    lengths = [short + 1] * longer + [short] * (m - longer)
    stops = np.cumsum(lengths).tolist()
    return list(zip([0, *stops[:-1]], stops, strict=True))


def substring_values(packed: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``(n,)`` uint32: bits ``[start, stop)`` of each packed row (bit 0 = top bit of byte 0)."""
    first, last = start // 8, (stop - 1) // 8  # at most 5 bytes for a 32-bit substring
    value = np.zeros(len(packed), dtype=np.uint64)
    for byte in range(first, last + 1):
        value = (value << np.uint64(8)) | packed[:, byte]
    value >>= np.uint64(8 * (last + 1) - stop)
    return (value & np.uint64((1 << (stop - start)) - 1)).astype(np.uint32)


@lru_cache(maxsize=256)
def flip_masks(substring_bits: int, s: int) -> np.ndarray:
    """The ``C(b, s)`` distinct ``b``-bit uint32 masks with exactly ``s`` bits set (read-only)."""
    if s == 0:
        masks = np.zeros(1, dtype=np.uint32)
    else:
        shorter = flip_masks(substring_bits, s - 1)
        single = np.uint32(1) << np.arange(substring_bits, dtype=np.uint32)
        # Add one bit above the highest bit already set: every s-subset is made exactly once.
        above = single[None, :] > shorter[:, None]
        masks = (shorter[:, None] | single[None, :])[above]
    masks.flags.writeable = False
    return masks


def probe_by_enumeration(substring_bits: int, s: int, num_slots: int) -> bool:
    """Whether looking up the ``C(b, s)`` flipped keys is cheaper than one pass over ``num_slots`` keys."""
    return math.comb(substring_bits, s) <= num_slots


def use_direct_table(substring_bits: int, n: int) -> bool:
    """Whether a table gets a slot per possible value (at most ``DIRECT_SLOTS_PER_CODE`` per code)."""
    return 2**substring_bits <= DIRECT_SLOTS_PER_CODE * n


def _build_table(values: np.ndarray, substring_bits: int) -> _Table:
    """Sort the codes by substring value and record where each value's ids start."""
    n = len(values)
    index_type = np.int32 if n < 2**31 else np.int64
    order = np.argsort(values)  # order within a key does not matter: candidates are re-ranked
    if use_direct_table(substring_bits, n):
        counts = np.bincount(values, minlength=2**substring_bits)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(index_type)
        return _Table(substring_bits, offsets, order.astype(index_type), keys=None)
    sorted_values = values[order]
    starts = np.flatnonzero(sorted_values[1:] != sorted_values[:-1]) + 1
    offsets = np.concatenate([[0], starts, [n]]).astype(index_type)
    return _Table(substring_bits, offsets, order.astype(index_type), keys=sorted_values[offsets[:-1]])


def _gather_ranges(ids: np.ndarray, offsets: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Concatenate ``ids[offsets[t]:offsets[t + 1]]`` over ``slots``, without a Python loop."""
    starts, stops = offsets[slots], offsets[slots + 1]
    filled = stops > starts
    starts, lengths = starts[filled].astype(np.int64), (stops - starts)[filled]
    # Output position i reads ids[start of its range + (i - where its range begins in the output)].
    range_begins = np.cumsum(lengths) - lengths
    return ids[np.repeat(starts - range_begins, lengths) + np.arange(int(lengths.sum()))]
