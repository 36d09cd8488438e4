"""`python -m minirec.bench.seqrec` on a tiny dataset in the S3-Rec format, written by the test."""

from __future__ import annotations

import json

import pytest

from minirec.bench.seqrec import main


def write_dataset(folder, with_attributes=True):
    lines = [" ".join(map(str, [u, *[(u * 3 + t) % 40 + 1 for t in range(6)]])) for u in range(1, 31)]
    (folder / "Tiny.txt").write_text("\n".join(lines) + "\n")
    if with_attributes:
        attributes = {str(i): [i % 5 + 1, 6 + i % 3] for i in range(1, 41)}
        (folder / "Tiny_item2attributes.json").write_text(json.dumps(attributes))
    return folder


def test_runs_both_models_and_prints_both_protocols(tmp_path, capsys):
    folder = write_dataset(tmp_path)
    assert main(["--data", str(folder), "--epochs", "2", "--dim", "8", "--max-length", "6",
                 "--eval-every", "1", "--negatives", "20"]) == 0
    out = capsys.readouterr().out
    assert "30 users, 40 items, 180 interactions" in out
    assert "sampled = 20 negatives" in out and "full HR@10" in out and "fusion (+categories)" in out
    assert "sasrec epoch 2: valid sampled HR@10" in out


def test_usage_errors(tmp_path, capsys):
    folder = write_dataset(tmp_path, with_attributes=False)
    with pytest.raises(SystemExit) as error:
        main(["--data", str(folder), "--models", "sasrec,gru4rec"])
    assert error.value.code == 2 and "--models takes a comma-separated subset" in capsys.readouterr().err
    with pytest.raises(SystemExit) as error:
        main(["--data", str(folder), "--models", "fusion"])
    assert error.value.code == 2 and "no <name>_item2attributes.json" in capsys.readouterr().err
