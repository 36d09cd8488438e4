"""`python -m minirec.fhn`: clear usage errors, and a real (short) run that prints the table."""

from __future__ import annotations

import json

import pytest

from minirec.fhn import main


@pytest.mark.parametrize("argv, message", [
    (["--dim", "0"], "argument --dim: must be a positive integer, got 0"),
    (["--modalities", "audio"], "argument --modalities: expected a comma-separated subset"),
    (["--terms", "all"], "argument --terms: invalid choice: 'all'"),
    (["--negatives", "easy"], "argument --negatives: invalid choice: 'easy'"),
])
def test_bad_options_give_a_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m minirec.fhn" in err and message in err


def test_a_short_run_prints_the_table_and_saves_json(tmp_path, capsys):
    assert main(["--epochs", "2", "--dim", "16", "--terms", "preference", "--modalities", "text",
                 "--json", str(tmp_path / "run.json")]) == 0
    out = capsys.readouterr().out
    for row in ("random", "popularity", "oracle ceiling", "FHN real-valued", "FHN binary"):
        assert row in out
    saved = json.loads((tmp_path / "run.json").read_text())
    assert saved["experiment"]["dim"] == 16 and saved["experiment"]["modalities"] == ["text"]
    assert 0.0 <= saved["results"]["FHN binary"]["auc_random"] <= 1.0
