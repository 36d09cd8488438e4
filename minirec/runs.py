"""Saved experiment runs (one JSON file each) and the table that compares them with a baseline.

Every experiment command writes the same record with ``--save FILE``::

    {"name": "bits16", "experiment": "seqhash",
     "config": {"bits": 16, "relaxation": "tanh", ...},
     "metrics": {"binary HR@10": 0.21, ...}}

``python -m minirec.runs build/runs --baseline baseline`` prints one row per run: what changed
against the baseline's config, and every metric with its difference from the baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from minirec.data.errors import DataFormatError
from minirec.data.io import atomic_write_json


@dataclass(frozen=True)
class Run:
    """One experiment run: its settings and its results (numbers only)."""

    name: str
    experiment: str
    config: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)


def save_run(path: str | Path, run: Run) -> None:
    """Write ``run`` as JSON (atomically: a crash leaves the old file or none, never half a file)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, asdict(run), sort_keys=False)  # keep the metrics in the order they were made


def load_run(path: str | Path) -> Run:
    """Read one run file; a missing field or a non-numeric metric names the file and the field."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"not JSON ({error.msg})", line=error.lineno) from None
    if not isinstance(record, dict):
        raise DataFormatError(path, f"expected a JSON object, got {type(record).__name__}")
    for key, kind in (("name", str), ("experiment", str), ("config", dict), ("metrics", dict)):
        if not isinstance(record.get(key), kind):
            raise DataFormatError(path, f"field {key!r}: expected {kind.__name__}, got {record.get(key)!r}")
    for metric, value in record["metrics"].items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise DataFormatError(path, f"field 'metrics.{metric}': expected a number, got {value!r}")
    return Run(record["name"], record["experiment"], record["config"], record["metrics"])


def load_runs(paths: list[str | Path]) -> list[Run]:
    """Runs from files and folders (every ``*.json`` of a folder, sorted by name)."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"no run files (*.json) in {[str(p) for p in paths]}")
    return [load_run(f) for f in files]


def changes(config: dict[str, Any], baseline: dict[str, Any]) -> str:
    """``key=value`` for every setting that differs from the baseline's (``-`` if none)."""
    keys = sorted(set(config) | set(baseline))
    changed = [f"{k}={config.get(k)}" for k in keys if config.get(k) != baseline.get(k)]
    return ", ".join(changed) or "-"


def comparison_table(runs: list[Run], baseline: str | None = None, digits: int = 3) -> str:
    """Baseline first, then the other runs: changed settings, each metric and its difference."""
    if not runs:
        raise ValueError("no runs to compare")
    experiments = {r.experiment for r in runs}
    if len(experiments) > 1:
        raise ValueError(f"runs of different experiments cannot share a table: {sorted(experiments)}")
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"run names must be unique, got {names}")
    base = next((r for r in runs if r.name == (baseline or runs[0].name)), None)
    if base is None:
        raise ValueError(f"no run named {baseline!r}; runs: {names}")
    ordered = [base] + [r for r in runs if r is not base]
    metrics = [m for m in base.metrics if all(m in r.metrics for r in ordered)]
    rows = [["run", "changed", *metrics]]
    for run in ordered:
        cells = [run.name, "(baseline)" if run is base else changes(run.config, base.config)]
        for m in metrics:
            value, delta = run.metrics[m], run.metrics[m] - base.metrics[m]
            shown = f"{value:.{digits}f}"
            unchanged = run is base or round(delta, digits) == 0  # no "(-0.000)"
            cells.append(shown if unchanged else f"{shown} ({delta:+.{digits}f})")
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: list[str]) -> str:  # text columns left-aligned, numbers right-aligned
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(cells))

    lines = [line(row) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minirec.runs", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run files, or folders of them")
    parser.add_argument("--baseline", default=None, help="name of the baseline run (default: the first)")
    args = parser.parse_args(argv)
    try:
        print(comparison_table(load_runs(args.paths), args.baseline))
    except (ValueError, FileNotFoundError) as error:  # DataFormatError is a ValueError
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
