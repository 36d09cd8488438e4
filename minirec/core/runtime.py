"""Reproducibility, device choice and progress bars shared by every notebook."""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch
from tqdm.auto import tqdm

T = TypeVar("T")


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, numpy and torch; with ``deterministic``, ask torch for deterministic kernels.

    ``warn_only=True``: an operation without a deterministic implementation warns instead of
    failing, so a notebook still runs on a GPU that lacks one.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by cuBLAS determinism
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def numpy_generator() -> np.random.Generator:
    """A numpy ``Generator`` seeded from torch's global generator, so :func:`set_seed` alone fixes it."""
    return np.random.default_rng(int(torch.randint(0, 2**62, ())))


@contextmanager
def isolated_seed(seed: int) -> Iterator[None]:
    """Run a block with its own seed and leave the caller's random state as it was.

    For computations whose result is cached (encoder features): what they produce must depend on
    their settings only, and whether the cache hit must not change what the caller draws next.
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng():
        set_seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def choose_device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given (e.g. ``"cpu"``), else CUDA when available, else CPU.

    The environment variable ``MINIREC_DEVICE`` overrides both (handy to force the CPU).
    """
    name = os.environ.get("MINIREC_DEVICE") or prefer
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def progress(iterable: Iterable[T], desc: str | None = None, disable: bool = False, **kwargs) -> Iterator[T]:
    """A ``tqdm.auto`` progress bar (a widget in Jupyter, text in a terminal).

    ``MINIREC_PROGRESS=0`` silences every bar (e.g. in batch runs), as does ``disable=True``.
    """
    disable = disable or os.environ.get("MINIREC_PROGRESS", "1") == "0"
    return tqdm(iterable, desc=desc, disable=disable, **kwargs)
