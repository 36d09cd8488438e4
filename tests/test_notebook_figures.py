"""Figures a reader can read: every plotted axis says what it shows.

Checked from the code of the committed notebooks' figure cells (cells with an image output):
every axes a cell plots on gets an x label, a y label and a title (or the figure a suptitle);
a heat map gets a colour bar; several labelled series get a legend. A cell that shows pictures
of items (no axes to read) says so with the comment ``# figure: pictures``. The plotting helpers
of ``minirec.evaluation.plots`` label their axes themselves (tests/test_helpers.py).
"""

from __future__ import annotations

import ast
import json

import pytest
from conftest import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PLOTS = {"plot", "scatter", "bar", "barh", "hist", "errorbar", "loglog", "semilogx", "semilogy", "boxplot"}
HEAT_MAPS = {"imshow", "matshow", "pcolormesh", "pcolor"}
PICTURES = "# figure: pictures"


def python_source(cell_source: str) -> str:
    """The cell without IPython magics and shell lines."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines()
    )


def figure_problems(source: str) -> list[str]:
    """What a reader cannot read in the figure drawn by ``source`` (empty when all is labelled)."""
    calls = [node for node in ast.walk(ast.parse(python_source(source))) if isinstance(node, ast.Call)]
    methods = [
        (ast.unparse(c.func.value), c.func.attr, c) for c in calls if isinstance(c.func, ast.Attribute)
    ]

    def sets(receiver: str, what: str) -> bool:
        setter = "" if receiver == "plt" else "set_"
        return any(
            r == receiver and (m == setter + what or (m == "set" and any(k.arg == what for k in c.keywords)))
            for r, m, c in methods
        )

    pictures = PICTURES in source
    problems = []
    plotted = {r for r, m, _ in methods if m in PLOTS or (m in HEAT_MAPS and not pictures)}
    for receiver in sorted(plotted):
        for what in ("xlabel", "ylabel"):
            if not sets(receiver, what):
                problems.append(f"{receiver}: no {what}")
        if not (sets(receiver, "title") or any(m == "suptitle" for _, m, _ in methods)):
            problems.append(f"{receiver}: no title")
    if not pictures and any(m in HEAT_MAPS for _, m, _ in methods):
        if not any(m == "colorbar" for _, m, _ in methods):
            problems.append("heat map without a colour bar")
    labelled = sum(any(k.arg == "label" for k in c.keywords) for _, m, c in methods if m in PLOTS)
    if labelled > 1 and not any(m == "legend" for _, m, _ in methods):
        problems.append(f"{labelled} labelled series but no legend")
    return problems


def test_the_check_catches_unlabelled_axes():
    bare = "fig, ax = plt.subplots()\nax.plot(x, y, label='a')\nax.plot(x, z, label='b')\nax.imshow(m)"
    assert figure_problems(bare) == [
        "ax: no xlabel",
        "ax: no ylabel",
        "ax: no title",
        "heat map without a colour bar",
        "2 labelled series but no legend",
    ]
    good = (
        "fig, ax = plt.subplots()\nim = ax.imshow(m)\nfig.colorbar(im, ax=ax, label='weight')\n"
        "ax.set(xlabel='key', ylabel='query', title='attention')"
    )
    assert figure_problems(good) == []
    assert figure_problems("%matplotlib inline\n# figure: pictures\nax.imshow(picture)") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_is_labelled(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    problems = [
        f"cell {index}: {problem}"
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        and any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
        for problem in figure_problems("".join(cell["source"]))
    ]
    assert problems == [], f"{path.name}: {problems}"
