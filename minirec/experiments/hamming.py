"""``python -m minirec.experiments.hamming`` (``make bench``): top-k search over binary codes, timed.

One table, every number from the same run: for each database size ``N``, code length and number
of queries, the median time of top-k search by

- ``float32``: real-valued inner product and top-k in torch (the baseline),
- ``±1 as float32``: the same with binary codes stored as floats (binary alone does not help),
- ``numpy packed``: minirec's from-scratch XOR + popcount over 64-bit words (queries in blocks,
  every core: :func:`minirec.hashing.packed.topk_over_columns`),
- ``faiss binary``: ``faiss.IndexBinaryFlat``, the default back end of ``HammingIndex``,

with speed-ups against float32 and against faiss (``reference ms / this ms``). The binary methods
are checked to return the same neighbours before anything is timed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from minirec.hashing.index import HammingIndex
from minirec.hashing.packed import MIN_THREAD_PAIRS, default_threads, pack_codes

METHODS = ("float32", "±1 as float32", "numpy packed", "faiss binary")
BASELINE, DEFAULT_BACKEND = "float32", "faiss binary"


@dataclass(frozen=True)
class Timing:
    """Median wall time of one method on one setting."""

    method: str
    n: int
    bits: int
    queries: int
    median_ms: float


def median_ms(function: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``function()`` in milliseconds, after one untimed warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def float_topk(
    queries: torch.Tensor, columns: torch.Tensor, k: int, block_scores: int = 2**20
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` inner products of each query ``(q, D)`` against the database stored as ``(D, n)``.

    The ``(D, n)`` layout (one contiguous row per dimension) was the fastest float32 layout we
    measured for this product on CPU (2-3x faster than ``(n, D)`` at 128 dimensions). For many
    queries the database is scanned in blocks of about ``block_scores`` scores (4 MB, cache-sized),
    keeping the top ``k`` of each block: twice as fast at 100 queries as one ``(q, n)`` score
    matrix. Both choices keep the float32 baseline from being handicapped.
    """
    n = columns.shape[1]
    block = max(k, block_scores // len(queries))
    if block >= n:
        return torch.topk(queries @ columns, k, dim=1)
    values, ids = [], []
    for start in range(0, n, block):
        scores = queries @ columns[:, start : start + block]
        top = torch.topk(scores, min(k, scores.shape[1]), dim=1)
        values.append(top.values)
        ids.append(top.indices + start)
    best = torch.topk(torch.cat(values, dim=1), k, dim=1)
    return best.values, torch.gather(torch.cat(ids, dim=1), 1, best.indices)


@dataclass
class SearchProblem:
    """One database and query set in every representation the methods need."""

    columns: torch.Tensor  # (D, n) float32, real-valued
    queries: torch.Tensor  # (q, D) float32
    sign_columns: torch.Tensor  # (D, n), ±1 as float32
    sign_queries: torch.Tensor
    packed_queries: np.ndarray  # (q, D/8) uint8
    indexes: dict[str, HammingIndex]  # "numpy packed" / "faiss binary"

    @classmethod
    def random(cls, n: int, bits: int, num_queries: int, seed: int = 0) -> SearchProblem:
        """Gaussian vectors; the codes are their signs (as a hashing layer would output)."""
        generator = torch.Generator().manual_seed(seed)
        database = torch.randn(n, bits, generator=generator)
        queries = torch.randn(num_queries, bits, generator=generator)
        packed = pack_codes(database.numpy() > 0)
        indexes = {"numpy packed": HammingIndex(bits, "numpy"), "faiss binary": HammingIndex(bits, "faiss")}
        for index in indexes.values():
            index.add(packed)
        columns = database.T.contiguous()
        return cls(
            columns,
            queries,
            torch.sign(columns),
            torch.sign(queries),
            pack_codes(queries.numpy() > 0),
            indexes,
        )

    def search(self, method: str, num_queries: int, k: int) -> Callable[[], object]:
        """A call that runs ``method`` on the first ``num_queries`` queries."""
        if method == "float32":
            return lambda: float_topk(self.queries[:num_queries], self.columns, k)
        if method == "±1 as float32":
            return lambda: float_topk(self.sign_queries[:num_queries], self.sign_columns, k)
        index = self.indexes[method]
        return lambda: index.search(self.packed_queries[:num_queries], k)

    def check_agreement(self, k: int) -> None:
        """Both binary back ends give identical results, and ``±1`` inner products are ``D - 2 * Hamming``."""
        numpy_result = self.indexes["numpy packed"].search(self.packed_queries, k)
        faiss_result = self.indexes["faiss binary"].search(self.packed_queries, k)
        if not all(np.array_equal(a, b) for a, b in zip(numpy_result, faiss_result, strict=True)):
            raise AssertionError("numpy and faiss back ends disagree")
        inner, _ = float_topk(self.sign_queries, self.sign_columns, k)
        bits = self.columns.shape[0]
        if not np.array_equal(inner.numpy(), bits - 2 * faiss_result[0]):
            raise AssertionError("±1 inner products are not D - 2 * Hamming distance")


def run_benchmark(
    sizes: list[int],
    bit_lengths: list[int],
    query_counts: list[int],
    k: int = 10,
    repeats: int = 7,
    methods: tuple[str, ...] = METHODS,
    seed: int = 0,
) -> list[Timing]:
    """Time every method on every (N, bits, queries) setting; returns one :class:`Timing` each."""
    timings = []
    for n in sizes:
        for bits in bit_lengths:
            problem = SearchProblem.random(n, bits, max(query_counts), seed=seed)
            problem.check_agreement(min(k, n))
            for queries in query_counts:
                for method in methods:
                    ms = median_ms(problem.search(method, queries, min(k, n)), repeats)
                    timings.append(Timing(method, n, bits, queries, ms))
            del problem
    return timings


def speedup(timings: list[Timing], row: Timing, reference: str) -> float | None:
    """``reference ms / row ms`` on the same setting (``None`` when the reference was not run)."""
    for other in timings:
        if (other.method, other.n, other.bits, other.queries) == (reference, row.n, row.bits, row.queries):
            return other.median_ms / row.median_ms
    return None


def format_table(timings: list[Timing]) -> str:
    """The benchmark table, one row per timing."""
    lines = [
        f"{'method':<16}{'N':>10}{'bits':>6}{'queries':>9}{'median ms':>12}{'vs float32':>12}{'vs faiss':>10}"
    ]
    for row in timings:
        ratios = [speedup(timings, row, reference) for reference in (BASELINE, DEFAULT_BACKEND)]
        texts = ["-" if r is None else f"{r:.2f}x" for r in ratios]
        cells = f"{texts[0]:>12}{texts[1]:>10}"
        lines.append(f"{row.method:<16}{row.n:>10}{row.bits:>6}{row.queries:>9}{row.median_ms:>12.2f}{cells}")
    return "\n".join(lines)


GOALS = (  # (method, queries, minimum speed-up against float32) at the largest N, every code length
    (DEFAULT_BACKEND, 1, 8.0),
    ("numpy packed", 1, 2.0),
    (DEFAULT_BACKEND, 100, 2.5),
    ("numpy packed", 100, 2.0),
)


def goal_report(timings: list[Timing]) -> list[str]:
    """One line per speed goal (docs/architecture.md, "Speed goals") that this run measured: met or not."""
    largest = max(t.n for t in timings)
    lines = []
    for method, queries, minimum in GOALS:
        for row in timings:
            if (row.method, row.queries, row.n) != (method, queries, largest):
                continue
            ratio = speedup(timings, row, BASELINE)
            if ratio is not None:
                verdict = "met" if ratio >= minimum else "NOT met"
                lines.append(
                    f"goal: {method}, N={largest}, {row.bits} bits, {queries} "
                    f"{'query' if queries == 1 else 'queries'}: >= {minimum:g}x float32 -> "
                    f"{ratio:.1f}x ({verdict})"
                )
    return lines


def thread_summary() -> str:
    """Threads each library uses: the numbers are only comparable with these."""
    import faiss

    return (
        f"threads: torch {torch.get_num_threads()}, faiss {faiss.omp_get_max_threads()}, "
        f"numpy packed up to {default_threads()} (one per {MIN_THREAD_PAIRS:,} query-code pairs)"
    )


def _positive_ints(text: str) -> list[int]:
    """``"1e6,2000"`` -> ``[1000000, 2000]``: whole positive numbers, scientific notation allowed."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or min(values) < 1 or not all(v.is_integer() for v in values):
        raise argparse.ArgumentTypeError(f"expected whole positive numbers, got {text!r}")
    return [int(v) for v in values]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.experiments.hamming", description=__doc__.split("\n\n")[0]
    )
    numbers = _positive_ints
    parser.add_argument("--sizes", type=numbers, default=[10**6], help="database sizes N (default 1e6)")
    parser.add_argument("--bits", type=numbers, default=[64, 128], help="code lengths (default 64,128)")
    parser.add_argument("--queries", type=numbers, default=[1, 100], help="query counts (default 1,100)")
    parser.add_argument("--k", type=int, default=10, help="neighbours per query (default 10)")
    parser.add_argument("--repeats", type=int, default=9, help="timed repeats per cell; the median is shown")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads for torch and faiss (default: their own defaults)"
    )
    parser.add_argument("--json", action="store_true", help="print the timings as JSON lines after the table")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if any(b % 8 for b in args.bits):
        parser.error(f"--bits must be multiples of 8 (whole bytes), got {args.bits}")
    if args.k < 1 or args.repeats < 1:
        parser.error("--k and --repeats must be >= 1")
    if args.k > min(args.sizes):
        parser.error(f"argument --k: got {args.k}, expected at most the smallest --sizes ({min(args.sizes)})")
    if args.threads is not None and args.threads < 1:
        parser.error(f"argument --threads: got {args.threads}, expected a number >= 1")
    if args.threads is not None:
        import faiss

        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)
    print(f"top-{args.k} search, median of {args.repeats} runs; {thread_summary()}", flush=True)
    timings = run_benchmark(args.sizes, args.bits, args.queries, k=args.k, repeats=args.repeats)
    print(format_table(timings))
    for line in goal_report(timings):
        print(line)
    if args.json:
        import json

        for row in timings:
            print(json.dumps(asdict(row)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
