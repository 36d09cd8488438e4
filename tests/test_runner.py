"""`make run`'s runner executes real notebooks with a real kernel and tabulates headlines."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from minirec.course.runner import main


def write_notebook(path, *sources):
    nbformat.write(
        new_notebook(
            cells=[new_code_cell(s) for s in sources],
            metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        ),
        path,
    )
    return path


@pytest.mark.slow
def test_runner_executes_into_build_and_prints_the_table(tmp_path, capsys):
    source = write_notebook(
        tmp_path / "00_demo.ipynb",
        "from minirec.course.report import record_headline",
        "record_headline('00_demo', {'auc': 0.75, 'users': 3})",
    )
    before = source.read_bytes()
    assert main([str(source), "--out", str(tmp_path / "build")]) == 0
    out = capsys.readouterr().out
    assert "00_demo" in out and "auc 0.750, users 3" in out and "ok" in out
    executed = nbformat.read(tmp_path / "build" / "notebooks" / "00_demo.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["text"].startswith("headline of 00_demo")
    assert source.read_bytes() == before  # the committed notebook is never touched


@pytest.mark.slow
def test_runner_reports_a_failing_notebook(tmp_path, capsys):
    source = write_notebook(tmp_path / "01_broken.ipynb", "assert 1 + 1 == 3, 'arithmetic is broken'")
    assert main([str(source), "--out", str(tmp_path / "build")]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "arithmetic is broken" in out


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.ipynb", None, "missing.ipynb: no such notebook file"),
        ("notes.txt", "{}", "notes.txt: expected a .ipynb notebook"),
        ("broken.ipynb", "not json", "broken.ipynb: not a readable notebook (NotJSONError"),
    ],
)
def test_runner_and_assignments_refuse_what_is_not_a_notebook(tmp_path, capsys, name, content, message):
    from minirec.course import assignments

    if content is not None:
        (tmp_path / name).write_text(content)
    for command in (main, assignments.main):
        with pytest.raises(SystemExit) as stop:
            command(
                [
                    str(tmp_path / name),
                    "--course" if command is assignments.main else "--out",
                    str(tmp_path / "o"),
                ]
            )
        assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
