"""`python -m minirec.experiments.fhn`: clear usage errors before any data is read, and a real
(short) run whose printed table and saved record agree."""

from __future__ import annotations

import pytest

from minirec.experiments import fhn
from minirec.experiments.config import ConfigError
from minirec.experiments.runs import load_run


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dim", "0"], "argument --dim: got 0, expected a number >= 1"),
        (["--dim", "x"], "argument --dim: invalid int value: 'x'"),
        (
            ["--modalities", "audio"],
            "argument --modalities: got ('audio',), expected a subset of visual, text, category",
        ),
        (["--terms", "all"], "argument --terms: got 'all', expected one of both, preference, compatibility"),
        (["--negatives", "easy"], "argument --negatives: got 'easy', expected one of random, hard, both"),
        (["--gamma", "-1"], "argument --gamma: got -1.0, expected a number >= 0"),
        (["--gamma", "nan"], "argument --gamma: got nan, expected a finite number"),
        (["--epochs", "-1"], "argument --epochs: got -1, expected a number >= 1"),
        (["--seeds", "a"], "argument --seeds: expected seeds like 0,1,2"),
        (["--data", "/no/such/folder"], "argument --data: '/no/such/folder' is not a folder"),
    ],
)
def test_bad_options_give_a_usage_error_before_reading_data(argv, message, capsys, forbid_data_reading):
    forbid_data_reading(fhn.EXPERIMENT)
    with pytest.raises(SystemExit) as exit_info:
        fhn.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m minirec.experiments.fhn" in err and message in err


def test_configs_validate_in_python_too():
    with pytest.raises(ConfigError, match=r"dim=0: expected a number >= 1"):
        fhn.FHNExperiment(dim=0)
    with pytest.raises(ConfigError, match=r"modalities=\('text', 'text'\): expected a non-empty tuple"):
        fhn.FHNExperiment(modalities=("text", "text"))
    with pytest.raises(ConfigError, match=r"epochs=2.5: expected an integer"):
        fhn.FHNExperiment(epochs=2.5)  # type: ignore[arg-type]
    assert fhn.FHNExperiment().dim == 64


@pytest.mark.slow
def test_a_short_run_prints_the_table_and_saves_the_run(tmp_path, capsys):
    assert (
        fhn.main(
            [
                "--epochs",
                "2",
                "--dim",
                "16",
                "--terms",
                "preference",
                "--modalities",
                "text",
                "--vse-weight",
                "0",
                "--save",
                str(tmp_path / "short.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    for row in ("random", "popularity", "oracle ceiling", "FHN real-valued", "FHN binary"):
        assert row in out
    run = load_run(tmp_path / "short.json")
    assert run.name == "short" and run.experiment == "fhn"
    assert run.config["dim"] == 16 and run.config["modalities"] == ["text"] and run.config["vse_weight"] == 0
    assert len(run.metrics) == 10
    printed = next(line for line in out.splitlines() if line.startswith("FHN binary")).split()[2:]
    saved = [run.metrics[f"binary {c}"] for c in ("AUC rand", "AUC hard", "NDCG fhn", "NDCG@10", "FITB")]
    assert [float(v) for v in printed] == [round(v, 3) for v in saved]
    assert saved[0] > float(next(line for line in out.splitlines() if line.startswith("random")).split()[1])
