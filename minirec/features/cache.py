"""A disk cache for computed features, keyed by the data and the encoder that produced them.

A cache entry is one ``.npz`` file named ``<name>-<key hash>.npz``; the key is any JSON-able
dict (data fingerprint, encoder settings, code version). Files are written atomically, so an
interrupted run never leaves a truncated entry; an entry damaged some other way (a full disk, a
copy cut short) is verified on read, reported in one line and computed again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from minirec.data.errors import DataFormatError
from minirec.data.io import atomic_write_bytes


def cache_root() -> Path:
    """``$MINIREC_CACHE`` if set, else ``build/cache`` of the checkout."""
    return Path(os.environ.get("MINIREC_CACHE") or Path(__file__).resolve().parents[2] / "build" / "cache")


def fingerprint_files(paths: Iterable[str | Path]) -> str:
    """sha256 over the names and bytes of ``paths`` (in the given order)."""
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path)
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class FeatureCache:
    """``load_or_compute(name, key, compute)``: load a cached dict of arrays or compute and store it."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_root()
        if self.root.exists() and not self.root.is_dir():
            raise DataFormatError(
                self.root,
                "the feature cache folder is a file; expected a folder "
                "(set MINIREC_CACHE to another path, or move the file away)",
            )

    def path(self, name: str, key: dict) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        return self.root / f"{name}-{digest}.npz"

    def load_or_compute(
        self, name: str, key: dict, compute: Callable[[], dict[str, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        path = self.path(name, key)
        if path.exists():
            stored = read_entry(path)
            if stored is not None:
                return stored
            print(f"feature cache: {path} is damaged; computing it again", file=sys.stderr)
        arrays = compute()
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        atomic_write_bytes(path, buffer.getvalue())
        return arrays


def read_entry(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache entry, or ``None`` when the file is empty, truncated or not an ``.npz``."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {k: stored[k] for k in stored.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, AttributeError):
        return None
