"""``python -m minirec.experiments.hamming_scale`` (part of ``make bench``): search past one linear scan.

One table per kind of codes, every number from the same run, at N = 10^7 by default:

- exact methods, one query at a time, top-10: ``faiss.IndexBinaryFlat`` (the linear scan every
  other method is compared with), minirec's batched numpy scan, multi-index hashing (``mih``) and
  the numpy scan over a code file read memory-mapped (``file``, N bounded by disk, not RAM). Each
  is checked to return the flat scan's ids and distances before it is timed, and printed beside
  its physical bound: the bytes it must read divided by the measured memory bandwidth;
- approximate methods (faiss IVF, HNSW and multi-hash) over their search-time setting: recall@10
  against the exact answer, and speed against the flat scan.

Two kinds of codes. *Clustered* codes have the structure learned codes have (similar items get
similar codes): ``N / cluster_size`` random centres, every code a centre with each bit flipped
with probability ``flip``; queries are centres with the same noise (a user near a group of items).
*Random* codes (every bit a fair coin) are the worst case of multi-index hashing: the 10th nearest
of 10^7 random 64-bit codes is about 13 bits away, so the pigeonhole bound forces radius 4 in
every 21-bit substring table, and the candidates approach N.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minirec.experiments.hamming import _positive_ints, median_ms
from minirec.hashing.codefile import CodeFile, write_codes
from minirec.hashing.index import HammingIndex

SWEEPS: dict[str, tuple[str, tuple[int, ...]]] = {  # approximate back end -> (search option, values)
    "ivf": ("nprobe", (1, 2, 4, 8, 16, 32, 64)),
    "hnsw": ("ef_search", (16, 32, 64, 128, 256)),
    "multihash": ("nflip", (0, 1, 2, 3)),
}
MIH_GOAL, APPROXIMATE_GOAL = 10.0, (0.95, 10.0)  # x faiss flat; (recall@10, x faiss flat)


@dataclass(frozen=True)
class CodeSet:
    """Packed database codes and queries, with what they are."""

    name: str  # "clustered" or "random"
    codes: np.ndarray  # (n, bits / 8) uint8
    queries: np.ndarray  # (q, bits / 8) uint8
    bits: int


def flipped(codes: np.ndarray, bits: int, flip: float, rng: np.random.Generator) -> np.ndarray:
    """Packed ``codes`` with each bit flipped independently with probability ``flip``."""
    mask = np.packbits(rng.random((len(codes), bits), dtype=np.float32) < flip, axis=1)
    return np.bitwise_xor(codes, mask)


def clustered_codes(
    n: int, bits: int, num_queries: int, cluster_size: int = 100, flip: float = 0.05, seed: int = 0
) -> CodeSet:
    """Codes near ``n / cluster_size`` random centres (each bit flipped with probability ``flip``).

    Built in chunks of 2^20 codes, so 10^8 codes need about 1 GB beyond the codes themselves.
    """
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, 256, size=(max(1, n // cluster_size), bits // 8), dtype=np.uint8)
    codes = np.empty((n, bits // 8), dtype=np.uint8)
    for start in range(0, n, 2**20):
        stop = min(n, start + 2**20)
        codes[start:stop] = flipped(centres[rng.integers(0, len(centres), stop - start)], bits, flip, rng)
    queries = flipped(centres[rng.integers(0, len(centres), num_queries)], bits, flip, rng)
    return CodeSet("clustered", codes, queries, bits)


def random_codes(n: int, bits: int, num_queries: int, seed: int = 0) -> CodeSet:
    """Uniformly random codes and queries: every bit a fair coin."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, size=(n + num_queries, bits // 8), dtype=np.uint8)
    return CodeSet("random", codes[:n], codes[n:], bits)


def read_bandwidth_gbs(num_bytes: int = 2**30, threads: int = 2, repeats: int = 5) -> float:
    """Memory read bandwidth in GB/s: ``threads`` threads each summing their part of a large array.

    numpy releases the GIL inside the sum, so the threads run in parallel; the best of
    ``repeats`` runs is the bandwidth the machine can sustain.
    """
    data = np.ones(num_bytes // 8, dtype=np.uint64)
    parts = np.array_split(data, threads)
    best = float("inf")
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats):
            start = time.perf_counter()
            list(pool.map(np.sum, parts))
            best = min(best, time.perf_counter() - start)
    return data.nbytes / best / 1e9


@dataclass(frozen=True)
class ScaleRow:
    """One method on one code set: build time, median time per query, recall, bytes read."""

    codes: str
    n: int
    bits: int
    method: str
    setting: str
    build_s: float
    median_ms: float
    recall: float  # recall@10 against the exact top-10 (ties counted as found); 1 for exact methods
    bytes_read: int | None  # bytes an exact method must read per query (None: approximate)


def per_query(search: Callable[[np.ndarray, int], object], queries: np.ndarray, k: int) -> Callable[[], None]:
    """A call that searches every query on its own (one query at a time, as a user request would)."""

    def run() -> None:
        for query in queries:
            search(query[None], k)

    return run


