"""The package is layered, and every import points down the layers (or stays inside a layer).

core -> data -> features -> hashing -> models -> train -> evaluation -> experiments -> course:
a module may import from its own sub-package and from the layers to its left, never to its right,
and no two sub-packages import each other (the order above makes that impossible).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO_ROOT

LAYERS = ("core", "data", "features", "hashing", "models", "train", "evaluation", "experiments", "course")
PACKAGE = REPO_ROOT / "minirec"


def layer_of(module: str) -> str | None:
    """``minirec.models.fhn`` -> ``models``; ``minirec`` itself (the version) -> ``None``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "minirec" else None


def minirec_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``minirec`` import in ``path``, also those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "minirec"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "minirec":
                # ``from minirec.data import io`` imports a sub-module: count the module it names
                found += [
                    (node.lineno, f"{node.module}.{a.name}" if node.module == "minirec" else node.module)
                    for a in node.names
                ]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def violations(root: Path) -> list[str]:
    """Every import of ``root``'s modules that breaks the layer order, as ``file:line: a -> b``."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        own = relative.parts[1] if len(relative.parts) > 2 else None  # minirec/<layer>/<module>.py
        if own is not None and own not in LAYERS:
            problems.append(f"{relative}: sub-package {own!r} is in no layer of {LAYERS}")
            continue
        for line, module in minirec_imports(path):
            if module.startswith("."):
                problems.append(f"{relative}:{line}: relative import {module!r}; write minirec.<layer>...")
                continue
            target = layer_of(module)
            if target is None:
                continue
            if target not in LAYERS:
                problems.append(f"{relative}:{line}: imports {module}, which is in no layer")
            elif own is None:
                problems.append(
                    f"{relative}:{line}: top-level module imports {module}; only the version lives at the top"
                )
            elif LAYERS.index(target) > LAYERS.index(own):
                problems.append(f"{relative}:{line}: {own} imports {module} ({target} is above {own})")
    return problems


def test_every_import_points_down_the_layers():
    assert violations(PACKAGE) == []


def test_only_the_version_lives_at_the_top():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py"], top
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(
        LAYERS
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from minirec.models.fhn import FashionHashNet\n", "hashing imports minirec.models.fhn"),
        ("import minirec.train.fhn\n", "hashing imports minirec.train.fhn"),
        ("def f():\n    from minirec.course import runner\n", "hashing imports minirec.course"),
        ("from .packed import pack_codes\n", "relative import"),
    ],
)
def test_the_check_catches_an_upward_import(tmp_path, source, expected):
    package = tmp_path / "minirec"
    (package / "hashing").mkdir(parents=True)
    (package / "hashing" / "bad.py").write_text(source)
    (package / "hashing" / "fine.py").write_text("from minirec.data.io import atomic_write_text\n")
    problems = violations(package)
    assert len(problems) == 1 and expected in problems[0], problems
