"""`python -m minirec.fhn`: clear usage errors, and a real (short) run that prints the table."""

from __future__ import annotations

import pytest

from minirec.fhn import main
from minirec.runs import load_run


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


def test_a_short_run_prints_the_table_and_saves_the_run(tmp_path, capsys):
    assert main(["--epochs", "2", "--dim", "16", "--terms", "preference", "--modalities", "text",
                 "--vse-weight", "0", "--save", str(tmp_path / "short.json")]) == 0
    out = capsys.readouterr().out
    for row in ("random", "popularity", "oracle ceiling", "FHN real-valued", "FHN binary"):
        assert row in out
    run = load_run(tmp_path / "short.json")
    assert run.name == "short" and run.experiment == "fhn"
    assert run.config["dim"] == 16 and run.config["modalities"] == ["text"] and run.config["vse_weight"] == 0
    assert 0.0 <= run.metrics["binary AUC rand"] <= 1.0 and len(run.metrics) == 10
