"""pyproject.toml and environment.yml agree; CI calls exactly the README's test command."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import REPO_ROOT

CONDA_NAMES = {"pytorch": "torch"}  # conda package name -> PyPI distribution name


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = {requirement_name(d): d for d in project["dependencies"]}
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    conda_specs = [d for d in env["dependencies"] if isinstance(d, str)]
    conda_deps = {CONDA_NAMES.get(requirement_name(d), requirement_name(d)): d for d in conda_specs}
    conda_deps.pop("python"), conda_deps.pop("pip")
    assert sorted(conda_deps) == sorted(pip_deps)
    for name, spec in pip_deps.items():  # same lower bounds too
        bound = re.search(r">=\s*([\w.]+)", spec)
        assert bound and f">={bound.group(1)}" in conda_deps[name], (name, spec, conda_deps[name])
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-e .[dev]"]


def test_ci_runs_make_test_and_nothing_else():
    commands = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert commands[-1] == "make test"
    assert all(c.startswith(("set ", "cd ")) for c in commands[:-1]), commands


def test_readme_quick_start_names_the_make_targets():
    readme = (REPO_ROOT / "README.md").read_text()
    makefile = (REPO_ROOT / "Makefile").read_text()
    for target in ("run", "test", "data", "lab"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no target {target}"
