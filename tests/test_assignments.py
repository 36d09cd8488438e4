"""nbgrader: sound markup in every notebook, student versions from nbgrader's own generator, and
grading that tells answers apart: solutions earn every point, the generated blanks and the known
wrong answers of ``tests/wrong_answers/<notebook>.py`` earn none."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from minirec.course.assignments import (
    NOTEBOOKS,
    exercises,
    grade_notebook,
    grading_report,
    load_wrong_answers,
    main,
    markup_problems,
    nbgrader_api,
)

ALL = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
WRONG_ANSWERS = Path(__file__).parent / "wrong_answers"
MIN_WRONG_ANSWERS = 2


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """``make assignments`` into a temporary course folder."""
    folder = tmp_path_factory.mktemp("nbgrader") / "course"
    assert main(["--course", str(folder)]) == 0
    return folder


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_notebook_has_sound_nbgrader_markup(path):
    assert markup_problems(nbformat.read(path, 4), path.name) == []


def test_markup_problems_are_named():
    solution = new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    unmarked = new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    tests = new_code_cell("assert f() == 1")
    solution.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "a"}
    tests.metadata["nbgrader"] = {"solution": False, "grade": True, "grade_id": "a", "points": 1}
    problems = markup_problems(new_notebook(cells=[solution, tests, unmarked]), "x.ipynb")
    assert any("grade_id values repeat" in p for p in problems)
    assert any("cell 1: test cell without hidden tests" in p for p in problems)
    assert any("cell 2: has '### BEGIN SOLUTION' but no nbgrader solution mark" in p for p in problems)
    assert any("1 exercises, expected at least 3" in p for p in problems)


@pytest.mark.slow
def test_student_versions_are_blank(course, capsys):
    for path in ALL:
        student = nbformat.read(course / "release" / path.stem / path.name, 4)
        text = "\n".join(c.source for c in student.cells)
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text, path.stem
        assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code"), path.stem
        blanks = [student.cells[e.solution].source for e in exercises(student)]
        assert len(blanks) >= 3 and all("raise NotImplementedError()" in b for b in blanks), path.stem
    assert (course / "gradebook.db").exists() and (course / "nbgrader_config.py").exists()


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_exercise_has_wrong_answers_to_reject(path):
    """At least two plausible wrong answers per exercise, each a real cell that differs from the solution."""
    notebook = nbformat.read(path, 4)
    wrong = load_wrong_answers(WRONG_ANSWERS / f"{path.stem}.py")
    for exercise in exercises(notebook):
        answers = wrong.get(exercise.grade_id, {})
        assert len(answers) >= MIN_WRONG_ANSWERS, (
            f"{path.stem} {exercise.grade_id}: {len(answers)} wrong answers"
        )
        solution = notebook.cells[exercise.solution].source
        for label, source in answers.items():
            compile(source, f"{path.stem} {exercise.grade_id} {label}", "exec")
            assert source.strip() != solution.strip(), (
                f"{path.stem} {exercise.grade_id} {label}: is the solution"
            )
            assert "BEGIN SOLUTION" not in source, (
                f"{path.stem} {exercise.grade_id} {label}: keep the markup out"
            )


@pytest.mark.slow
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_grading_rewards_solutions_only(course, path):
    """Solutions earn every point; blanks and every known wrong answer earn none (one kernel per notebook)."""
    wrong = load_wrong_answers(WRONG_ANSWERS / f"{path.stem}.py")
    grades = grade_notebook(path, course / "release" / path.stem / path.name, wrong)
    lines, problems = grading_report(path.stem, grades)
    assert len(grades.exercises) >= 3
    assert len(grades.wrong) >= MIN_WRONG_ANSWERS * len(grades.exercises)
    assert problems == [], "\n".join(problems + ["", *lines])


def test_grading_report_names_every_problem():
    from minirec.course.assignments import ExerciseGrade, NotebookGrades, WrongAnswerGrade

    grades = NotebookGrades(
        [ExerciseGrade("ex1", 1.0, 0.0, 1.0, "AssertionError: x"), ExerciseGrade("ex2", 0.0, 1.0, 1.0)],
        [
            WrongAnswerGrade("ex2", "constant", 1.0, 1.0, None),
            WrongAnswerGrade("ex2", "off by one", 0.0, 1.0, "E"),
        ],
        {"ex2": 0.0},
    )
    lines, problems = grading_report("nb", grades)
    assert problems == [
        "nb ex1: the solution loses points (AssertionError: x)",
        "nb ex1: the blank earns points",
        "nb ex2: the wrong answer 'constant' earns points",
        "nb ex2: the solution loses points after the wrong answers ran",
    ]
    assert len(lines) == 6


# nbgrader 0.9 adds a submission to its gradebook in a way SQLAlchemy 2 warns about; the
# submission and its scores are recorded all the same (the asserts below read them), but pytest
# would turn the warning into an error
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_nbgrader_autograde_scores_a_blank_and_a_solved_submission(course):
    """The real nbgrader pipeline, on the quickest notebook: submit, autograde, read the gradebook."""
    from nbgrader.api import Gradebook

    name = "02_sign_relaxation"
    submissions = {
        "blank": course / "release" / name / f"{name}.ipynb",
        "solved": course / "source" / name / f"{name}.ipynb",
    }
    api = nbgrader_api(course)
    for student, notebook in submissions.items():
        target = course / "submitted" / student / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copyfile(notebook, target)
        result = api.autograde(name, student)
        assert result["success"], result.get("error", "") + result.get("log", "")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {
            s: (gradebook.find_submission(name, s).score, gradebook.find_submission(name, s).max_score)
            for s in submissions
        }
    assert scores == {"blank": (0.0, 3.0), "solved": (3.0, 3.0)}
