"""Saved experiment runs (one JSON file each) and the table that compares them with a baseline.

Every experiment command writes the same record with ``--save FILE``::

    {"name": "bits16", "experiment": "seqhash",
     "config": {"bits": 16, "relaxation": "tanh", ...},
     "metrics": {"binary HR@10": 0.21, ...}}

``python -m minirec.experiments.runs build/runs --baseline baseline`` prints one row per run name: what
changed against the baseline's config, and every metric with its difference from the baseline.
Runs saved with ``--seeds 0,1,2`` share their name and form one row of mean ± std.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from minirec.core.distributed import is_main
from minirec.data.errors import DataFormatError
from minirec.data.io import atomic_write_json, iter_text_lines


@dataclass(frozen=True)
class Run:
    """One experiment run: its settings and its results (numbers only)."""

    name: str
    experiment: str
    config: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)


def save_run(path: str | Path, run: Run) -> None:
    """Write ``run`` as JSON (atomically: a crash leaves the old file or none, never half a file).

    On several processes (torchrun) only rank 0 writes: every process holds the same run.
    """
    if not is_main():
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, asdict(run), sort_keys=False)  # keep the metrics in the order they were made


def load_run(path: str | Path) -> Run:
    """Read one run file; a missing field or a non-numeric metric names the file and the field."""
    text = "\n".join(line for _, line in iter_text_lines(path))  # names the file and line of bad UTF-8
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"not JSON ({error.msg})", line=error.lineno) from None
    except RecursionError:
        raise DataFormatError(path, "nested too deeply; expected a run record") from None
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
    """``key=value`` for every setting that differs from the baseline's (``-`` if none); seeds ignored."""
    keys = sorted((set(config) | set(baseline)) - {"seed"})
    changed = [f"{k}={config.get(k)}" for k in keys if config.get(k) != baseline.get(k)]
    return ", ".join(changed) or "-"


@dataclass(frozen=True)
class RunGroup:
    """The runs of one name (one per seed): the same experiment and settings, seeds aside."""

    name: str
    experiment: str
    config: dict[str, Any]
    seeds: tuple[Any, ...]
    values: dict[str, list[float]]

    def mean(self, metric: str) -> float:
        return statistics.fmean(self.values[metric])

    def std(self, metric: str) -> float:
        """Sample standard deviation over seeds (0 for a single run)."""
        values = self.values[metric]
        return statistics.stdev(values) if len(values) > 1 else 0.0


def group_runs(runs: list[Run]) -> list[RunGroup]:
    """Runs grouped by name, in first-seen order; a name must mean one setting, each seed once."""
    grouped: dict[str, list[Run]] = {}
    for run in runs:
        grouped.setdefault(run.name, []).append(run)
    groups = []
    for name, members in grouped.items():
        first = members[0]
        for other in members[1:]:
            if other.experiment != first.experiment or changes(other.config, first.config) != "-":
                raise ValueError(
                    f"runs named {name!r} differ in more than the seed: {changes(other.config, first.config)}"
                )
        seeds = tuple(m.config.get("seed") for m in members)
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"run names must be unique per seed: {name!r} has seeds {list(seeds)}")
        metrics = [k for k in first.metrics if all(k in m.metrics for m in members)]
        groups.append(
            RunGroup(
                name,
                first.experiment,
                first.config,
                seeds,
                {k: [m.metrics[k] for m in members] for k in metrics},
            )
        )
    return groups


def format_value(group: RunGroup, metric: str, digits: int) -> str:
    """``mean`` for one run, ``mean ± std`` for several."""
    if len(group.seeds) == 1:
        return f"{group.mean(metric):.{digits}f}"
    return f"{group.mean(metric):.{digits}f} ± {group.std(metric):.{digits}f}"


def render(rows: list[list[str]], text_columns: int) -> str:
    """Aligned columns, the first ``text_columns`` left, numbers right; a rule under the head."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: list[str]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i < text_columns else c.rjust(w) for i, (c, w) in enumerate(cells))

    lines = [line(row) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def summarise(runs: list[Run], digits: int = 3) -> str:
    """One line per metric: mean ± std over the given runs (the seeds of one setting), and n."""
    group = group_runs(runs)
    if len(group) != 1:
        raise ValueError(f"summarise takes the runs of one name, got {[g.name for g in group]}")
    rows = [["metric", "mean ± std", "seeds"]]
    rows += [[m, format_value(group[0], m, digits), str(len(group[0].seeds))] for m in group[0].values]
    return render(rows, 1)


def comparison_table(runs: list[Run], baseline: str | None = None, digits: int = 3) -> str:
    """Baseline first, then the other runs: changed settings, each metric and its difference.

    Runs of one name (several seeds) share a row, shown as mean ± std with the number of seeds.
    Runs of every experiment fit in one table: a column per experiment and metric ("-" where a
    run has none; the experiment's name heads it when two experiments share a metric's name);
    "changed" and the differences compare runs with the baseline of their own experiment only.
    """
    if not runs:
        raise ValueError("no runs to compare")
    groups = group_runs(runs)
    names = [g.name for g in groups]
    base = next((g for g in groups if g.name == (baseline or names[0])), None)
    if base is None:
        raise ValueError(f"no run named {baseline!r}; runs: {names}")
    ordered = [base] + [g for g in groups if g is not base]
    # a column is one experiment's metric: two experiments may use one name for different things
    columns = list(dict.fromkeys((g.experiment, m) for g in ordered for m in g.values))
    shared = {m for e, m in columns if sum(1 for _, n in columns if n == m) > 1}
    mixed = len({g.experiment for g in ordered}) > 1
    heads = [f"{e}: {m}" if m in shared else m for e, m in columns]
    rows = [["run", *(["experiment"] if mixed else []), "seeds", "changed", *heads]]
    for group in ordered:
        if group is base:
            changed = "(baseline)"
        elif group.experiment != base.experiment:
            changed = "(other experiment)"
        else:
            changed = changes(group.config, base.config)
        cells = [group.name, *([group.experiment] if mixed else []), str(len(group.seeds)), changed]
        for experiment, m in columns:
            if experiment != group.experiment or m not in group.values:
                cells.append("-")
                continue
            shown = format_value(group, m, digits)
            comparable = group is not base and group.experiment == base.experiment and m in base.values
            delta = group.mean(m) - base.mean(m) if comparable else 0.0
            cells.append(
                f"{shown} ({delta:+.{digits}f})" if round(delta, digits) != 0 else shown
            )  # no "(-0.000)"
        rows.append(cells)
    return render(rows, 4 if mixed else 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.experiments.runs", description=__doc__.split("\n\n")[0]
    )
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
