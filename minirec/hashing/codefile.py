"""Packed codes in a file on disk, searched memory-mapped: as many codes as the disk holds, not the RAM.

>>> with CodeWriter("items.codes", bits=64) as writer:   # the file appears only once complete
...     for chunk in chunks:                              # packed (n, 8) uint8, as from pack_codes
...         writer.append(chunk)
>>> codes = CodeFile.open("items.codes")                  # checks the header, reads no codes
>>> distances, ids = codes.search(packed_queries, k=10)   # exact, ties by smaller id

**Format** (version 1). A 64-byte header, then the codes:

======  =====  ==========================================================
offset  bytes  field
======  =====  ==========================================================
0       8      magic ``b"MRCODES\\0"``
8       4      format version, little-endian uint32 (1)
12      4      ``bits`` per code, little-endian uint32 (a multiple of 8)
16      8      ``count`` of codes, little-endian uint64
24      40     zeros (reserved)
64      ...    ``count`` codes of ``bits / 8`` bytes, row after row
======  =====  ==========================================================

**Why rows of bytes.** The codes are stored exactly as :func:`~minirec.hashing.packed.pack_codes`
and faiss lay them out, one code after the other, so writing is appending bytes: a writer needs
no more memory than one chunk, whatever the total, and any tool that writes packed bytes can
produce the file. The header is 64 bytes, so every row starts on a multiple of 8 bytes: when
``bits`` is a multiple of 64 a block of rows *is* an array of uint64 words (a view, no copy);
other code lengths are copied block by block into zero-padded words (zero padding adds no
distance), since padding on disk would cost up to 8x the space (8-bit codes). The scan wants one
contiguous array per word, so each block is transposed once in memory (a copy of one block,
repaid by every query: scanning the strided words directly measured about 1.6x slower at 100
queries and 128 bits). Storing the file word-major instead would save that copy but make
appending awkward (fixed-size tiles, a partial last tile).

**Search.** The file is memory-mapped and streamed in blocks of ``block_codes`` codes; every
block goes through the batched scan of :func:`minirec.hashing.packed.scan_topk` with all the
queries at once, so each search reads every code exactly once (:attr:`CodeFile.bytes_streamed_per_search`),
whatever the number of queries. The operating system keeps recently read pages in its page
cache: a second search of a file that fits in RAM reads no disk at all.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import numpy as np

from minirec.data.errors import DataFormatError
from minirec.data.io import remove_stale_temporaries, require_file
from minirec.hashing.packed import MAX_CODES, check_bits, check_packed, scan_topk, to_words

MAGIC = b"MRCODES\0"
FORMAT_VERSION = 1
HEADER_BYTES = 64
_HEADER = struct.Struct("<8sIIQ")  # magic, version, bits, count; zeros up to HEADER_BYTES
FILE_BLOCK_CODES = 1 << 16  # codes per block of a file search: 1 MB of 128-bit codes, transposed in cache


def encode_header(bits: int, count: int) -> bytes:
    """The 64-byte header of a code file holding ``count`` codes of ``bits`` bits."""
    return _HEADER.pack(MAGIC, FORMAT_VERSION, bits, count).ljust(HEADER_BYTES, b"\0")


class CodeWriter:
    """Appends chunks of packed codes to a new code file, in constant memory.

    The codes go to a temporary file next to ``path``, which is renamed to ``path`` by
    :meth:`close` (or at the end of a ``with`` block). On an error, or :meth:`abort`, the
    temporary file is deleted: ``path`` is never left half-written, and an existing file at
    ``path`` is only replaced by a complete one.
    """

    def __init__(self, path: str | Path, bits: int) -> None:
        self.bits = check_bits(bits)
        self.path = Path(path)
        if self.path.is_dir():
            raise DataFormatError(self.path, "is a directory; expected a file path to write codes to")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path.parent, self.path.name)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        self._temporary: Path | None = Path(temporary)
        self._handle = os.fdopen(descriptor, "wb")
        self.count = 0
        try:
            self._handle.write(encode_header(self.bits, 0))  # rewritten with the count by close()
        except BaseException:
            self.abort()
            raise

    def append(self, codes: np.ndarray) -> None:
        """Append packed ``(n, bits / 8)`` uint8 codes; their ids continue from :attr:`count`."""
        if self._temporary is None:
            raise ValueError(f"{self.path}: the writer is closed; expected appends before close()")
        codes = check_packed(codes, self.bits, "codes")
        if self.count + len(codes) > MAX_CODES:
            raise ValueError(
                f"codes: at most {MAX_CODES} codes fit in a code file, got {self.count + len(codes)}"
            )
        try:
            self._handle.write(codes.reshape(-1).data)  # no copy of the chunk
        except BaseException:
            self.abort()
            raise
        self.count += len(codes)

    def close(self) -> Path:
        """Write the final header and move the file to :attr:`path`, which is returned."""
        if self._temporary is None:
            raise ValueError(f"{self.path}: the writer is already closed")
        try:
            self._handle.seek(0)
            self._handle.write(encode_header(self.bits, self.count))
            self._handle.close()
            os.chmod(self._temporary, 0o666 & ~_umask())  # mkstemp creates 0600; make it a normal file
            os.replace(self._temporary, self.path)
        except BaseException:
            self.abort()
            raise
        self._temporary = None
        return self.path

    def abort(self) -> None:
        """Delete the temporary file; :attr:`path` is left as it was."""
        self._handle.close()
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None

    def __enter__(self) -> CodeWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_codes(path: str | Path, codes: np.ndarray | Iterable[np.ndarray], bits: int) -> Path:
    """Write packed codes (one ``(n, bits / 8)`` uint8 array, or an iterable of chunks); returns ``path``.

    Open the result with :meth:`CodeFile.open` to search it.
    """
    with CodeWriter(path, bits) as writer:
        for chunk in [codes] if isinstance(codes, np.ndarray) else codes:
            writer.append(chunk)
    return writer.path


class CodeFile:
    """A code file opened for search: the header is checked, the codes are memory-mapped on demand."""

    def __init__(self, path: Path, bits: int, ntotal: int) -> None:
        self.path, self.bits, self.ntotal = path, bits, ntotal
        self._map: np.ndarray | None = None  # made by the first search, kept for the next ones

    @classmethod
    def open(cls, path: str | Path) -> CodeFile:
        """Open a file written by :class:`CodeWriter`; a bad header or size: :class:`DataFormatError`."""
        path = require_file(path, "a minirec code file")
        with open(path, "rb") as handle:
            header = handle.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES:
            raise DataFormatError(
                path,
                f"is {len(header)} bytes, shorter than the {HEADER_BYTES}-byte header of a minirec code file",
            )
        magic, version, bits, count = _HEADER.unpack_from(header)
        if magic != MAGIC:
            raise DataFormatError(
                path, f"field 'magic': got {magic!r}, expected {MAGIC!r} (a minirec code file)"
            )
        if version != FORMAT_VERSION:
            raise DataFormatError(path, f"field 'version': got {version}, expected {FORMAT_VERSION}")
        if bits < 8 or bits % 8:
            raise DataFormatError(path, f"field 'bits': got {bits}, expected a positive multiple of 8")
        expected, actual = HEADER_BYTES + count * (bits // 8), path.stat().st_size
        if actual != expected:
            raise DataFormatError(
                path,
                f"field 'count': {count} codes of {bits // 8} bytes need a file of {expected} bytes, "
                f"got {actual} (truncated, or not written by CodeWriter)",
            )
        return cls(path, bits, count)

    @property
    def code_bytes(self) -> int:
        """Bytes per code on disk (``bits / 8``)."""
        return self.bits // 8

    @property
    def nbytes(self) -> int:
        """Bytes taken by the codes (the file less its header)."""
        return self.ntotal * self.code_bytes

    @property
    def bytes_streamed_per_search(self) -> int:
        """Bytes one :meth:`search` reads: every code once, whatever the number of queries."""
        return self.nbytes

    def __len__(self) -> int:
        return self.ntotal

    def __repr__(self) -> str:
        return f"CodeFile({str(self.path)!r}, bits={self.bits}, ntotal={self.ntotal})"

    def codes(self) -> np.ndarray:
        """The codes as a read-only memory map ``(ntotal, bits / 8)`` uint8 (read from disk as they are used).

        The map is made once and kept until :meth:`close`: mapping the file anew for every search
        would cost a page fault per 4 KB page each time (measured: +1.2 ms a search over 8 MB).
        """
        if self._map is None:
            if self.ntotal == 0:
                return np.empty((0, self.code_bytes), dtype=np.uint8)
            shape = (self.ntotal, self.code_bytes)
            self._map = np.memmap(self.path, np.uint8, "r", offset=HEADER_BYTES, shape=shape)
        return self._map

    def close(self) -> None:
        """Unmap the file (it is mapped again by the next search)."""
        self._map = None

    def __enter__(self) -> CodeFile:
        return self

    def __exit__(self, *error: object) -> None:
        self.close()

    def search(
        self,
        queries: np.ndarray,
        k: int,
        block_codes: int = FILE_BLOCK_CODES,
        threads: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances ``(q, k')`` int32 and ids ``(q, k')`` int64 of the nearest codes (``k' = min(k, n)``).

        ``queries`` are packed ``(q, bits / 8)`` uint8. Exact: rows are sorted by distance, then
        by smaller id, as ``faiss.IndexBinaryFlat`` and :func:`~minirec.hashing.packed.hamming_topk`
        sort them. The file is read in blocks of ``block_codes`` codes on ``threads`` threads
        (``None``: every CPU this process may run on).
        """
        query_words = to_words(check_packed(np.atleast_2d(queries), self.bits, "queries"))
        if self.ntotal == 0:
            raise ValueError(f"{self.path}: the code file is empty; expected codes to search")
        codes = self.codes()

        def load_block(start: int, stop: int) -> list[np.ndarray]:
            block = codes[start:stop]
            words = block.view(np.uint64) if self.code_bytes % 8 == 0 else to_words(block)  # (m, W)
            return list(np.ascontiguousarray(words.T))  # W contiguous columns

        return scan_topk(query_words, self.ntotal, load_block, k, block_codes=block_codes, threads=threads)


def _umask() -> int:
    """The process's umask (read by setting it, then restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