def tie_aware_recall(found: np.ndarray, exact_distances: np.ndarray) -> float:
    """Mean over queries of ``|found codes at distance <= the exact k-th| / k`` (equally near counts)."""
    kth = exact_distances[:, -1:]
    hits = (found <= kth).sum(axis=1)
    return float(np.mean(np.minimum(hits, exact_distances.shape[1]) / exact_distances.shape[1]))


def timed_build(data: CodeSet, backend: str) -> tuple[HammingIndex, float]:
    """An index over ``data.codes``, built and searched once (lazy back ends build then); seconds taken."""
    start = time.perf_counter()
    index = HammingIndex(data.bits, backend)
    index.add(data.codes)
    index.search(data.queries[:1], 1)
    return index, time.perf_counter() - start


def exact_rows(
    data: CodeSet, k: int, repeats: int, workdir: Path, methods: tuple[str, ...]
) -> tuple[list[ScaleRow], tuple[np.ndarray, np.ndarray]]:
    """Every exact method, checked against the flat scan, then timed; and the exact answer."""
    n, per_code = len(data.codes), data.bits // 8
    rows, answer = [], None
    search: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]
    for method in ("faiss", *methods):
        if method == "file":
            start = time.perf_counter()
            path = write_codes(workdir / f"{data.name}.codes", data.codes, data.bits)
            store = CodeFile.open(path)
            build_s = time.perf_counter() - start
            search, bytes_read = store.search, store.bytes_streamed_per_search
        else:
            index, build_s = timed_build(data, method)
            search, bytes_read = index.search, n * per_code
        result = search(data.queries, k)
        if answer is None:
            answer = result
        elif not all(np.array_equal(a, b) for a, b in zip(result, answer, strict=True)):
            raise AssertionError(f"{method} disagrees with the flat scan on {data.name} codes")
        if method == "mih":
            bytes_read = _mih_bytes(index, per_code)  # from the check's search
        ms = median_ms(per_query(search, data.queries, k), repeats) / len(data.queries)
        name = {
            "faiss": "faiss flat",
            "numpy": "numpy batched",
            "mih": "multi-index hashing",
            "file": "numpy, file",
        }
        rows.append(ScaleRow(data.name, n, data.bits, name[method], "exact", build_s, ms, 1.0, bytes_read))
    assert answer is not None
    return rows, answer


def _mih_bytes(index: HammingIndex, per_code: int) -> int:
    """Bytes multi-index hashing read per query in its last search: the candidates' codes and ids."""
    stats = index.last_stats
    assert stats is not None
    return int(stats.candidates.mean() * (per_code + 8))


def approximate_rows(
    data: CodeSet, exact_distances: np.ndarray, k: int, repeats: int, backends: tuple[str, ...]
) -> list[ScaleRow]:
    """Each approximate back end built once, then searched at every value of its search-time option."""
    rows = []
    for backend in backends:
        option, values = SWEEPS[backend]
        index, build_s = timed_build(data, backend)
        for value in values:
            index.configure(**{option: value})
            distances, _ = index.search(data.queries, k)
            ms = median_ms(per_query(index.search, data.queries, k), repeats) / len(data.queries)
            recall = tie_aware_recall(distances, exact_distances)
            rows.append(
                ScaleRow(
                    data.name,
                    len(data.codes),
                    data.bits,
                    backend,
                    f"{option}={value}",
                    build_s,
                    ms,
                    recall,
                    None,
                )
            )
    return rows


def format_table(rows: list[ScaleRow], bandwidth_gbs: float) -> str:
    """The scale table: time per query, speed-up against the flat scan, recall, and the bound."""
    flat = {(r.codes, r.n): r.median_ms for r in rows if r.method == "faiss flat"}
    header = (
        f"{'codes':<10}{'N':>11}  {'method':<20}{'setting':<13}{'build s':>9}{'ms/query':>10}"
        f"{'vs flat':>9}{'recall@10':>10}{'MB read':>9}{'bound ms':>10}{'of bound':>9}"
    )
    lines = [header]
    for r in rows:
        bound = None if r.bytes_read is None else r.bytes_read / (bandwidth_gbs * 1e9) * 1e3
        bound_text = "-" if bound is None else f"{bound:.4f}"
        read_text = "-" if r.bytes_read is None else f"{r.bytes_read / 1e6:.3f}"
        share = "-" if bound is None else f"{bound / r.median_ms:.0%}"
        lines.append(
            f"{r.codes:<10}{r.n:>11}  {r.method:<20}{r.setting:<13}{r.build_s:>9.1f}{r.median_ms:>10.3f}"
            f"{flat[(r.codes, r.n)] / r.median_ms:>8.1f}x{r.recall:>10.3f}"
            f"{read_text:>9}{bound_text:>10}{share:>9}"
        )
    return "\n".join(lines)


