"""The package and the tests pass ruff (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "minirec", "tests"],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_data_layer_imports_nothing_above_it():
    """minirec.data sits at the bottom: features, models, training and metrics build on it."""
    import ast

    offenders = []
    for path in sorted((REPO_ROOT / "minirec" / "data").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names
                          if n.startswith("minirec") and not n.startswith("minirec.data")]
    assert offenders == [], offenders
