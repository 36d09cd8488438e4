"""Shared pytest setup: a headless matplotlib backend, temporary caches, and the test tiers.

Tiers: tests marked ``slow`` (notebooks under nbval, both-ways grading, the runner, command-line
training runs, benchmarks) run in ``make test`` only; ``make check`` runs the rest in under a
minute. Notebook items (nbval) are marked here, since their cells cannot carry a marker.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")
# Property tests: the same examples on every run (a red CI is reproducible), no example database
# written into the checkout.
settings.register_profile("minirec", derandomize=True, database=None)
settings.load_profile("minirec")
os.environ.setdefault("MINIREC_PROGRESS", "0")

REPO_ROOT = Path(__file__).resolve().parents[1]

# Features computed by tests (and by notebook kernels, which inherit the environment) go to a
# temporary folder shared by the session, never into the checkout's build/cache.
_CACHE = tempfile.mkdtemp(prefix="minirec-test-cache-")
os.environ["MINIREC_CACHE"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


@pytest.fixture
def forbid_data_reading(monkeypatch: pytest.MonkeyPatch):
    """``forbid_data_reading(experiment)``: any attempt of the command to read its data fails the test."""

    def forbid(experiment) -> None:
        def no_reading(*args):
            raise AssertionError("data were read before the flags were checked")

        monkeypatch.setattr(experiment, "load", no_reading)

    return forbid


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: notebooks, grading, command-line training and benchmarks "
        "(make test runs them; make check skips them)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
