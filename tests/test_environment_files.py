"""pyproject.toml and environment.yml agree; the lock pins and hashes all of it and is what
`make` installs; CI calls exactly the README's test command."""

from __future__ import annotations

import re
import subprocess
import tomllib

import yaml
from conftest import REPO_ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

CONDA_NAMES = {"pytorch": "torch"}  # conda package name -> PyPI distribution name
LOCK = REPO_ROOT / "requirements" / "lock.txt"


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower()


def pyproject_requirements() -> list[str]:
    """Runtime dependencies and the dev extra, as written in pyproject.toml."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def parse_lock(text: str) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (the requirement as written, its sha256 hashes)} of a pip lock file.

    Continuation lines (trailing backslash) are joined; comments are dropped. Each requirement
    must name its distribution exactly once.
    """
    entries: dict[str, tuple[str, list[str]]] = {}
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"unexpected option line in the lock: {line}"
        requirement, *options = line.split()
        hashes = [o.removeprefix("--hash=sha256:") for o in options if o.startswith("--hash=sha256:")]
        assert len(hashes) == len(options), f"only --hash=sha256: options expected: {line}"
        name = canonicalize_name(Requirement(requirement).name)
        assert name not in entries, f"{name} is locked twice"
        entries[name] = (requirement, hashes)
    return entries


def make_dry_run(*targets: str) -> list[str]:
    """The commands `make` would run for targets, all of them out of date (make -n -B)."""
    result = subprocess.run(
        ["make", "-n", "-B", *targets], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


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
    commands = [
        line.strip()
        for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert commands[-1] == "make test"
    assert all(c.startswith(("set ", "cd ")) for c in commands[:-1]), commands


def test_readme_quick_start_names_the_make_targets():
    readme = (REPO_ROOT / "README.md").read_text()
    makefile = (REPO_ROOT / "Makefile").read_text()
    for target in ("run", "test", "data", "lab"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no target {target}"
    for target in ("check", "lint", "typecheck", "lock", "install"):
        assert f"make {target}" in readme, f"README does not mention make {target}"
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no target {target}"


def test_lock_pins_every_dependency_of_pyproject_exactly_with_hashes():
    entries = parse_lock(LOCK.read_text())
    for spec in pyproject_requirements():
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{name} (pyproject.toml) is missing from {LOCK.name}"
        locked, hashes = entries[name]
        pin = re.fullmatch(r"[\w.\-]+==([\w.+!\-]+)", locked)
        assert pin, f"{locked}: not an exact pin (name==version)"
        assert requirement.specifier.contains(pin.group(1), prereleases=True), (
            f"{locked} is outside pyproject.toml's {spec}"
        )
        assert hashes, f"{locked} has no --hash=sha256:"
    # pip --require-hashes refuses the whole file if any entry lacks a hash or an exact pin
    for name, (locked, hashes) in entries.items():
        assert "==" in locked and ";" not in locked, locked
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), (name, hashes)


def test_lock_parser_rejects_what_pip_require_hashes_would():
    good = "torch==2.14.1 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via minirec\n"
    assert parse_lock(good) == {"torch": ("torch==2.14.1", ["a" * 64])}
    assert parse_lock("torch==2.14.1\n") == {"torch": ("torch==2.14.1", [])}  # the test above fails it
    for bad in ("torch==2.14.1 --hash=md5:abc\n", "-e .\n", good + good):
        try:
            parse_lock(bad)
        except AssertionError:
            continue
        raise AssertionError(f"parse_lock accepted {bad!r}")


def test_make_installs_the_lock_with_hashes_then_minirec_without_dependencies():
    makefile = (REPO_ROOT / "Makefile").read_text()
    stamp_rule = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.M)
    assert stamp_rule, "Makefile has no $(STAMP) rule"
    assert {"$(LOCK)", "pyproject.toml"} <= set(stamp_rule.group(1).split())
    assert re.search(r"^LOCK\s*:?=\s*requirements/lock\.txt\s*$", makefile, re.M)
    installs = [c for c in make_dry_run("install") if re.search(r"\bpip install\b", c)]
    assert len(installs) == 2, installs
    assert "--require-hashes" in installs[0].split() and "requirements/lock.txt" in installs[0], installs
    assert {"--no-deps", "-e", "."} <= set(installs[1].split()), installs
    assert "DESIGN" not in makefile


def test_make_test_runs_lint_typecheck_and_every_test_and_make_check_skips_slow_ones():
    commands = make_dry_run("test")
    steps = ["ruff check minirec tests", "ruff format --check minirec tests", "-m mypy ", "-m pytest"]
    found = [next((i for i, c in enumerate(commands) if step in c), None) for step in steps]
    assert None not in found and found == sorted(found), (steps, commands)
    assert commands[found[-1]].endswith("-m pytest"), commands[found[-1]]  # no test selection
    check = [c for c in make_dry_run("check") if "-m pytest" in c]
    assert check and check[-1].endswith('-m pytest -m "not slow"'), check


def test_version_is_written_once_in_minirec_init():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "minirec.__version__"
    init = (REPO_ROOT / "minirec" / "__init__.py").read_text()
    assert re.search(r'^__version__ = "\d+\.\d+\.\d+"$', init, re.M)
