"""Packed words, exact Hamming top-k (numpy and faiss back ends), and FHN scoring from packed codes."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minirec.experiments import hamming as bench
from minirec.experiments import hamming_scale as scale
from minirec.experiments.hamming_scale import clustered_codes, tie_aware_recall
from minirec.hashing.index import APPROXIMATE_BACKENDS, EXACT_BACKENDS, HammingIndex
from minirec.hashing.packed import (
    code_bytes,
    from_words,
    hamming_distance,
    hamming_topk,
    pack_codes,
    smallest_k,
    to_words,
    unpack_codes,
)
from minirec.models.fhn import FashionHashNet, FHNConfig
from minirec.models.packed_fhn import PackedFHN


def brute_force_topk(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference: every distance from ±1 codes (``(D - <q, x>) / 2``), then a full sort by (distance, id)."""
    distances = ((database.shape[1] - queries @ database.T) / 2).astype(np.int64)
    ids = np.arange(len(database))
    order = np.stack([np.lexsort((ids, row)) for row in distances])[:, :k]
    return np.take_along_axis(distances, order, axis=1), order


@st.composite
def search_cases(draw):
    """Random ±1 codes with many duplicates and near-duplicates, so ties are common."""
    bits = draw(st.sampled_from([8, 16, 24, 64, 72, 128]))
    n = draw(st.integers(1, 200))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    distinct = rng.choice([-1.0, 1.0], size=(draw(st.integers(1, 12)), bits))
    database = distinct[rng.integers(0, len(distinct), n)]
    flips = rng.random(database.shape) < draw(st.sampled_from([0.0, 0.02, 0.5]))
    database = np.where(flips, -database, database)
    queries = rng.choice([-1.0, 1.0], size=(draw(st.integers(1, 4)), bits))
    queries[0] = database[rng.integers(0, n)]  # one query sits on a database code: distance 0
    return bits, database, queries, draw(st.integers(1, n + 3))


@settings(max_examples=150, deadline=None)
@given(search_cases())
def test_every_exact_back_end_equals_brute_force_ties_included(case):
    bits, database, queries, k = case
    expected = brute_force_topk(queries, database, min(k, len(database)))
    for backend in EXACT_BACKENDS:
        index = HammingIndex(bits, backend)
        index.add(database)
        distances, ids = index.search(queries, k)
        assert distances.dtype == np.int32 and ids.dtype == np.int64
        np.testing.assert_array_equal(ids, expected[1], err_msg=backend)
        np.testing.assert_array_equal(distances, expected[0], err_msg=backend)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=80), st.integers(1, 90))
def test_smallest_k_orders_by_distance_then_id(values, k):
    distances = np.array(values, dtype=np.uint16)
    expected = np.lexsort((np.arange(len(values)), distances))[:k]
    np.testing.assert_array_equal(smallest_k(distances, k, max_distance=9), expected)


