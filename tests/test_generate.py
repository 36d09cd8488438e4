"""The sample data regenerate bit for bit, and the writers never leave half-written files."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from minirec.data.generate import (
    MANIFEST_NAME,
    file_hashes,
    generate_samples,
    main,
    manifest_differences,
    read_manifest,
)
from minirec.data.io import atomic_directory, atomic_write_text
from minirec.data.png import encode_png
from minirec.data.samples import samples_root


def test_committed_files_match_their_manifest():
    root = samples_root()
    assert manifest_differences(read_manifest(root), file_hashes(root)) == []


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """The samples generated once afresh (about 9 s), shared by the tests that only read them."""
    folder = tmp_path_factory.mktemp("regenerated") / "samples"
    generate_samples(folder)
    return folder


@pytest.mark.slow
def test_regenerating_gives_identical_bytes(regenerated):
    assert manifest_differences(read_manifest(samples_root()), file_hashes(regenerated)) == []


@pytest.mark.slow
def test_check_mode_reports_a_changed_file(regenerated, tmp_path, capsys):
    shutil.copytree(regenerated, tmp_path / "samples")
    atomic_write_text(tmp_path / "samples" / "fashion" / "image_list_top", "tampered\n")
    # the manifest still lists the original hash, so --check must complain about this file
    assert main(["--check", "--out", str(tmp_path / "samples")]) == 1
    out = capsys.readouterr().out
    assert "changed: fashion/image_list_top" in out and "regenerated:" not in out


def test_sample_sizes_stay_small():
    total = sum(p.stat().st_size for p in samples_root().rglob("*") if p.is_file())
    assert total < 20 * 2**20, f"data_samples/ is {total / 2**20:.1f} MiB; the budget is ~20 MiB"


def test_png_encoder_round_trips_through_pillow():
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))).convert("RGB"))
    assert np.array_equal(decoded, pixels)
    large = np.zeros((200, 200, 3), np.uint8)  # > 65535 raw bytes: several stored blocks
    assert np.asarray(Image.open(io.BytesIO(encode_png(large)))).shape == (200, 200, 3)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(pixels.astype(np.float32))


def test_atomic_directory_keeps_the_old_folder_on_failure(tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "half.txt").write_text("new")
        raise RuntimeError("generator crashed")
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_atomic_write_leaves_no_temp_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("minirec.data.io.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"] and target.read_text() == "old"


def test_generate_out_a_file_is_a_usage_error(tmp_path, capsys):
    user_file = tmp_path / "notes.txt"
    user_file.write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(user_file)])
    assert exit_info.value.code == 2 and "--out: " in capsys.readouterr().err
    assert user_file.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_check_names_a_malformed_manifest_line(tmp_path, capsys):
    (tmp_path / MANIFEST_NAME).write_text(f"{'0' * 64}  fashion/a.png\nnot a manifest line\n")
    assert main(["--out", str(tmp_path), "--check"]) == 2
    assert f"{MANIFEST_NAME}, line 2: expected '<sha256 in hex>  <file name>'" in capsys.readouterr().err
