"""Classroom use: student versions of the notebooks made by nbgrader, and grading them both ways.

``make assignments`` (``python -m minirec.course.assignments``) lays out an nbgrader course in
``build/nbgrader``: ``source/<notebook>/<notebook>.ipynb`` holds the notebooks with their
solutions, and nbgrader's own ``generate_assignment`` writes the student versions to
``release/<notebook>/<notebook>.ipynb`` (solutions replaced by ``raise NotImplementedError()``,
hidden tests removed, outputs cleared; checksums and tests recorded in ``gradebook.db``). From
that folder an instructor runs nbgrader as usual (``nbgrader collect``, ``nbgrader autograde``).

Every exercise is a *solution cell* (``### BEGIN SOLUTION`` / ``### END SOLUTION``) followed by an
autograded *test cell* with visible asserts and ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN
TESTS``. :func:`grade_both_ways` executes a notebook the way ``nbgrader autograde`` grades it and
reports, per exercise, the points of the student version and of the solution.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from minirec.course.runner import REPO_ROOT, CurrentEnvKernelManager
from minirec.data.io import atomic_directory, atomic_write_text

NOTEBOOKS = REPO_ROOT / "notebooks"
COURSE = REPO_ROOT / "build" / "nbgrader"
MIN_EXERCISES = 3
NBGRADER_CONFIG = """# nbgrader settings of the minirec course (written by `make assignments`).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "minirec"
c.Execute.timeout = 600  # seconds per cell: notebooks train models (nbgrader's default is 30)
"""


def nbgrader_role(cell: nbformat.NotebookNode) -> str | None:
    """``"solution"``, ``"tests"`` or ``None`` from a cell's nbgrader metadata."""
    marks = cell.get("metadata", {}).get("nbgrader", {})
    if marks.get("solution"):
        return "solution"
    if marks.get("grade"):
        return "tests"
    return None


@dataclass(frozen=True)
class Exercise:
    """One exercise: the indices of its solution cell and of its autograded test cell."""

    solution: int
    tests: int
    grade_id: str
    points: float


def exercises(notebook: nbformat.NotebookNode) -> list[Exercise]:
    """Every (solution cell, test cell) pair, in order."""
    found, pending = [], None
    for index, cell in enumerate(notebook.cells):
        role = nbgrader_role(cell)
        if role == "solution":
            pending = index
        elif role == "tests" and pending is not None:
            marks = cell.metadata["nbgrader"]
            found.append(Exercise(pending, index, marks["grade_id"], float(marks["points"])))
            pending = None
    return found


def markup_problems(notebook: nbformat.NotebookNode, name: str) -> list[str]:
    """What stops nbgrader (or a fair grade) in ``notebook``; empty when the markup is sound."""
    problems = []
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if nbgrader_role(c)]
    if len(ids) != len(set(ids)):
        problems.append(f"{name}: grade_id values repeat: {sorted(ids)}")
    for index, cell in enumerate(notebook.cells):
        role = nbgrader_role(cell)
        if "### BEGIN SOLUTION" in cell.source and role != "solution":
            problems.append(f"{name}, cell {index}: has '### BEGIN SOLUTION' but no nbgrader solution mark")
        if role == "solution" and "### END SOLUTION" not in cell.source:
            problems.append(f"{name}, cell {index}: solution cell without '### END SOLUTION'")
        if role == "tests" and "### BEGIN HIDDEN TESTS" not in cell.source:
            problems.append(f"{name}, cell {index}: test cell without hidden tests")
    solutions = sum(nbgrader_role(c) == "solution" for c in notebook.cells)
    found = exercises(notebook)
    if solutions != len(found):
        problems.append(f"{name}: {solutions} solution cells but {len(found)} are followed by a test cell")
    if len(found) < MIN_EXERCISES:
        problems.append(f"{name}: {len(found)} exercises, expected at least {MIN_EXERCISES}")
    return problems


