"""The batched, threaded Hamming scan (packed.scan_topk) and code files searched memory-mapped (codefile)."""

from __future__ import annotations

import os
import struct
import threading
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minirec.data.errors import DataFormatError
from minirec.hashing import packed
from minirec.hashing.codefile import HEADER_BYTES, MAGIC, CodeFile, CodeWriter, write_codes
from minirec.hashing.packed import default_threads, scan_topk, to_words, topk_over_columns


@pytest.fixture(autouse=True, scope="module")
def every_thread_asked_for():
    """Small test inputs get every thread asked for (searches this small normally stay on one)."""
    with mock.patch.object(packed, "MIN_THREAD_PAIRS", 1):
        yield


def brute_force_topk(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference on packed bytes: every distance from unpacked bits, then a full sort by (distance, id)."""
    differing = np.unpackbits(queries, axis=1)[:, None, :] != np.unpackbits(database, axis=1)[None, :, :]
    distances = differing.sum(axis=2)
    ids = np.arange(len(database))
    order = np.stack([np.lexsort((ids, row)) for row in distances])[:, :k]
    return np.take_along_axis(distances, order, axis=1), order


def random_codes(rng: np.random.Generator, n: int, bits: int, distinct: int, flip_rate: float) -> np.ndarray:
    """``n`` packed codes drawn from ``distinct`` prototypes with a few bits flipped: many exact ties."""
    prototypes = rng.integers(0, 256, (distinct, bits // 8), dtype=np.uint8)
    codes = prototypes[rng.integers(0, distinct, n)]
    return codes ^ np.packbits(rng.random((n, bits)) < flip_rate, axis=1)


def columns_of(database: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(database[:, w]) for w in range(database.shape[1])]


def assert_same_result(got: tuple[np.ndarray, np.ndarray], expected: tuple[np.ndarray, np.ndarray]) -> None:
    np.testing.assert_array_equal(got[1], expected[1])  # ids first: the order among ties matters
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[0].dtype == np.int32 and got[1].dtype == np.int64


@st.composite
def scan_cases(draw):
    """Codes with many duplicates, k up to past n, blocks and steps that need not divide n."""
    bits = draw(st.sampled_from([8, 16, 24, 56, 64, 72, 128, 200, 256]))
    n = draw(st.integers(1, 300))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    database = random_codes(rng, n, bits, draw(st.integers(1, 12)), draw(st.sampled_from([0.0, 0.01, 0.3])))
    queries = rng.integers(0, 256, (draw(st.integers(1, 6)), bits // 8), dtype=np.uint8)
    queries[0] = database[rng.integers(0, n)]  # a query on a database code: distance 0, ties around it
    options = {
        "k": draw(st.integers(1, n + 5)),
        "threads": draw(st.sampled_from([1, 2])),
        "block_codes": draw(st.integers(1, n + 10)),
    }
    # The scan's internal step sizes, made small here so that a block takes several steps and tiles.
    steps = {
        "MIN_STEP_CODES": draw(st.integers(1, 40)),
        "STEP_PAIRS": draw(st.sampled_from([1, 50, 1 << 19])),
        "TILE_BYTES": draw(st.sampled_from([1, 200, 1 << 18])),
    }
    return database, queries, options, steps


@settings(max_examples=150, deadline=None)
@given(scan_cases(), st.sampled_from(["bytes", "words"]))
def test_batched_scan_equals_sorting_every_distance(case, layout):
    database, queries, options, steps = case
    expected = brute_force_topk(queries, database, min(options["k"], len(database)))
    as_layout = to_words if layout == "words" else np.asarray
    with mock.patch.multiple(packed, **steps):
        got = topk_over_columns(as_layout(queries), columns_of(as_layout(database)), **options)
    assert_same_result(got, expected)


def test_a_code_tied_with_the_kth_never_displaces_a_smaller_id():
    # 10 identical codes, then 10 more identical ones: the threshold is tight after the first block.
    database = np.repeat(np.array([[0b1010_1010]], dtype=np.uint8), 20, axis=0)
    queries = np.array([[0b1010_1011], [0b1010_1010]], dtype=np.uint8)
    for threads in (1, 2):
        distances, ids = topk_over_columns(queries, columns_of(database), 5, threads, block_codes=3)
        np.testing.assert_array_equal(ids, [[0, 1, 2, 3, 4]] * 2)
        np.testing.assert_array_equal(distances, [[1] * 5, [0] * 5])


def test_distance_256_does_not_wrap_around_in_small_integers():
    database = np.array([[0x00] * 32, [0x0F] * 32, [0xFF] * 32], dtype=np.uint8)  # 256-bit codes
    for layout in (np.asarray, to_words):
        distances, ids = topk_over_columns(layout(database[:1]), columns_of(layout(database)), 3)
        np.testing.assert_array_equal(distances, [[0, 128, 256]])
        np.testing.assert_array_equal(ids, [[0, 1, 2]])


def test_no_queries_give_empty_answers():
    words = np.arange(10, dtype=np.uint64)[:, None]
    distances, ids = topk_over_columns(np.empty((0, 1), np.uint64), columns_of(words), 3)
    assert distances.shape == ids.shape == (0, 3)
    assert (distances.dtype, ids.dtype) == (np.int32, np.int64)


def test_hamming_topk_keeps_its_signature_and_uses_the_batched_scan():
    rng = np.random.default_rng(3)
    database, queries = random_codes(rng, 500, 128, 30, 0.05), rng.integers(0, 256, (9, 16), dtype=np.uint8)
    expected = brute_force_topk(queries, database, 12)
    assert_same_result(packed.hamming_topk(queries, database, 12), expected)
    assert_same_result(packed.hamming_topk(to_words(queries), to_words(database), 12), expected)


def test_equal_to_faiss_index_binary_flat_on_random_codes():
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    for bits in (64, 128, 96):
        database = rng.integers(0, 256, (4000, bits // 8), dtype=np.uint8)
        queries = rng.integers(0, 256, (50, bits // 8), dtype=np.uint8)
        index = faiss.IndexBinaryFlat(bits)
        index.add(database)
        expected = index.search(queries, 10)
        for threads in (1, 2):
            got = topk_over_columns(
                to_words(queries), columns_of(to_words(database)), 10, threads, block_codes=999
            )
            assert_same_result(got, expected)


def test_blocks_are_shared_out_to_the_threads_asked_for():
    words = np.arange(200, dtype=np.uint64)

    def readers_of_blocks(threads: int) -> set[int]:
        readers = set()

        def load_block(start: int, stop: int) -> list[np.ndarray]:
            readers.add(threading.get_ident())
            time.sleep(0.002)  # long enough for the helper thread to wake and take blocks too
            return [words[start:stop]]

        _, ids = scan_topk(words[:3, None], len(words), load_block, 4, block_codes=4, threads=threads)
        np.testing.assert_array_equal(ids[:, 0], [0, 1, 2])
        return readers

    assert len(readers_of_blocks(1)) == 1
    assert len(readers_of_blocks(2)) == 2


def test_a_small_search_stays_on_one_thread():
    with mock.patch.object(packed, "MIN_THREAD_PAIRS", 1 << 21):
        assert packed._worker_count(threads=8, num_blocks=16, num_pairs=10**6) == 1  # 1 query, 10**6 codes
        assert packed._worker_count(threads=8, num_blocks=16, num_pairs=10**8) == 8  # 100 queries
        assert packed._worker_count(threads=8, num_blocks=3, num_pairs=10**8) == 3  # one block each at most


def test_default_threads_are_the_cpus_this_process_may_use():
    if hasattr(os, "sched_getaffinity"):
        assert default_threads() == len(os.sched_getaffinity(0))
    assert default_threads() >= 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": 0}, "k: expected a whole number >= 1, got 0"),
        ({"threads": 0}, "threads: expected a whole number >= 1, got 0"),
        ({"block_codes": 0}, "block_codes: expected a whole number >= 1, got 0"),
        ({"k": 2.5}, "k: expected a whole number >= 1, got 2.5"),
    ],
)
def test_bad_scan_arguments_are_refused_before_any_work(arguments, message):
    words = np.arange(10, dtype=np.uint64)[:, None]
    with pytest.raises(ValueError, match=message):
        topk_over_columns(words[:2], columns_of(words), **({"k": 3} | arguments))


def test_bad_queries_or_columns_name_the_argument():
    columns = columns_of(np.arange(20, dtype=np.uint64).reshape(10, 2))
    with pytest.raises(
        ValueError, match=r"columns: expected one column per byte or word of the queries \(3\)"
    ):
        topk_over_columns(np.zeros((1, 3), np.uint64), columns, 1)
    with pytest.raises(ValueError, match=r"columns\[0\]: expected a 1-D float64 array"):
        topk_over_columns(np.zeros((1, 2)), columns, 1)
    with pytest.raises(ValueError, match=r"columns\[1\]: expected a 1-D uint64 array of 10 codes"):
        topk_over_columns(np.zeros((1, 2), np.uint64), [columns[0], columns[1][:5]], 1)
    with pytest.raises(ValueError, match="queries: expected packed codes"):
        scan_topk(np.zeros((1, 2)), 10, lambda start, stop: columns, 1)


def test_too_many_codes_for_the_id_bits_is_refused_before_reading():
    def load_block(start: int, stop: int) -> list[np.ndarray]:
        raise AssertionError("a block was read")

    with pytest.raises(ValueError, match=r"num_codes: expected at most 1099511627776"):
        scan_topk(np.zeros((1, 1), np.uint64), packed.MAX_CODES + 1, load_block, 1)


# Code files


def test_code_file_written_in_chunks_reopens_and_searches_like_brute_force(tmp_path: Path):
    rng = np.random.default_rng(1)
    for bits in (8, 24, 64, 128, 136):  # word views (multiples of 64) and padded copies
        database = random_codes(rng, 777, bits, 40, 0.02)
        queries = np.concatenate([database[:3], rng.integers(0, 256, (4, bits // 8), dtype=np.uint8)])
        path = tmp_path / f"items-{bits}.codes"
        assert (
            write_codes(path, [database[:100], database[100:101], database[101:101], database[101:]], bits)
            == path
        )
        codes = CodeFile.open(path)
        assert (codes.ntotal, codes.bits, codes.nbytes) == (777, bits, 777 * bits // 8)
        assert codes.bytes_streamed_per_search == codes.nbytes
        assert path.stat().st_size == HEADER_BYTES + codes.nbytes
        np.testing.assert_array_equal(codes.codes(), database)
        expected = brute_force_topk(queries, database, 9)
        for block_codes, threads in ((1, 1), (3, 2), (100, 2), (1 << 18, None)):
            assert_same_result(codes.search(queries, 9, block_codes=block_codes, threads=threads), expected)


def test_code_file_search_equals_faiss(tmp_path: Path):
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(2)
    database = rng.integers(0, 256, (5000, 16), dtype=np.uint8)
    queries = rng.integers(0, 256, (20, 16), dtype=np.uint8)
    index = faiss.IndexBinaryFlat(128)
    index.add(database)
    codes = CodeFile.open(write_codes(tmp_path / "items.codes", database, 128))
    assert_same_result(codes.search(queries, 10, block_codes=1234, threads=2), index.search(queries, 10))


def test_writer_object_and_k_beyond_the_count(tmp_path: Path):
    rng = np.random.default_rng(4)
    database = rng.integers(0, 256, (6, 4), dtype=np.uint8)
    with CodeWriter(tmp_path / "few.codes", bits=32) as writer:
        writer.append(database[:4])
        writer.append(database[4:])
        assert not (tmp_path / "few.codes").exists()  # only complete files appear under their name
    with CodeFile.open(tmp_path / "few.codes") as codes:
        distances, ids = codes.search(database[:2], 50, block_codes=4)
    assert ids.shape == (2, 6)
    assert_same_result((distances, ids), brute_force_topk(database[:2], database, 6))
    assert_same_result(codes.search(database[:2], 6), (distances, ids))  # mapped again after close()


def corrupt(path: Path, offset: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: corrupt(p, 0, b"NOTCODES"), r"field 'magic': got b'NOTCODES', expected b'MRCODES\\x00'"),
        (lambda p: corrupt(p, 8, struct.pack("<I", 7)), "field 'version': got 7, expected 1"),
        (
            lambda p: corrupt(p, 12, struct.pack("<I", 12)),
            "field 'bits': got 12, expected a positive multiple of 8",
        ),
        (
            lambda p: corrupt(p, 16, struct.pack("<Q", 11)),
            "field 'count': 11 codes of 8 bytes need a file of 152",
        ),
        (lambda p: p.write_bytes(p.read_bytes()[:-1]), "field 'count': 10 codes of 8 bytes .* got 143"),
        (lambda p: p.write_bytes(p.read_bytes() + b"\0"), "field 'count': 10 codes of 8 bytes .* got 145"),
        (lambda p: p.write_bytes(p.read_bytes()[:20]), "is 20 bytes, shorter than the 64-byte header"),
    ],
)
def test_a_damaged_code_file_is_refused_naming_the_file_and_field(tmp_path: Path, damage, message):
    path = tmp_path / "damaged.codes"
    write_codes(path, np.zeros((10, 8), dtype=np.uint8), 64)
    damage(path)
    with pytest.raises(DataFormatError, match=message) as error:
        CodeFile.open(path)
    assert str(path) in str(error.value)


def test_a_failing_write_leaves_no_file_behind(tmp_path: Path):
    path = tmp_path / "items.codes"

    def chunks_then_failure():
        yield np.zeros((5, 8), dtype=np.uint8)
        raise RuntimeError("the encoder crashed")

    with pytest.raises(RuntimeError, match="the encoder crashed"):
        write_codes(path, chunks_then_failure(), 64)
    with pytest.raises(ValueError, match=r"codes: expected packed codes \(n, 8\) uint8 for 64-bit codes"):
        write_codes(path, [np.zeros((5, 8), dtype=np.uint8), np.zeros((5, 4), dtype=np.uint8)], 64)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one

    write_codes(path, np.ones((3, 8), dtype=np.uint8), 64)
    with pytest.raises(ValueError, match="codes: expected packed codes"):
        write_codes(path, np.ones((3, 8), dtype=np.float32), 64)
    assert CodeFile.open(path).ntotal == 3  # the complete file from before is kept
    assert [p.name for p in tmp_path.iterdir()] == ["items.codes"]


def test_bad_code_file_arguments(tmp_path: Path):
    with pytest.raises(ValueError, match="bits must be a positive multiple of 8 .* got 12"):
        CodeWriter(tmp_path / "x.codes", bits=12)
    with pytest.raises(DataFormatError, match="is a directory"):
        CodeWriter(tmp_path, bits=8)
    codes = CodeFile.open(write_codes(tmp_path / "items.codes", np.zeros((4, 2), dtype=np.uint8), 16))
    with pytest.raises(ValueError, match=r"queries: expected packed codes \(n, 2\) uint8"):
        codes.search(np.zeros((1, 3), dtype=np.uint8), 1)
    with pytest.raises(ValueError, match="k: expected a whole number >= 1, got 0"):
        codes.search(np.zeros((1, 2), dtype=np.uint8), 0)
    empty = CodeFile.open(write_codes(tmp_path / "empty.codes", [], 16))
    assert empty.ntotal == 0
    with pytest.raises(ValueError, match="the code file is empty"):
        empty.search(np.zeros((1, 2), dtype=np.uint8), 1)
    assert MAGIC == b"MRCODES\0"
