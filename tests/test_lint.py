"""The package and the tests pass ruff (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "minirec", "tests"],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
