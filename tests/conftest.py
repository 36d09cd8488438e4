"""Shared pytest setup: a headless matplotlib backend and paths to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MINIREC_PROGRESS", "0")

REPO_ROOT = Path(__file__).resolve().parents[1]