def goal_report(rows: list[ScaleRow]) -> list[str]:
    """The two goals of the large-N search, on clustered codes at the largest N: met or not."""
    largest = max(r.n for r in rows)
    clustered = [r for r in rows if r.codes == "clustered" and r.n == largest]
    if not clustered:
        return []
    flat = next(r.median_ms for r in clustered if r.method == "faiss flat")
    lines = []
    for r in clustered:
        if r.method == "multi-index hashing":
            ratio = flat / r.median_ms
            verdict = "met" if ratio >= MIH_GOAL else "NOT met"
            lines.append(
                f"goal: multi-index hashing, clustered, N={largest}: >= {MIH_GOAL:g}x faiss flat, identical "
                f"results -> {ratio:.1f}x ({verdict})"
            )
    minimum_recall, minimum_speed = APPROXIMATE_GOAL
    candidates = [r for r in clustered if r.method in ("ivf", "hnsw")]
    if not candidates:  # no IVF or HNSW at this N: nothing to judge
        return lines
    good = [r for r in candidates if r.recall >= minimum_recall]
    best = max(good, key=lambda r: flat / r.median_ms, default=None)
    found = (
        "none"
        if best is None
        else f"{best.method} {best.setting}: {flat / best.median_ms:.1f}x, recall {best.recall:.3f}"
    )
    met = best is not None and flat / best.median_ms >= minimum_speed
    lines.append(
        f"goal: IVF or HNSW, clustered, N={largest}: recall@10 >= {minimum_recall} at >= {minimum_speed:g}x "
        f"faiss flat -> {found} ({'met' if met else 'NOT met'})"
    )
    return lines


def run(
    sizes: list[int],
    bits: int,
    kinds: list[str],
    num_queries: int,
    k: int,
    repeats: int,
    exact: tuple[str, ...],
    approximate: tuple[str, ...],
    hnsw_max: int,
    bandwidth_gbs: float,
) -> list[ScaleRow]:
    """Every method on every (kind, N); prints each (kind, N)'s rows of the table as they are measured."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="minirec-codes-") as workdir:
        for n in sizes:
            for kind in kinds:
                data = (
                    clustered_codes(n, bits, num_queries)
                    if kind == "clustered"
                    else random_codes(n, bits, num_queries)
                )
                found, answer = exact_rows(data, k, repeats, Path(workdir), exact)
                backends = tuple(b for b in approximate if b != "hnsw" or n <= hnsw_max)
                block = found + approximate_rows(data, answer[0], k, repeats, backends)
                print("\n".join(format_table(block, bandwidth_gbs).splitlines()[1:]), flush=True)
                rows += block
    return rows


def _names(text: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"expected names from {', '.join(allowed)}, got {unknown[0]!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.experiments.hamming_scale", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes", type=_positive_ints, default=[10**7], help="database sizes N (default 1e7)"
    )
    parser.add_argument("--bits", type=int, default=64, help="code length, a multiple of 8 (default 64)")
    parser.add_argument(
        "--codes",
        type=lambda t: _names(t, ("clustered", "random")),
        default=("clustered", "random"),
        help="kinds of codes (default clustered,random)",
    )
    parser.add_argument(
        "--queries", type=int, default=20, help="queries, each searched on its own (default 20)"
    )
    parser.add_argument("--k", type=int, default=10, help="neighbours per query (default 10)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed repeats; the median is shown (default 5)"
    )
    parser.add_argument(
        "--exact",
        type=lambda t: _names(t, ("numpy", "mih", "file")),
        default=("numpy", "mih", "file"),
        help="exact methods beside faiss flat (default numpy,mih,file)",
    )
    parser.add_argument(
        "--approximate",
        type=lambda t: _names(t, tuple(SWEEPS)),
        default=tuple(SWEEPS),
        help="approximate back ends, each over its search-time setting (default ivf,hnsw,multihash)",
    )
    parser.add_argument(
        "--hnsw-max",
        type=int,
        default=10**5,
        help="largest N for HNSW, whose graph takes long to build: minutes at 1e6 (default 1e5)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    import faiss

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.bits < 8 or args.bits % 8:
        parser.error(f"argument --bits: got {args.bits}, expected a positive multiple of 8")
    for name in ("queries", "k", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name}: got {getattr(args, name)}, expected a number >= 1")
    if args.k > min(args.sizes):
        parser.error(f"argument --k: got {args.k}, expected at most the smallest --sizes ({min(args.sizes)})")
    bandwidth = read_bandwidth_gbs()
    print(
        f"exact top-{args.k}, one query at a time ({args.queries} queries, median of {args.repeats}); "
        f"{args.bits}-bit codes; faiss threads {faiss.omp_get_max_threads()}; "
        f"memory read bandwidth {bandwidth:.1f} GB/s (bound = bytes read / bandwidth)",
        flush=True,
    )
    print(format_table([], bandwidth), flush=True)  # the header; run prints the rows as they come
    rows = run(
        args.sizes,
        args.bits,
        list(args.codes),
        args.queries,
        args.k,
        args.repeats,
        args.exact,
        args.approximate,
        args.hnsw_max,
        bandwidth,
    )
    for line in goal_report(rows):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
