"""Headline numbers: each notebook ends by recording the few numbers that sum it up.

In a notebook, :func:`record_headline` prints them. Under ``make run`` (which sets
``MINIREC_RESULTS_DIR``) it also saves them as JSON, and the runner prints one table row per
notebook from those files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from minirec.data.io import atomic_write_json

RESULTS_DIR_VARIABLE = "MINIREC_RESULTS_DIR"


def format_value(value: float | int | str) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def record_headline(notebook: str, metrics: dict[str, float | int | str]) -> None:
    """Print ``metrics`` and, when ``$MINIREC_RESULTS_DIR`` is set, save them as ``<notebook>.json``."""
    print(f"headline of {notebook}: " + ", ".join(f"{k} = {format_value(v)}" for k, v in metrics.items()))
    folder = os.environ.get(RESULTS_DIR_VARIABLE)
    if folder:
        atomic_write_json(Path(folder) / f"{notebook}.json", metrics, sort_keys=False)


def read_headline(folder: str | Path, notebook: str) -> dict[str, float | int | str] | None:
    path = Path(folder) / f"{notebook}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
