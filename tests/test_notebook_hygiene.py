"""Committed notebooks carry the outputs of one clean, in-order run (CONTRIBUTING.md)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADINGS_IN_ORDER = ("## Summary", "## Exercises", "## Review questions", "## References")


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


def numbered_items(markdown: str) -> int:
    return len(re.findall(r"^\s*\d+\.\s", markdown, flags=re.MULTILINE))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_ends_with_review_questions_and_hidden_answers(path):
    """3-5 conceptual questions after the exercises, their answers in a collapsed <details> block."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    headings = [next((i for i, m in enumerate(markdown) if m.startswith(h)), None) for h in HEADINGS_IN_ORDER]
    assert None not in headings and headings == sorted(headings), (
        f"{path.name}: expected the sections {HEADINGS_IN_ORDER} in this order, found them at {headings}"
    )
    review = markdown[headings[2]]
    if "<details>" not in review:  # the answers may sit in the next Markdown cell
        review += "\n" + markdown[headings[2] + 1]
    questions, _, answers = review.partition("<details>")
    assert 3 <= numbered_items(questions) <= 5, f"{path.name}: {numbered_items(questions)} review questions"
    assert "</details>" in answers, f"{path.name}: the answers are not in a closed <details> block"
    assert numbered_items(answers) == numbered_items(questions), f"{path.name}: one answer per question"
