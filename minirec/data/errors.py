"""The one error type every reader raises for bad input."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """Bad input in a data file: says which file, which line (or field) and what was expected.

    >>> str(DataFormatError("tuples.csv", "expected 4 columns, got 3", line=7))
    'tuples.csv, line 7: expected 4 columns, got 3'
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{path}, line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
