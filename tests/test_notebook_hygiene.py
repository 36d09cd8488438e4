"""Committed notebooks carry the outputs of one clean, in-order run (CONTRIBUTING.md)."""

from __future__ import annotations

import json

import pytest
from conftest import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_cells(path):
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no NN_*.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_execution_counts_run_1_to_n_in_order(path):
    counts = [c["execution_count"] for c in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_or_stderr_in_committed_outputs(path):
    for index, cell in enumerate(code_cells(path), start=1):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}, code cell {index}: error output"
            is_stderr = output["output_type"] == "stream" and output["name"] == "stderr"
            assert not is_stderr, f"{path.name}, code cell {index}: stderr: {''.join(output['text'])[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_progress_widgets_in_committed_outputs(path):
    """A saved widget renders as a frozen "0%" bar outside a live kernel (the runner turns bars off)."""
    for index, cell in enumerate(code_cells(path), start=1):
        for output in cell.get("outputs", []):
            widget = "application/vnd.jupyter.widget-view+json" in output.get("data", {})
            assert not widget, (
                f"{path.name}, code cell {index}: a widget output ({output['data'].get('text/plain')})"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_template(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    for heading in ("## Summary", "## Exercises", "## References"):
        assert heading in text, f"{path.name} lacks a '{heading}' section"
