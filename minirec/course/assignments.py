"""Classroom use: student versions of the notebooks made by nbgrader, and grading them both ways.

``make assignments`` (``python -m minirec.course.assignments``) lays out an nbgrader course in
``build/nbgrader``: ``source/<notebook>/<notebook>.ipynb`` holds the notebooks with their
solutions, and nbgrader's own ``generate_assignment`` writes the student versions to
``release/<notebook>/<notebook>.ipynb`` (solutions replaced by ``raise NotImplementedError()``,
hidden tests removed, outputs cleared; checksums and tests recorded in ``gradebook.db``). From
that folder an instructor runs nbgrader as usual (``nbgrader collect``, ``nbgrader autograde``).

Every exercise is a *solution cell* (``### BEGIN SOLUTION`` / ``### END SOLUTION``) followed by an
autograded *test cell* with visible asserts and ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN
TESTS``. :func:`grade_notebook` executes a notebook the way ``nbgrader autograde`` grades it and
reports, per exercise, the points of the student version, of the solution and of each known
wrong answer (``tests/wrong_answers/<notebook>.py``), all in one kernel.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from minirec.course.runner import REPO_ROOT, CurrentEnvKernelManager, notebook_paths, notebook_problem
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


WrongAnswers = Mapping[str, Mapping[str, str]]
"""``{grade_id: {label: source of a wrong solution cell}}`` for one notebook."""


@dataclass(frozen=True)
class WrongAnswerGrade:
    """Points that one wrong answer earned from its exercise's test cell (it should earn none)."""

    grade_id: str
    label: str
    points: float
    max_points: float
    error: str | None  # what the test cell said, or None when it passed


@dataclass(frozen=True)
class NotebookGrades:
    """Every version of one notebook, graded in one kernel."""

    exercises: list[ExerciseGrade]
    wrong: list[WrongAnswerGrade]
    restored: dict[str, float]  # solution points again, after that exercise's wrong answers


def load_wrong_answers(path: Path) -> WrongAnswers:
    """The ``WRONG_ANSWERS`` dictionary of a Python file (``tests/wrong_answers/<notebook>.py``)."""
    import runpy

    found = runpy.run_path(str(path)).get("WRONG_ANSWERS")
    if not isinstance(found, dict):
        raise ValueError(
            f"{path}: expected a dictionary WRONG_ANSWERS = {{grade_id: {{label: cell source}}}}"
        )
    return found


def grade_notebook(
    source: Path, student: Path, wrong_answers: WrongAnswers | None = None, timeout: int = 600
) -> NotebookGrades:
    """Grade the blank student version, the solution and every wrong answer of one notebook, in one kernel.

    As ``nbgrader autograde`` does, the test cells always come from the source (hidden tests
    included) and a test cell earns its points when it runs without error. The cells before the
    first exercise are shared, so they run once. The exercise part then runs with the student's
    cells first, so no solution can leak into the blanks' grades, and then with the solutions,
    which redefine whatever the blanks left behind. Last, each wrong answer replaces its
    exercise's solution cell and is graded by that exercise's test cell; after an exercise's
    wrong answers its solution and test cell run again (``restored``), so a wrong answer cannot
    leave state behind that decides a later grade.
    """
    from nbgrader.utils import determine_grade

    wrong_answers = wrong_answers or {}
    solution_nb, student_nb = nbformat.read(source, 4), nbformat.read(student, 4)
    if [nbgrader_role(c) for c in solution_nb.cells] != [nbgrader_role(c) for c in student_nb.cells]:
        raise ValueError(f"{student} does not match {source}: were they generated from it?")
    found = exercises(solution_nb)
    unknown = sorted(set(wrong_answers) - {e.grade_id for e in found})
    if unknown:
        raise ValueError(f"{source.name}: wrong answers for unknown exercises {unknown}")
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

    def run(cell: nbformat.NotebookNode, index: int, source_text: str | None = None) -> nbformat.NotebookNode:
        cell = nbformat.from_dict(dict(cell))
        if source_text is not None:
            cell.source = source_text
        if cell.cell_type == "code":
            cell.outputs = []
            client.execute_cell(cell, index)
        return cell

    def grade(exercise: Exercise, solution_text: str | None = None) -> tuple[float, str | None]:
        run(solution_nb.cells[exercise.solution], exercise.solution, solution_text)
        tests = run(solution_nb.cells[exercise.tests], exercise.tests)
        return determine_grade(tests)[0], failure(tests)

    points: dict[str, dict[str, float]] = {"student": {}, "solution": {}}
    failures: dict[str, str | None] = {}
    wrong: list[WrongAnswerGrade] = []
    restored: dict[str, float] = {}
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
        for exercise in found:
            answers = wrong_answers.get(exercise.grade_id, {})
            for label, text in answers.items():
                earned, error = grade(exercise, text)
                wrong.append(WrongAnswerGrade(exercise.grade_id, label, earned, exercise.points, error))
            if answers:
                restored[exercise.grade_id] = grade(exercise)[0]
    grades = [
        ExerciseGrade(
            e.grade_id,
            points["student"][e.grade_id],
            points["solution"][e.grade_id],
            e.points,
            failures[e.grade_id] if points["solution"][e.grade_id] < e.points else None,
        )
        for e in found
    ]
    return NotebookGrades(grades, wrong, restored)


