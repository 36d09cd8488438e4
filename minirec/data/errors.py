"""The one error type every reader raises for bad input, and the id checks shared by the readers."""

from __future__ import annotations

import re
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


ID_TOKEN = re.compile(r"-?[0-9]+")  # ASCII digits only: int() would also take "²"-like digits


def check_id_range(path: Path, what: str, ids: list[int] | set[int], declared: int | None = None) -> int:
    """The largest id, after checking it against the catalogue size.

    With ``declared`` (e.g. the lines of ``item_list.txt``), ids may not exceed it. Without it,
    ids should be numbered consecutively with few gaps: the largest may not exceed twice the
    number of distinct ids plus 1,000. A typo such as 99999 in an 800-item file would otherwise
    silently set the catalogue size, and with it the size of every table built from it.
    """
    largest, distinct = max(ids), len(set(ids))
    if declared is not None and largest > declared:
        raise DataFormatError(path, f"{what} id {largest} is beyond the {declared} {what}s declared")
    limit = 2 * distinct + 1000
    if declared is None and largest > limit:
        raise DataFormatError(
            path,
            f"{what} id {largest} is far beyond the {distinct} distinct {what} ids of the file; expected "
            f"ids numbered consecutively (at most {limit} here): a typo? Otherwise renumber the {what}s",
        )
    return largest