def nbgrader_api(course: Path):  # -> nbgrader.apps.NbGraderAPI
    """nbgrader's Python API on the course folder ``course``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    # nbgrader upgrades its gradebook by running the `alembic` command, installed next to this
    # interpreter; without the environment activated, that folder may not be on PATH.
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = "minirec"
    config.Execute.timeout = 600
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def generate_student_versions(notebooks: list[Path], course: Path = COURSE) -> dict[str, Path]:
    """Build the nbgrader course in ``course`` (atomically) and return each student version's path."""
    problems = [p for path in notebooks for p in markup_problems(nbformat.read(path, 4), path.name)]
    if problems:
        raise ValueError("nbgrader markup problems:\n" + "\n".join(problems))
    with atomic_directory(course) as staging:
        atomic_write_text(staging / "nbgrader_config.py", NBGRADER_CONFIG)
        api = nbgrader_api(staging)
        for path in notebooks:
            source = staging / "source" / path.stem / path.name
            source.parent.mkdir(parents=True)
            shutil.copyfile(path, source)
            result = api.generate_assignment(path.stem, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(
                    f"nbgrader generate_assignment {path.stem} failed:\n"
                    f"{result.get('error', '')}\n{result.get('log', '')}"
                )
    return {path.stem: course / "release" / path.stem / path.name for path in notebooks}


@dataclass(frozen=True)
class ExerciseGrade:
    """Points of one autograded test cell for the student version and for the solution."""

    grade_id: str
    student: float
    solution: float
    max_points: float
    solution_failure: str | None = None  # what went wrong when the solution lost points


def failure(cell: nbformat.NotebookNode) -> str | None:
    """The error (or stderr text) of an executed cell, or ``None`` if it ran cleanly."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}"
        if output.output_type == "stream" and output.name == "stderr":
            return f"stderr: {output.text.strip()[:500]}"
    return None


def grade_both_ways(source: Path, student: Path, timeout: int = 600) -> list[ExerciseGrade]:
    """Grade the blank student version and the solution of one notebook, in one kernel.

    As ``nbgrader autograde`` does, the test cells always come from the source (hidden tests
    included) and a test cell earns its points when it runs without error. The cells before the
    first exercise are shared, so they run once. The exercise part then runs with the student's
    cells first, so no solution can leak into the blanks' grades, and then with the solutions,
    which redefine whatever the blanks left behind.
    """
    from nbgrader.utils import determine_grade

    solution_nb, student_nb = nbformat.read(source, 4), nbformat.read(student, 4)
    if [nbgrader_role(c) for c in solution_nb.cells] != [nbgrader_role(c) for c in student_nb.cells]:
        raise ValueError(f"{student} does not match {source}: were they generated from it?")
    found = exercises(solution_nb)
    first = found[0].solution
    # nbclient stores every executed cell back into its own notebook: give it a scratch copy
    client = NotebookClient(
        copy.deepcopy(solution_nb),
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )

    def run(cell: nbformat.NotebookNode, index: int) -> nbformat.NotebookNode:
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "code":
            cell.outputs = []
            client.execute_cell(cell, index)
        return cell

    points: dict[str, dict[str, float]] = {"student": {}, "solution": {}}
    failures: dict[str, str | None] = {}
    with client.setup_kernel():
        for index in range(first):
            run(solution_nb.cells[index], index)
        for version, notebook in (("student", student_nb), ("solution", solution_nb)):
            for index in range(first, len(solution_nb.cells)):
                is_test = nbgrader_role(solution_nb.cells[index]) == "tests"
                cell = run(solution_nb.cells[index] if is_test else notebook.cells[index], index)
                if is_test:
                    grade_id = cell.metadata["nbgrader"]["grade_id"]
                    points[version][grade_id] = determine_grade(cell)[0]
                    failures[grade_id] = failure(cell)
    return [
        ExerciseGrade(
            e.grade_id,
            points["student"][e.grade_id],
            points["solution"][e.grade_id],
            e.points,
            failures[e.grade_id] if points["solution"][e.grade_id] < e.points else None,
        )
        for e in found
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.course.assignments", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: all of notebooks/)")
    parser.add_argument("--course", type=Path, default=COURSE, help=f"course folder (default {COURSE})")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    releases = generate_student_versions(notebooks, args.course)
    for stem, path in releases.items():
        count = len(exercises(nbformat.read(path, 4)))
        print(f"{stem:26s} {count} exercises -> {os.path.relpath(path)}")
    print(
        f"\nnbgrader course in {args.course}: hand out release/, then from that folder run "
        "`nbgrader collect <notebook>` and `nbgrader autograde <notebook>`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
