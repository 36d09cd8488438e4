"""Small, careful file I/O: strict UTF-8 line reading and atomic writes.

Every writer in minirec goes through :func:`atomic_write_bytes` (or the helpers built on it):
the data go to a temporary file in the same folder, which is renamed over the target only once
it is complete, so a crash or a bad input never leaves a half-written file behind.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from minirec.data.errors import DataFormatError


def iter_text_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` pairs (1-based, newline stripped) of a UTF-8 text file.

    Files ending in ``.gz`` are decompressed on the fly; a UTF-8 byte-order mark on the first
    line is dropped. Bytes that are not valid UTF-8 raise a :class:`DataFormatError` naming the
    line and the byte offset within it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataFormatError(
                    path,
                    f"byte {err.start} is not valid UTF-8 ({raw[err.start : err.start + 1]!r}); "
                    "expected a UTF-8 text file",
                    line=number,
                ) from None
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip("\r\n")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically, with ``\\n`` line endings on every platform."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any, sort_keys: bool = True) -> None:
    """Write ``obj`` as deterministic, human-readable JSON (1-space indent, keys sorted by default)."""
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=sort_keys, ensure_ascii=False) + "\n")


def atomic_write_jsonl(path: str | Path, records: list[dict[str, Any]]) -> None:
    """Write one compact JSON object per line, keys sorted."""
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records]
    atomic_write_text(path, "\n".join(lines) + "\n")


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Build a whole directory in a temporary sibling and swap it into place on success.

    On any exception the temporary directory is removed and ``target`` is left untouched.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    backup = target.with_name(f".{target.name}.old")
    shutil.rmtree(backup, ignore_errors=True)
    if target.exists():
        os.replace(target, backup)
    os.replace(staging, target)
    shutil.rmtree(backup, ignore_errors=True)