def grading_report(name: str, grades: NotebookGrades) -> tuple[list[str], list[str]]:
    """Lines of a grading table for one notebook, and the problems in it (empty when all is well).

    All is well when every solution earns full points, every blank and every wrong answer earns
    none, and each solution earns full points again after its wrong answers ran.
    """
    lines, problems = [], []
    for e in grades.exercises:
        lines.append(f"{name:26s} {e.grade_id:18s} {'solution':28s} {e.solution:g}/{e.max_points:g}")
        lines.append(f"{name:26s} {e.grade_id:18s} {'blank':28s} {e.student:g}/{e.max_points:g}")
        if e.solution < e.max_points:
            problems.append(f"{name} {e.grade_id}: the solution loses points ({e.solution_failure})")
        if e.student > 0:
            problems.append(f"{name} {e.grade_id}: the blank earns points")
    for w in grades.wrong:
        lines.append(f"{name:26s} {w.grade_id:18s} {'wrong: ' + w.label:28s} {w.points:g}/{w.max_points:g}")
        if w.points > 0:
            problems.append(f"{name} {w.grade_id}: the wrong answer '{w.label}' earns points")
    for grade_id, points in grades.restored.items():
        full = next(e.max_points for e in grades.exercises if e.grade_id == grade_id)
        if points < full:
            problems.append(f"{name} {grade_id}: the solution loses points after the wrong answers ran")
    return lines, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.course.assignments", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: all of notebooks/)")
    parser.add_argument("--course", type=Path, default=COURSE, help=f"course folder (default {COURSE})")
    parser.add_argument(
        "--grade",
        action="store_true",
        help="also grade every notebook in one kernel each: solution, blank and wrong answers",
    )
    parser.add_argument(
        "--wrong-answers",
        type=Path,
        metavar="DIR",
        help="folder of <notebook>.py files, each with WRONG_ANSWERS = {grade_id: {label: cell source}}",
    )
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or notebook_paths()
    for problem in map(notebook_problem, notebooks):
        if problem:
            parser.error(f"argument notebooks: {problem}")
    if args.course.exists() and not args.course.is_dir():
        parser.error(f"argument --course: {args.course} is a file; expected a folder")
    if args.wrong_answers is not None and not args.wrong_answers.is_dir():
        parser.error(f"argument --wrong-answers: {args.wrong_answers} is not a folder")
    releases = generate_student_versions(notebooks, args.course)
    for stem, path in releases.items():
        count = len(exercises(nbformat.read(path, 4)))
        print(f"{stem:26s} {count} exercises -> {os.path.relpath(path)}")
    print(
        f"\nnbgrader course in {args.course}: hand out release/, then from that folder run "
        "`nbgrader collect <notebook>` and `nbgrader autograde <notebook>`"
    )
    if not args.grade:
        return 0
    problems = []
    for path in notebooks:
        wrong_file = args.wrong_answers / f"{path.stem}.py" if args.wrong_answers else None
        wrong = load_wrong_answers(wrong_file) if wrong_file and wrong_file.exists() else {}
        lines, found = grading_report(path.stem, grade_notebook(path, releases[path.stem], wrong))
        print("\n".join(lines), flush=True)
        problems += found
    print("\n".join(["", *problems]) if problems else "\nevery version graded as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
