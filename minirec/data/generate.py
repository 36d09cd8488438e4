"""Regenerate ``data_samples/`` bit for bit, and check it against its hash manifest.

    python -m minirec.data.generate                 # rebuild data_samples/ (atomically)
    python -m minirec.data.generate --check         # files and a fresh rebuild vs the MANIFEST
    python -m minirec.data.generate --out DIR       # write elsewhere

``data_samples/MANIFEST.sha256`` lists ``sha256  relative/path`` for every file; the test suite
regenerates the data and compares against it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tempfile
from pathlib import Path

from minirec.data.errors import DataFormatError
from minirec.data.io import atomic_directory, atomic_write_text, iter_text_lines
from minirec.data.samples import samples_root
from minirec.data.synth_fashion import FashionConfig, generate_fashion
from minirec.data.synth_shopping import ShoppingConfig, generate_shopping

MANIFEST_NAME = "MANIFEST.sha256"
DEFAULT_ROOT = samples_root()


def generate_samples(root: str | Path) -> None:
    """Write both sample datasets and their manifest into ``root`` (replacing it atomically)."""
    with atomic_directory(root) as staging:
        generate_fashion(staging / "fashion", FashionConfig())
        generate_shopping(staging / "shopping", ShoppingConfig())
        atomic_write_text(staging / MANIFEST_NAME, manifest_text(staging))


def file_hashes(root: str | Path) -> dict[str, str]:
    """``{relative posix path: sha256 hex}`` of every file under ``root`` except the manifest."""
    root = Path(root)
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    }


def manifest_text(root: str | Path) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in file_hashes(root).items())


def read_manifest(root: str | Path) -> dict[str, str]:
    path, entries = Path(root) / MANIFEST_NAME, {}
    for number, line in iter_text_lines(path):
        digest, separator, name = line.partition("  ")
        if not separator or not re.fullmatch(r"[0-9a-f]{64}", digest) or not name:
            raise DataFormatError(
                path, f"expected '<sha256 in hex>  <file name>', got {line[:80]!r}", line=number
            )
        entries[name] = digest
    return entries


def manifest_differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Human-readable list of files missing, extra or changed between two manifests."""
    problems = [f"missing: {n}" for n in sorted(expected.keys() - actual.keys())]
    problems += [f"unexpected: {n}" for n in sorted(actual.keys() - expected.keys())]
    problems += [f"changed: {n}" for n in sorted(expected.keys() & actual.keys()) if expected[n] != actual[n]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minirec.data.generate",
        description="Regenerate the seeded sample datasets (bit for bit) or check them.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_ROOT,
        help="where the samples live (default: data_samples/ of the checkout)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="check --out's files against its manifest, then regenerate into a "
        "temporary folder and compare that too; exit 1 on any difference",
    )
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out: {args.out} is a file; expected a folder for the samples")
    if not args.check:
        generate_samples(args.out)
        print(f"wrote {args.out} ({len(file_hashes(args.out))} files)")
        return 0
    try:
        expected = read_manifest(args.out)
    except (DataFormatError, FileNotFoundError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    problems = [f"in {args.out}: {p}" for p in manifest_differences(expected, file_hashes(args.out))]
    with tempfile.TemporaryDirectory() as tmp:
        generate_samples(Path(tmp) / "samples")
        problems += [
            f"regenerated: {p}" for p in manifest_differences(expected, file_hashes(Path(tmp) / "samples"))
        ]
    for problem in problems:
        print(problem)
    print("identical" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
