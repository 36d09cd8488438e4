"""Multi-index hashing: exact agreement with the brute-force top-k, its pruning, adds and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minirec.hashing import mih
from minirec.hashing.mih import (
    MultiIndexHashing,
    flip_masks,
    min_substrings,
    recommended_substrings,
    substring_bounds,
    substring_values,
)
from minirec.hashing.packed import hamming_topk


def flip_bits(rng: np.random.Generator, packed: np.ndarray, probability: float) -> np.ndarray:
    """Packed codes with each bit flipped independently with ``probability``."""
    flips = rng.random((len(packed), 8 * packed.shape[1])) < probability
    return packed ^ np.packbits(flips, axis=1)


def clustered_codes(
    rng: np.random.Generator, n: int, bits: int, centres: int, probability: float = 0.03
) -> tuple[np.ndarray, np.ndarray]:
    """``(centres, codes)``: each code is a random centre with each bit flipped with ``probability``."""
    centre_codes = rng.integers(0, 256, (centres, bits // 8), dtype=np.uint8)
    return centre_codes, flip_bits(rng, centre_codes[rng.integers(0, centres, n)], probability)


def assert_same_as_brute_force(index: MultiIndexHashing, queries: np.ndarray, database: np.ndarray, k: int):
    distances, ids = index.search(queries, k)
    expected_distances, expected_ids = hamming_topk(queries, database, k)
    assert distances.dtype == np.int32 and ids.dtype == np.int64
    np.testing.assert_array_equal(distances, expected_distances)
    np.testing.assert_array_equal(ids, expected_ids)


@st.composite
def search_cases(draw):
    """Packed codes with many duplicates and near-duplicates (ties), any valid m, k up to n + 3."""
    bits = draw(st.sampled_from([8, 16, 24, 64, 128]))
    low = min_substrings(bits)
    m = draw(st.one_of(st.sampled_from([low, bits // 8, bits]), st.integers(low, bits)))
    n = draw(st.integers(1, 150))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    distinct = rng.integers(0, 256, (draw(st.integers(1, 10)), bits // 8), dtype=np.uint8)
    database = flip_bits(
        rng, distinct[rng.integers(0, len(distinct), n)], draw(st.sampled_from([0.0, 0.02, 0.5]))
    )
    queries = rng.integers(0, 256, (draw(st.integers(1, 4)), bits // 8), dtype=np.uint8)
    queries[0] = database[rng.integers(0, n)]  # one query sits on a stored code: distance 0
    return bits, m, database, queries, draw(st.integers(1, n + 3))


@settings(max_examples=200, deadline=None)
@given(search_cases())
def test_search_equals_brute_force_ties_included(case):
    bits, m, database, queries, k = case
    index = MultiIndexHashing(bits, substrings=m)
    index.add(database)
    assert_same_as_brute_force(index, queries, database, k)
    assert index.substrings == m


@pytest.mark.parametrize("enumerate_flips", [True, False], ids=["enumerate", "scan"])
@pytest.mark.parametrize("direct", [True, False], ids=["direct-table", "sparse-table"])
def test_each_probe_method_and_table_kind_alone_is_exact(monkeypatch, enumerate_flips, direct):
    monkeypatch.setattr(mih, "probe_by_enumeration", lambda b, s, num_slots: enumerate_flips)
    monkeypatch.setattr(mih, "use_direct_table", lambda b, n: direct)
    rng = np.random.default_rng(1)
    centres, database = clustered_codes(rng, 3000, bits=32, centres=40, probability=0.1)
    queries = np.concatenate([flip_bits(rng, centres[:5], 0.1), rng.integers(0, 256, (3, 4), dtype=np.uint8)])
    index = MultiIndexHashing(32, substrings=2)  # 16-bit substrings: 65536 slots when direct
    index.add(database)
    for k in (1, 10, 500):
        assert_same_as_brute_force(index, queries, database, k)
    assert all((table.keys is None) == direct for table in index._tables)


def test_clustered_codes_are_exact_and_check_few_candidates():
    rng = np.random.default_rng(0)
    centres, database = clustered_codes(rng, 20_000, bits=64, centres=200)
    queries = flip_bits(rng, centres[:10], 0.03)
    index = MultiIndexHashing(64)
    index.add(database)
    assert_same_as_brute_force(index, queries, database, k=10)
    stats = index.last_stats
    assert stats is not None and stats.substrings == index.substrings == 4  # 64 / log2(20000) = 4.5
    assert stats.radius.shape == stats.candidates.shape == (10,)
    # About 100 codes per cluster: the ten nearest sit within a few bits, found at radius <= 1.
    assert stats.radius.max() <= 1
    assert stats.candidates.max() < len(database) // 100


def test_uniform_codes_stay_exact_when_pruning_fails():
    rng = np.random.default_rng(2)
    database = rng.integers(0, 256, (5000, 8), dtype=np.uint8)
    queries = rng.integers(0, 256, (3, 8), dtype=np.uint8)
    index = MultiIndexHashing(64)
    index.add(database)
    assert_same_as_brute_force(index, queries, database, k=10)


def test_add_twice_continues_ids_and_next_search_rebuilds():
    rng = np.random.default_rng(3)
    first = rng.integers(0, 256, (300, 8), dtype=np.uint8)
    second = rng.integers(0, 256, (200, 8), dtype=np.uint8)
    query = second[5:6]
    index = MultiIndexHashing(64, substrings=4)
    index.add(first)
    _, ids = index.search(query, 3)
    assert ids.max() < 300
    index.add(second)
    assert index.ntotal == len(index) == 500
    distances, ids = index.search(query, 3)
    assert (distances[0, 0], ids[0, 0]) == (0, 305)  # the new code, found under its continued id
    assert_same_as_brute_force(index, query, np.concatenate([first, second]), k=20)


def test_fewer_codes_than_k_returns_them_all_sorted():
    database = np.array([[0b1111_0000], [0b0000_0000], [0b1111_0000], [0b1000_0000]], dtype=np.uint8)
    index = MultiIndexHashing(8, substrings=2)
    index.add(database)
    distances, ids = index.search(np.array([[0b1100_0000]], dtype=np.uint8), k=10)
    np.testing.assert_array_equal(distances, [[1, 2, 2, 2]])
    np.testing.assert_array_equal(ids, [[3, 0, 1, 2]])


def test_nbytes_counts_codes_then_tables():
    index = MultiIndexHashing(64, substrings=4)
    index.add(np.random.default_rng(4).integers(0, 256, (1000, 8), dtype=np.uint8))
    assert index.nbytes == 1000 * 8  # tables are built at the first search
    index.search(np.zeros((1, 8), dtype=np.uint8), 1)
    assert index.nbytes >= 1000 * 8 + 4 * 1000 * 4  # plus at least one 4-byte id per code per table


@pytest.mark.parametrize(
    ("bits", "n", "expected"),
    [
        (64, 2**16, 4),
        (64, 10**7, 3),
        (64, 10**6, 3),
        (128, 10**6, 6),
        (32, 10**6, 2),
        (64, 1, 8),
        (256, 4, 32),
    ],
)
def test_recommended_substrings_follow_log2_n_within_8_to_32_bits(bits, n, expected):
    assert recommended_substrings(bits, n) == expected


def test_automatic_substrings_are_chosen_when_tables_are_built():
    index = MultiIndexHashing(64)
    index.add(np.random.default_rng(5).integers(0, 256, (2**16, 8), dtype=np.uint8))
    assert index.substrings is None
    index.search(np.zeros((1, 8), dtype=np.uint8), 1)
    assert index.substrings == 4


def test_tables_get_a_slot_per_value_only_when_values_are_few_per_code():
    assert mih.use_direct_table(21, 10**7) and mih.use_direct_table(16, 2**13)
    assert not mih.use_direct_table(16, 2**12) and not mih.use_direct_table(32, 10**6)


@pytest.mark.parametrize(("bits", "m"), [(64, 3), (24, 1), (16, 16), (128, 5), (40, 2)])
def test_substrings_cover_the_code_and_read_its_bits(bits, m):
    bounds = substring_bounds(bits, m)
    lengths = [stop - start for start, stop in bounds]
    assert bounds[0][0] == 0 and bounds[-1][1] == bits and max(lengths) - min(lengths) <= 1
    assert all(stop == start for (_, stop), (start, _) in zip(bounds, bounds[1:], strict=False))
    packed = np.random.default_rng(6).integers(0, 256, (50, bits // 8), dtype=np.uint8)
    bits_of = np.unpackbits(packed, axis=1)
    for start, stop in bounds:
        weights = 1 << np.arange(stop - start - 1, -1, -1, dtype=np.uint64)
        expected = (bits_of[:, start:stop].astype(np.uint64) * weights).sum(axis=1)
        np.testing.assert_array_equal(substring_values(packed, start, stop), expected)


@pytest.mark.parametrize(("b", "s"), [(1, 0), (1, 1), (8, 3), (21, 2), (21, 4), (32, 3), (12, 12)])
def test_flip_masks_are_every_s_subset_of_b_bits_once(b, s):
    masks = flip_masks(b, s)
    assert len(masks) == len(np.unique(masks)) == math.comb(b, s)
    assert (np.bitwise_count(masks) == s).all() and (masks.astype(np.uint64) < 2**b).all()


@pytest.mark.parametrize(
    ("bits", "substrings", "message"),
    [
        (12, None, "bits must be a positive multiple of 8.*got 12"),
        (0, None, "bits must be a positive multiple of 8.*got 0"),
        (True, None, "bits must be a positive multiple of 8.*got True"),
        (64, 0, r"substrings must be None or an integer in \[2, 64\].*got 0"),
        (64, 1, r"substrings must be None or an integer in \[2, 64\].*got 1"),
        (64, 65, r"substrings must be None or an integer in \[2, 64\].*got 65"),
        (16, 2.0, r"substrings must be None or an integer in \[1, 16\].*got 2.0"),
    ],
)
def test_bad_settings_are_refused(bits, substrings, message):
    with pytest.raises(ValueError, match=message):
        MultiIndexHashing(bits, substrings)


@pytest.mark.parametrize(
    "packed",
    [
        np.zeros((3, 7), dtype=np.uint8),
        np.zeros((3, 8), dtype=np.int64),
        np.zeros(8, dtype=np.uint8),
        np.zeros((1, 3, 8), dtype=np.uint8),
        np.zeros((3, 1), dtype=np.uint64),
    ],
    ids=["too-few-bytes", "int64", "1-D", "3-D", "words"],
)
def test_wrongly_packed_codes_are_refused_on_add_and_search(packed):
    index = MultiIndexHashing(64)
    expected = re.escape(
        f"expected packed codes (n, 8) uint8 for 64-bit codes (see pack_codes), "
        f"got shape {packed.shape} dtype {packed.dtype}"
    )
    with pytest.raises(ValueError, match=f"packed: {expected}"):
        index.add(packed)
    assert index.ntotal == 0
    index.add(np.zeros((2, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match=f"packed_queries: {expected}"):
        index.search(packed, 1)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_k_below_one_or_not_an_integer_is_refused(k):
    index = MultiIndexHashing(8)
    index.add(np.zeros((2, 1), dtype=np.uint8))
    with pytest.raises(ValueError, match=f"k must be an integer >= 1, got {k}"):
        index.search(np.zeros((1, 1), dtype=np.uint8), k)


def test_searching_an_empty_index_is_refused():
    index = MultiIndexHashing(64)
    index.add(np.zeros((0, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="the index is empty: add codes before searching"):
        index.search(np.zeros((1, 8), dtype=np.uint8), 1)
