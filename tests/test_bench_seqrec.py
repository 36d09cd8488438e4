"""`python -m minirec.experiments.seqrec` on a tiny dataset in the S3-Rec format, written by the test."""

from __future__ import annotations

import json

import pytest

from minirec.experiments import seqrec
from minirec.experiments.runs import load_runs

main = seqrec.main


def write_dataset(folder, with_attributes=True):
    lines = [" ".join(map(str, [u, *[(u * 3 + t) % 40 + 1 for t in range(6)]])) for u in range(1, 31)]
    (folder / "Tiny.txt").write_text("\n".join(lines) + "\n")
    if with_attributes:
        attributes = {str(i): [i % 5 + 1, 6 + i % 3] for i in range(1, 41)}
        (folder / "Tiny_item2attributes.json").write_text(json.dumps(attributes))
    return folder


@pytest.mark.slow
def test_runs_both_models_prints_both_protocols_and_saves_each_seed(tmp_path, capsys):
    folder = write_dataset(tmp_path)
    assert (
        main(
            [
                "--data",
                str(folder),
                "--epochs",
                "2",
                "--dim",
                "8",
                "--max-length",
                "6",
                "--eval-every",
                "1",
                "--negatives",
                "20",
                "--seeds",
                "0,1",
                "--save",
                str(tmp_path / "runs" / "tiny.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "30 users, 40 items, 180 interactions" in out
    assert "sampled = 20 negatives" in out and "full HR@10" in out and "fusion (+categories)" in out
    assert "sasrec epoch 2: valid sampled HR@10" in out and "tiny: mean ± std over seeds 0, 1" in out
    saved = load_runs([tmp_path / "runs"])
    assert [(r.name, r.experiment, r.config["seed"]) for r in saved] == [
        ("tiny", "seqrec", 0),
        ("tiny", "seqrec", 1),
    ]
    assert set(saved[0].metrics) == {f"{m} {c}" for m in ("sasrec", "fusion") for c in seqrec.COLUMNS}


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--models", "sasrec,gru4rec"],
            "argument --models: got ('sasrec', 'gru4rec'), expected a subset of sasrec",
        ),
        (["--dropout", "1.5"], "argument --dropout: got 1.5, expected a number <= 0.95"),
        (["--negatives", "0"], "argument --negatives: got 0, expected a number >= 1"),
        (["--epochs", "-1"], "argument --epochs: got -1, expected a number >= 1"),
        (["--loss", "hinge"], "argument --loss: got 'hinge', expected one of bce, ce, sampled"),
        (["--init", "zeros"], "argument --init: got 'zeros', expected one of scaled, xavier"),
        (["--adam-beta2", "1.5"], "argument --adam-beta2: got 1.5, expected a number <= 0.9999"),
    ],
)
def test_usage_errors_before_reading_data(tmp_path, argv, message, capsys):
    folder = write_dataset(tmp_path)
    (folder / "Tiny.txt").write_text("not a sequence file\n")  # reading it would fail differently
    with pytest.raises(SystemExit) as error:
        main(["--data", str(folder), *argv])
    assert error.value.code == 2 and message in capsys.readouterr().err


def test_the_data_decide_which_models_can_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        main([])
    assert error.value.code == 2 and "argument --data: required" in capsys.readouterr().err
    folder = write_dataset(tmp_path, with_attributes=False)
    with pytest.raises(SystemExit) as error:
        main(["--data", str(folder), "--models", "fusion"])
    assert error.value.code == 2 and "no <name>_item2attributes.json" in capsys.readouterr().err


def test_post_norm_is_refused_for_the_fusion_model_before_training(tmp_path, capsys):
    folder = write_dataset(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["--data", str(folder), "--norm", "post"])  # both models by default
    assert stop.value.code == 2
    assert "argument --norm: got 'post', expected pre with the fusion model" in capsys.readouterr().err
    assert "sasrec:" not in capsys.readouterr().out  # nothing trained


def test_more_negatives_than_a_user_leaves_is_refused_before_training(tmp_path, capsys):
    folder = write_dataset(tmp_path)  # 40 items; each user bought 6 distinct ones
    with pytest.raises(SystemExit) as stop:
        main(["--data", str(folder), "--negatives", "35", "--models", "sasrec"])
    assert stop.value.code == 2
    assert "argument --negatives: got 35, expected at most 34: user 1 leaves only 34 of the 40 items" in (
        capsys.readouterr().err
    )


def test_a_malformed_dataset_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / "Tiny.txt").write_text("1 2 3 4\n2 1 ² 3\n")
    with pytest.raises(SystemExit) as stop:
        main(["--data", str(tmp_path)])
    assert stop.value.code == 2
    assert f"{tmp_path / 'Tiny.txt'}, line 2: expected integer ids 'uid i1 i2 ...', got token '²'" in (
        capsys.readouterr().err
    )


@pytest.mark.slow
def test_reference_benchmark_prints_measured_heuristic_and_published_rows(tmp_path, capsys):
    from minirec.experiments import seqbench

    folder = write_dataset(tmp_path)
    rows = "sasrec-bce,sasrec-sampled,fusion-ce"
    assert (
        seqbench.main(["--data", str(folder), "--rows", rows, "--epochs-scale", "0.02", "--negatives", "20"])
        == 0
    )
    out = capsys.readouterr().out
    for label in (
        "most popular",
        "item transitions",
        "oracle",
        *rows.split(","),
        "pmixer/SASRec.pytorch",
        "DIF-SR",
    ):
        assert label in out, label
    assert "sasrec-ce (" not in out  # only the rows asked for are trained
    rows = {line.split(" | ")[0]: line.split(" | ") for line in out.splitlines() if line.startswith("| ")}
    assert rows["| **sasrec-bce**"][4:6] == ["1", "1"]  # epochs 40 x 0.02 (at least 1); 1 thread
    assert rows["| **fusion-ce**"][5] == "1"
    assert rows["| most popular"][3] == "all 30"


def test_reference_benchmark_refuses_rows_the_data_cannot_run(tmp_path, capsys):
    from minirec.experiments import seqbench

    folder = write_dataset(tmp_path, with_attributes=False)
    with pytest.raises(SystemExit) as exit_info:
        seqbench.main(["--data", str(folder), "--rows", "fusion-ce"])
    assert exit_info.value.code == 2
    assert "--rows" in capsys.readouterr().err
