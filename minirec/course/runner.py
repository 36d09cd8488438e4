"""``python -m minirec.course.runner``: execute every notebook in order, headless, and print a table.

Executed copies go to ``build/notebooks/`` -- the committed notebooks are never touched --
unless ``--in-place`` is given (the maintainer's way to refresh the committed outputs from a
fresh run). Each notebook's headline numbers (:mod:`minirec.course.report`) form one table row.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from minirec.course.report import RESULTS_DIR_VARIABLE, format_value, read_headline
from minirec.data.io import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parents[2]


def notebook_paths(root: Path = REPO_ROOT) -> list[Path]:
    """The collection's notebooks, ``notebooks/NN_*.ipynb``, in reading order."""
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


class CurrentEnvKernelManager(KernelManager):
    """A kernel running this very interpreter, whatever kernelspecs the machine has installed.

    The kernel app logs only errors: its start-up notices (e.g. about the loopback TCP
    transport) would otherwise drown the results table. Warnings raised by notebook code still
    land in the notebook's outputs.
    """

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            self.connection_file,
            "--IPKernelApp.log_level=ERROR",
        ]


@dataclass
class RunResult:
    name: str
    seconds: float
    error: str | None
    headline: dict[str, float | int | str] | None


def execute_notebook(source: Path, target: Path, timeout: int = 600) -> None:
    """Execute ``source`` with its folder as working directory and write it to ``target``."""
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(source.parent)}},
    )
    try:
        client.execute()
    finally:
        atomic_write_text(target, nbformat.writes(notebook) + "\n")


def run_all(notebooks: list[Path], out: Path, in_place: bool) -> list[RunResult]:
    results_dir = out / "results"
    os.environ[RESULTS_DIR_VARIABLE] = str(results_dir)
    # Kernels inherit these: a saved notebook keeps no progress bars, which outside a live kernel
    # would show as frozen "0%" widgets (minirec's own bars, and Hugging Face's when saving/loading).
    os.environ.update({"MINIREC_PROGRESS": "0", "HF_HUB_DISABLE_PROGRESS_BARS": "1"})
    results = []
    for source in notebooks:
        name = source.stem
        (results_dir / f"{name}.json").unlink(missing_ok=True)
        target = source if in_place else out / "notebooks" / source.name
        print(
            f"running {source.relative_to(REPO_ROOT) if source.is_relative_to(REPO_ROOT) else source}",
            flush=True,
        )
        start = time.perf_counter()
        error = None
        try:
            execute_notebook(source, target)
        except CellExecutionError as err:
            error = str(err).strip().splitlines()[-1][:200]
        results.append(RunResult(name, time.perf_counter() - start, error, read_headline(results_dir, name)))
    return results


def results_table(results: list[RunResult]) -> str:
    """A plain-text table: notebook, seconds, status and its headline numbers."""
    rows = [("notebook", "seconds", "status", "headline")]
    for r in results:
        headline = ", ".join(f"{k} {format_value(v)}" for k, v in (r.headline or {}).items())
        rows.append(
            (
                r.name,
                f"{r.seconds:.1f}",
                "FAILED" if r.error else "ok",
                r.error if r.error else headline or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [" | ".join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths) + "-+-" + "-" * 8)
    return "\n".join(lines)


def notebook_problem(path: Path) -> str | None:
    """Why ``path`` is not a notebook this tool can run (checked before any is run), or ``None``."""
    if not path.is_file():
        return f"{path}: no such notebook file"
    if path.suffix != ".ipynb":
        return f"{path}: expected a .ipynb notebook"
    try:
        nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises JSON, schema and Unicode errors alike
        return f"{path}: not a readable notebook ({type(err).__name__}: {str(err)[:120]})"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.course.runner",
        description="Execute the notebooks in order (headless) and print their headline numbers.",
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="notebooks to run (default: notebooks/[0-9][0-9]_*.ipynb in order)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "build",
        help="folder for executed notebooks and results (default: build/)",
    )
    parser.add_argument(
        "--in-place", action="store_true", help="overwrite the given notebooks with their executed versions"
    )
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or notebook_paths()
    if not notebooks:
        parser.error("no notebooks found")
    for problem in map(notebook_problem, notebooks):
        if problem:
            parser.error(f"argument notebooks: {problem}")
    results = run_all(notebooks, args.out.resolve(), args.in_place)
    print()
    print(results_table(results))
    print(
        f"\ntotal {sum(r.seconds for r in results):.1f} s; executed notebooks in "
        f"{'place' if args.in_place else args.out / 'notebooks'}"
    )
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