def test_words_are_a_view_of_the_bytes():
    rng = np.random.default_rng(0)
    for dim in (8, 12, 64, 100, 128):
        codes = rng.choice([-1.0, 1.0], size=(6, dim))
        packed = pack_codes(codes)
        words = to_words(packed)
        assert words.dtype == np.uint64 and words.shape == (6, -(-dim // 64))
        np.testing.assert_array_equal(from_words(words, packed.shape[1]), packed)
        np.testing.assert_array_equal(unpack_codes(words, dim), codes)
        by_hand = (codes[:, None] != codes[None]).sum(-1)
        np.testing.assert_array_equal(hamming_distance(words[:, None], words[None]), by_hand)
        np.testing.assert_array_equal(hamming_distance(packed[:, None], packed[None]), by_hand)


def test_hamming_topk_function_matches_on_bytes_and_words():
    rng = np.random.default_rng(1)
    database, queries = rng.choice([-1.0, 1.0], size=(300, 40)), rng.choice([-1.0, 1.0], size=(3, 40))
    expected = brute_force_topk(queries, database, 7)
    for layout in (pack_codes, lambda c: to_words(pack_codes(c))):
        distances, ids = hamming_topk(layout(queries), layout(database), 7)
        np.testing.assert_array_equal(ids, expected[1])
        np.testing.assert_array_equal(distances, expected[0])
    with pytest.raises(ValueError, match="share the packed layout"):
        hamming_topk(pack_codes(queries), to_words(pack_codes(database)), 7)


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_index_takes_every_code_form_and_keeps_ids_across_adds(backend):
    rng = np.random.default_rng(2)
    codes = rng.choice([-1.0, 1.0], size=(50, 64))
    queries = rng.choice([-1.0, 1.0], size=(4, 64))
    expected = brute_force_topk(queries, codes, 5)
    forms = [
        codes,
        codes > 0,
        (codes > 0).astype(np.uint8),
        pack_codes(codes),
        to_words(pack_codes(codes)),
        torch.from_numpy(codes),
    ]
    for form in forms:
        index = HammingIndex(64, backend)
        index.add(form[:20])
        index.add(form[20:])
        assert len(index) == 50 and index.nbytes >= code_bytes(50, 64) == 400  # mih adds its tables
        assert index.nbytes == 400 or backend == "mih"
        same_form = torch.from_numpy(queries) if isinstance(form, torch.Tensor) else queries
        distances, ids = index.search(same_form, 5)
        np.testing.assert_array_equal(ids, expected[1])
        np.testing.assert_array_equal(distances, expected[0])


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_index_refuses_bad_input_with_clear_errors(backend):
    with pytest.raises(ValueError, match="multiple of 8"):
        HammingIndex(12, backend)
    index = HammingIndex(16, backend)
    with pytest.raises(ValueError, match="index is empty"):
        index.search(np.ones((1, 16)), 3)
    with pytest.raises(ValueError, match=r"codes: expected \(n, 16\) codes .* got shape \(2, 15\)"):
        index.add(np.ones((2, 15)))
    with pytest.raises(ValueError, match="must be ±1, 0/1 or bool"):
        index.add(np.full((2, 16), 3.0))
    index.add(np.ones((2, 16)))
    with pytest.raises(ValueError, match=r"queries: expected \(n, 16\)"):
        index.search(np.ones((1, 8)), 1)
    with pytest.raises(ValueError, match="k must be >= 1"):
        index.search(np.ones((1, 16)), 0)
    assert index.search(np.ones((1, 16)), 10)[1].shape == (1, 2)  # k is capped at the index size


def test_unknown_backend_and_missing_faiss_are_explained(monkeypatch):
    with pytest.raises(ValueError, match="backend should be one of"):
        HammingIndex(8, "annoy")
    monkeypatch.setitem(sys.modules, "faiss", None)  # as if faiss-cpu were not installed
    for backend in ("faiss", *APPROXIMATE_BACKENDS):
        with pytest.raises(ImportError, match=f"backend='{backend}'.* needs the faiss-cpu package"):
            HammingIndex(8, backend)
    for backend in ("numpy", "mih"):
        HammingIndex(8, backend).add(np.ones((1, 8)))


def test_approximate_back_ends_find_the_near_codes_of_clustered_data():
    data = clustered_codes(20_000, 64, num_queries=30, cluster_size=50, seed=1)
    exact = HammingIndex(64, "faiss")
    exact.add(data.codes)
    truth, _ = exact.search(data.queries, 10)
    for backend, options, low_setting, high_setting in (
        ("ivf", {"nlist": 64}, {"nprobe": 1}, {"nprobe": 64}),  # nprobe = nlist scans every list: exact
        ("hnsw", {"neighbours": 16}, {"ef_search": 10}, {"ef_search": 200}),
        ("multihash", {"nhash": 4, "b": 16}, {"nflip": 0}, {"nflip": 3}),
    ):
        index = HammingIndex(64, backend, **options)
        index.add(data.codes[:12_000])
        index.add(data.codes[12_000:])  # built at the first search, over both parts
        assert not index.exact and index.ntotal == 20_000
        index.configure(**low_setting)
        low = tie_aware_recall(index.search(data.queries, 10)[0], truth)
        index.configure(**high_setting)
        distances, ids = index.search(data.queries, 10)
        high = tie_aware_recall(distances, truth)
        assert high >= 0.95 and high >= low, (backend, low, high)
        found = ids >= 0
        np.testing.assert_array_equal(  # what is returned is a true distance
            distances[found],
            hamming_distance(data.codes[ids[found]], np.repeat(data.queries, found.sum(axis=1), axis=0)),
        )
    ivf = HammingIndex(64, "ivf", nlist=64, nprobe=64)
    ivf.add(data.codes)
    np.testing.assert_array_equal(ivf.search(data.queries, 10)[0], truth)


def test_recall_counts_equally_near_codes_as_found():
    exact = np.array([[1, 2, 2], [0, 0, 5]])
    assert tie_aware_recall(np.array([[1, 2, 2], [0, 0, 5]]), exact) == 1.0
    assert tie_aware_recall(np.array([[2, 2, 2], [0, 5, 65]]), exact) == pytest.approx((1 + 2 / 3) / 2)


def test_index_options_are_checked():
    with pytest.raises(
        ValueError, match=r"backend='ivf'\) has no option 'ef_search'; its options are \['nlist', 'nprobe'\]"
    ):
        HammingIndex(64, "ivf", ef_search=3)
    with pytest.raises(ValueError, match="option nprobe must be a whole number >= 1, got 0"):
        HammingIndex(64, "ivf", nprobe=0)
    with pytest.raises(ValueError, match="option substrings must be a whole number >= 1, got True"):
        HammingIndex(64, "mih", substrings=True)
    index = HammingIndex(64, "ivf")
    with pytest.raises(
        ValueError, match=r"cannot change 'nlist' after building; search-time options: \['nprobe'\]"
    ):
        index.configure(nlist=3)
    with pytest.raises(ValueError, match="cannot change 'threads'"):
        HammingIndex(64, "faiss").configure(threads=2)


def test_memory_accounting():
    assert code_bytes(1000, 64, "float32") == 32 * code_bytes(1000, 64) == 256_000
    assert code_bytes(3, 12) == 6  # 12 bits round up to 2 bytes
    with pytest.raises(ValueError, match="storage should be one of"):
        code_bytes(1, 8, "float16")


def small_fhn(slots: tuple[str, ...], terms: str, dim: int = 24) -> FashionHashNet:
    rng = np.random.default_rng(3)
    features = {
        m: {c: rng.normal(size=(9, 6)) for c in ("top", "bottom", "shoe")} for m in ("visual", "text")
    }
    config = FHNConfig(
        num_users=5, feature_dims={"visual": 6, "text": 6}, slots=slots, dim=dim, terms=terms, init_std=1.0
    )
    torch.manual_seed(0)
    model = FashionHashNet(config, features)
    with torch.no_grad():  # learned-looking, unequal weights
        model.matching.lambda_ui.copy_(torch.rand(dim) * 2)
        model.matching.lambda_ii.copy_(torch.rand(dim) * 2)
    return model


@pytest.mark.parametrize("terms", ["both", "preference", "compatibility"])
@pytest.mark.parametrize("slots", [("top", "bottom", "shoe"), ("top", "top", "bottom", "shoe")])
def test_packed_fhn_scores_equal_the_tensor_scores(terms, slots):
    model = small_fhn(slots, terms)
    rng = np.random.default_rng(4)
    tuples = np.column_stack([rng.integers(0, 5, 60)] + [rng.integers(0, 9, 60) for _ in slots])
    packed = PackedFHN.from_model(model)
    assert packed.nbytes == (5 + 2 * 3 * 9) * 3  # 24 bits = 3 bytes per code
    ours = packed.score_tuples(tuples)
    np.testing.assert_allclose(ours, model.score_tuples(tuples), rtol=0, atol=1e-5)  # float32 model
    np.testing.assert_array_equal(ours, model.double().score_tuples(tuples))  # same maths, float64: exact
    with pytest.raises(ValueError, match=r"tuples should have shape \(B, "):
        packed.score_tuples(tuples[:, :-1])


@pytest.mark.slow
def test_benchmark_prints_the_table_and_the_goals(capsys):
    assert bench.main(["--sizes", "500", "--bits", "64", "--queries", "1,3", "--repeats", "1", "--json"]) == 0
    out = capsys.readouterr().out
    for method in bench.METHODS:
        assert out.count(f"\n{method} ") == 2  # one row per query count
    assert "vs float32" in out and "vs faiss" in out and "threads: torch" in out
    assert out.count("goal: ") == 2  # the two 1-query goals; the 100-query goal was not run
    assert '"method": "faiss binary"' in out


def test_benchmark_refuses_bad_arguments(capsys):
    for argv, message in (
        (["--bits", "12"], "multiples of 8"),
        (["--sizes", "0"], "positive numbers"),
        (["--queries", "x"], "comma-separated numbers"),
        (["--k", "0"], ">= 1"),
        (["--sizes", "20.7"], "argument --sizes: expected whole positive numbers, got '20.7'"),
        (["--threads", "0"], "argument --threads: got 0, expected a number >= 1"),
        (
            ["--sizes", "100", "--k", "500"],
            "argument --k: got 500, expected at most the smallest --sizes (100)",
        ),
    ):
        with pytest.raises(SystemExit) as stop:
            bench.main(argv)
        assert stop.value.code == 2 and message in capsys.readouterr().err


def test_blocked_float_baseline_equals_one_score_matrix():
    generator = torch.Generator().manual_seed(0)
    columns, queries = torch.randn(16, 10_007, generator=generator), torch.randn(7, 16, generator=generator)
    expected = torch.topk(queries @ columns, 10, dim=1)
    for block_scores in (5_000, 70_000, 2**20):  # many blocks, a short last block, one block
        values, ids = bench.float_topk(queries, columns, 10, block_scores=block_scores)
        assert torch.equal(values, expected.values) and torch.equal(ids, expected.indices)


def test_clustered_codes_have_near_neighbours_and_random_codes_do_not():
    clustered, uniform = clustered_codes(5_000, 64, 20, seed=3), scale.random_codes(5_000, 64, 20, seed=3)
    assert clustered.codes.shape == uniform.codes.shape == (5_000, 8) and clustered.queries.shape == (20, 8)
    tenth = {}
    for data in (clustered, uniform):
        index = HammingIndex(64)
        index.add(data.codes)
        tenth[data.name] = np.median(index.search(data.queries, 10)[0][:, -1])
    # 50 centres, 5 % of bits flipped in code and query: about 6 bits apart; random: about 20
    assert tenth["clustered"] <= 9 < 16 <= tenth["random"], tenth
    assert np.array_equal(clustered.codes, clustered_codes(5_000, 64, 20, seed=3).codes)  # seeded


@pytest.mark.slow
def test_scale_benchmark_prints_every_method_and_both_goals(capsys):
    argv = ["--sizes", "3000", "--queries", "3", "--repeats", "1", "--hnsw-max", "3000"]
    assert scale.main(argv) == 0
    out = capsys.readouterr().out
    for method in ("faiss flat", "numpy batched", "multi-index hashing", "numpy, file"):
        assert out.count(f"  {method} ") == 2, method  # clustered and random codes
    for setting in ("nprobe=1", "nprobe=64", "ef_search=16", "nflip=3"):
        assert out.count(f"{setting} ") == 2, setting
    assert "memory read bandwidth" in out and "bound ms" in out
    assert out.count("goal: ") == 2 and "multi-index hashing, clustered, N=3000" in out


def test_scale_benchmark_refuses_bad_arguments(capsys):
    for argv, message in (
        (["--bits", "12"], "argument --bits: got 12, expected a positive multiple of 8"),
        (["--codes", "clustered,gaussian"], "expected names from clustered, random, got 'gaussian'"),
        (["--exact", "annoy"], "expected names from numpy, mih, file, got 'annoy'"),
        (["--queries", "0"], "argument --queries: got 0, expected a number >= 1"),
        (["--sizes", "5"], "argument --k: got 10, expected at most the smallest --sizes (5)"),
    ):
        with pytest.raises(SystemExit) as stop:
            scale.main(argv)
        assert stop.value.code == 2 and message in capsys.readouterr().err, argv
