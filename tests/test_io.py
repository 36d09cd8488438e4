"""Checked input paths, wrapped compressed streams and atomic writes that leave normal files."""

from __future__ import annotations

import gzip
import os
import time

import pytest

from minirec.data.errors import DataFormatError
from minirec.data.io import (
    STALE_AFTER_S,
    atomic_directory,
    atomic_write_text,
    iter_text_lines,
    require_file,
)


def lines(path):
    return [text for _, text in iter_text_lines(path)]


def test_a_directory_where_a_file_is_expected(tmp_path):
    with pytest.raises(DataFormatError, match=r"is a directory; expected a text file"):
        lines(tmp_path)


def test_broken_and_looping_symbolic_links_are_named(tmp_path):
    broken, loop = tmp_path / "broken", tmp_path / "loop"
    broken.symlink_to(tmp_path / "gone.txt")
    loop.symlink_to(loop)
    with pytest.raises(DataFormatError, match=r"broken: is a broken symbolic link \(to .*gone.txt\)"):
        lines(broken)
    with pytest.raises(DataFormatError, match=r"loop: is a symbolic link loop"):
        lines(loop)
    with pytest.raises(FileNotFoundError, match=r"missing.txt: no such file; expected a text file"):
        lines(tmp_path / "missing.txt")


def test_a_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(DataFormatError, match="pipe: is not a regular file"):
        require_file(fifo)


def test_a_link_to_a_file_reads_like_the_file(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(target)
    assert lines(tmp_path / "link.txt") == ["a", "b"]


@pytest.mark.parametrize(
    "content",
    [b"plain text, not gzip\n", gzip.compress(b"one\ntwo\nthree\n" * 500)[:-30], b"\x1f\x8b\x08\x00garbage"],
    ids=["not gzip", "truncated", "corrupt header"],
)
def test_bad_gzip_streams_name_the_file(tmp_path, content):
    path = tmp_path / "reviews.json.gz"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=r"reviews.json.gz, line \d+: is not a complete gzip stream"):
        lines(path)


def test_good_gzip_reads(tmp_path):
    path = tmp_path / "x.txt.gz"
    path.write_bytes(gzip.compress("\ufeffα\nβ\n".encode()))
    assert lines(path) == ["α", "β"]


def test_written_files_follow_the_umask_and_leave_no_temporaries(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "out.txt", "x\n")
        with atomic_directory(tmp_path / "folder") as staging:
            (staging / "inside").write_text("y")
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "out.txt"]


def test_stale_temporaries_of_a_killed_write_are_cleaned(tmp_path):
    stale, fresh = tmp_path / ".out.txt.abc.tmp", tmp_path / ".out.txt.def.tmp"
    stale.write_text("half")
    fresh.write_text("another writer, still running")
    old = time.time() - STALE_AFTER_S - 60
    os.utime(stale, (old, old))
    atomic_write_text(tmp_path / "out.txt", "x\n")
    assert not stale.exists() and fresh.exists()


def test_a_file_is_never_replaced_by_a_folder(tmp_path):
    user_file = tmp_path / "notes.txt"
    user_file.write_text("mine")
    with pytest.raises(DataFormatError, match="notes.txt: exists and is not a directory"):
        with atomic_directory(user_file):
            pass
    assert user_file.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_writing_over_a_directory_is_refused(tmp_path):
    with pytest.raises(DataFormatError, match="is a directory; expected a file path"):
        atomic_write_text(tmp_path, "x")
