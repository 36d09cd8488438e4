"""A byte-stable PNG writer for the synthetic datasets.

Pillow writes PNGs through whatever zlib it was built with, and different zlib builds
compress the same pixels to different bytes. The sample data must regenerate bit for bit
on any machine, so the generator writes its images with this encoder instead: 8-bit RGB,
no filtering, and *stored* (uncompressed) deflate blocks. The file depends on the pixels
alone, and every PNG reader (Pillow, browsers, matplotlib) opens it.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_STORED_BLOCK = 65535


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _stored_zlib_stream(raw: bytes) -> bytes:
    """A zlib stream made of stored deflate blocks (RFC 1950/1951), built by hand."""
    out = bytearray(b"\x78\x01")  # zlib header: deflate, 32K window, no preset dictionary
    blocks = [raw[i : i + _MAX_STORED_BLOCK] for i in range(0, len(raw), _MAX_STORED_BLOCK)]
    for index, block in enumerate(blocks or [b""]):
        is_final = index == len(blocks) - 1 or not blocks
        out += bytes([1 if is_final else 0])
        out += struct.pack("<HH", len(block), len(block) ^ 0xFFFF)
        out += block
    out += struct.pack(">I", zlib.adler32(raw) & 0xFFFFFFFF)
    return bytes(out)


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode an ``(height, width, 3)`` uint8 array as PNG bytes."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(
            f"encode_png expects a (height, width, 3) uint8 array, got {pixels.dtype} {pixels.shape}"
        )
    height, width, _ = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", _stored_zlib_stream(rows.tobytes()))
        + _chunk(b"IEND", b"")
    )
