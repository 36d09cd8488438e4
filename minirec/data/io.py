"""Small, careful file I/O: checked input paths, strict UTF-8 line reading and atomic writes.

Every reader checks its path with :func:`require_file` (a directory, a broken or looping
symbolic link, a FIFO: each gets its own message). Every writer in minirec goes through
:func:`atomic_write_bytes` (or the helpers built on it): the data go to a temporary file in the
same folder, which is renamed over the target only once it is complete, so a crash or a bad
input never leaves a half-written file behind. Written files get the permissions of the user's
umask, like any other file they create.
"""

from __future__ import annotations

import errno
import glob
import gzip
import json
import os
import shutil
import stat
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from minirec.data.errors import DataFormatError


def require_file(path: str | Path, expected: str = "a file") -> Path:
    """``path`` as a :class:`Path` if it names a regular file (symbolic links followed).

    A missing path raises ``FileNotFoundError``; a directory, a broken or looping symbolic link or
    a special file raises :class:`DataFormatError` saying what was found and what was ``expected``.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            target = os.readlink(path)
            raise DataFormatError(
                path, f"is a broken symbolic link (to {target}); expected {expected}"
            ) from None
        raise FileNotFoundError(f"{path}: no such file; expected {expected}") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise DataFormatError(path, f"is a symbolic link loop; expected {expected}") from None
        raise DataFormatError(path, f"cannot be read ({err.strerror}); expected {expected}") from None
    if stat.S_ISDIR(mode):
        raise DataFormatError(path, f"is a directory; expected {expected}")
    if not stat.S_ISREG(mode):
        raise DataFormatError(path, f"is not a regular file (a pipe, socket or device); expected {expected}")
    return path


def present(path: str | Path) -> bool:
    """Whether anything exists at ``path``, a broken symbolic link included.

    Optional inputs are read when present: a broken link must then fail in :func:`require_file`
    with its own message, not be skipped as if the file were absent.
    """
    return os.path.lexists(path)


def iter_text_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` pairs (1-based, newline stripped) of a UTF-8 text file.

    Files ending in ``.gz`` are decompressed on the fly: a stream that is not gzip, or is corrupt
    or truncated, raises a :class:`DataFormatError` naming the file and the line reached. A
    UTF-8 byte-order mark on the first line is dropped. Bytes that are not valid UTF-8 raise a
    :class:`DataFormatError` naming the line and the byte offset within it.
    """
    path = require_file(path, "a text file")
    compressed = path.suffix == ".gz"
    with (gzip.open if compressed else open)(path, "rb") as handle:
        number = 0
        while True:
            try:
                raw = handle.readline()
            except (OSError, EOFError, zlib.error) as err:
                if not compressed:
                    raise
                raise DataFormatError(
                    path,
                    f"is not a complete gzip stream ({err}); expected gzip-compressed text",
                    line=number + 1,
                ) from None
            if not raw:
                return
            number += 1
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


STALE_AFTER_S = 24 * 3600  # a temporary file of ours this old belongs to a run that was killed


def remove_stale_temporaries(folder: Path, name: str) -> None:
    """Delete temporary siblings of ``folder / name`` left by a killed write (older than a day)."""
    cutoff = time.time() - STALE_AFTER_S
    for leftover in folder.glob(f".{glob.escape(name)}.*.tmp"):
        try:
            if leftover.lstat().st_mtime < cutoff:
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink()
        except OSError:
            pass  # another process cleaned it first, or it is not ours to remove


def load_torch_file(path: str | Path, expected: str, map_location: str | torch.device = "cpu") -> Any:
    """What ``torch.save`` wrote to ``path`` (tensors and plain containers only: no code is run).

    A file that is not one (garbage, truncated, a pickle with objects) raises a
    :class:`DataFormatError` naming it and saying what was ``expected``.
    """
    path = require_file(path, expected)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # pickle, zip and storage errors: the types differ across torch versions
        raise DataFormatError(path, f"cannot be read as {expected} ({type(err).__name__}: {err})") from None


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    if path.is_dir():
        raise DataFormatError(path, "is a directory; expected a file path to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; a written file is a normal file
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

    On any exception the temporary directory is removed and ``target`` is left untouched. A
    ``target`` that exists and is not a directory is refused before anything is built: a file is
    never replaced by a folder.
    """
    target = Path(target).resolve()
    if target.exists() and not target.is_dir():
        raise DataFormatError(target, "exists and is not a directory; expected a folder to (re)build")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent, target.name)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp creates 0700
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
