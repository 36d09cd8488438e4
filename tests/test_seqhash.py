"""Hashed sequential recommender, next-item retrieval lists, saved runs and their comparison table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_bench_seqrec import write_dataset

from minirec.data.errors import DataFormatError
from minirec.data.sequences import LeaveOneOut
from minirec.evaluation.retrieval import float_top_k, hamming_top_k, list_metrics
from minirec.experiments import runs, seqhash
from minirec.hashing.index import HammingIndex
from minirec.hashing.packed import hamming_distance, pack_codes
from minirec.hashing.relax import BetaSchedule
from minirec.models.hashed_seqrec import HashedSeqRec
from minirec.models.sequential import build_seqrec
from minirec.train.seqrec import SeqTrainConfig, train_seqrec


def hashed_model(bits: int = 16, kind: str = "sasrec+features", relaxation: str = "tanh") -> HashedSeqRec:
    features = {"category": np.eye(21, 5)[np.arange(21) % 5]}
    features["category"][0] = 0
    torch.manual_seed(0)
    base = build_seqrec(kind, 20, features, max_length=6, dim=8)
    return HashedSeqRec(base, bits, relaxation, score_scale=10.0)


def test_binary_scores_are_the_hamming_form_and_padding_has_no_code():
    model = hashed_model(bits=16).eval()
    model.binary = True
    sequences = torch.tensor([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    hidden = model(sequences)[:, -1]
    scores = model.score_all(hidden)
    users, items = model.user_codes(hidden), model.item_codes()
    assert torch.equal(items[0], torch.zeros(16)) and set(items[1:].unique().tolist()) <= {-1.0, 1.0}
    distances = hamming_distance(pack_codes(users.numpy())[:, None], pack_codes(items[1:].numpy())[None])
    np.testing.assert_allclose(scores[:, 1:].numpy(), 10 / 16 * (16 - 2 * distances), rtol=1e-6)
    picked = model.score_items(model(sequences), sequences)
    assert torch.allclose(picked[:, -1], scores[torch.arange(2), sequences[:, -1]])


@pytest.mark.parametrize("relaxation", ["tanh", "ste"])
def test_gradients_reach_the_base_model_and_both_heads(relaxation):
    model = hashed_model(relaxation=relaxation).train()
    model.set_beta(2.0)
    hidden = model(torch.tensor([[0, 1, 2, 3, 4, 5]]))
    model.score_all(hidden).logsumexp(-1).sum().backward()
    for name in (
        "user_hash.weight",
        "item_hash.weight",
        "base.item_embedding.weight",
        "base.blocks.0.attention.query.weight",
    ):
        parameter = dict(model.named_parameters())[name]
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    "loss, kind", [("ce", "sasrec+features"), ("bce", "sasrec+features"), ("ce", "fusion")]
)
def test_train_seqrec_trains_hashed_models_unchanged(loss, kind):
    model = hashed_model(kind=kind)
    train = {u: [(u * 3 + t) % 20 + 1 for t in range(6)] for u in range(1, 25)}
    config = SeqTrainConfig(epochs=3, loss=loss, aux_weight=0.5)
    history = train_seqrec(model, train, config, show_progress=False, hooks=[BetaSchedule(4.0)])
    assert len(history["loss"]) == 3 and all(np.isfinite(history["loss"]))
    assert ("category" in history) == (kind == "fusion")  # multitask losses only where the base has heads
    aux = history["category"] if kind == "fusion" else [0.0] * 3
    np.testing.assert_allclose(
        history["loss"], np.add(history["next item"], 0.5 * np.asarray(aux)), rtol=1e-5
    )
    assert history["beta"] == pytest.approx([1.0, 5**0.5, 3.0])  # sqrt(1 + 4 e) before epoch e
    assert float(model.user_code.beta) == float(model.item_code.beta) == pytest.approx(3.0)


def test_retrieval_lists_drop_padding_and_history():
    item_vectors = torch.tensor([[9.0], [5.0], [4.0], [3.0], [2.0], [1.0]])  # id 0 would win if kept
    lists = float_top_k(torch.ones(2, 1), item_vectors, [[1], [2, 3]], k=2)
    assert lists.tolist() == [[2, 3], [1, 4]]
    codes = np.array([[1, 1], [1, 1], [1, -1], [-1, 1], [-1, -1], [1, 1]], dtype=float)
    index = HammingIndex(8)
    index.add(np.repeat(codes, 4, axis=1))  # 8 bits
    lists = hamming_top_k(index, np.ones((2, 8)), [[1], [5, 1]], k=3)
    # distance 0 first (id 0 and the history dropped), then by id
    assert lists.tolist() == [[5, 2, 3], [2, 3, 4]]
    with pytest.raises(ValueError, match="only 1 candidates left"):
        from minirec.evaluation.retrieval import _drop_excluded

        _drop_excluded(np.array([[0, 1, 2]]), [[1]], k=2)


def test_list_metrics_by_hand():
    lists = np.array([[4, 7, 9], [1, 2, 3], [5, 6, 8]])
    hr, ndcg = list_metrics(lists, np.array([7, 3, 1]))
    assert hr == pytest.approx(2 / 3)
    assert ndcg == pytest.approx((1 / np.log2(3) + 1 / np.log2(4)) / 3)


@pytest.mark.slow
def test_the_experiment_command_saves_runs_that_compare(tmp_path, capsys):
    folder = write_dataset(tmp_path)
    common = ["--data", str(folder), "--epochs", "2", "--dim", "8", "--max-length", "6"]
    assert seqhash.main([*common, "--save", str(tmp_path / "runs" / "base.json")]) == 0
    variant = ["--bits", "16", "--relaxation", "ste", "--name", "short codes", "--seeds", "0,1"]
    assert seqhash.main([*common, *variant, "--save", str(tmp_path / "runs" / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "saved" in out and "short codes: mean ± std over seeds 0, 1" in out
    saved = runs.load_runs([tmp_path / "runs"])
    assert [(r.name, r.config["seed"]) for r in saved] == [
        ("short codes", 0),
        ("short codes", 1),
        ("base", 0),
    ]
    assert saved[2].config["bits"] == 64 and saved[0].metrics != saved[1].metrics  # the seeds differ
    printed = [line.split() for line in out.splitlines() if line.startswith(("real-valued ", "binary "))]
    assert [float(row[1]) for row in printed[:2]] == [
        round(saved[2].metrics[f"{k} HR@10"], 3) for k in ("real-valued", "binary")
    ]
    table = runs.comparison_table(saved, baseline="base")
    lines = table.splitlines()
    assert lines[2].startswith("base") and "(baseline)" in lines[2]
    assert "bits=16, relaxation=ste" in lines[3] and "2.000 ± 0.000 (-6.000)" in lines[3]  # bytes per item
    mean = (saved[0].metrics["binary HR@10"] + saved[1].metrics["binary HR@10"]) / 2
    assert f"{mean:.3f} ±" in lines[3]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--bits", "12"], "argument --bits: got 12, expected a multiple of 8 (or 0: off)"),
        (["--bits", "-8"], "argument --bits: got -8, expected a number >= 8 (or 0: off)"),
        (["--epochs", "-1"], "argument --epochs: got -1, expected a number >= 1"),
        (["--lr", "0"], "argument --lr: got 0.0, expected a number > 0"),
        (["--base", "gru"], "argument --base: got 'gru', expected one of sasrec, sasrec+features, fusion"),
        (["--seeds", "1,1"], "argument --seeds: expected distinct non-negative seeds"),
        (["--content-expert", "0.5"], "argument --content-expert: got 0.5, expected 0 unless --bits 0"),
        (["--bits", "0", "--base", "sasrec", "--content-expert", "0.5"], "--content-expert: got 0.5"),
        (
            ["--bits", "0", "--content-expert", "1"],
            "--content-expert: got 1.0, expected a mixture weight below 1",
        ),
        (["--save", "runs/x.txt"], "argument --save: got 'runs/x.txt', expected a file name ending in .json"),
    ],
)
def test_the_experiment_command_refuses_bad_settings_before_reading_data(
    argv, message, capsys, forbid_data_reading
):
    forbid_data_reading(seqhash.EXPERIMENT)
    with pytest.raises(SystemExit) as stop:
        seqhash.main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_a_save_path_that_cannot_be_written_is_refused_before_reading_data(
    tmp_path, capsys, forbid_data_reading
):
    forbid_data_reading(seqhash.EXPERIMENT)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    target = tmp_path / "notes.txt" / "runs" / "x.json"
    with pytest.raises(SystemExit) as stop:
        seqhash.main(["--save", str(target)])
    assert stop.value.code == 2
    assert f"expected a writable folder, but {tmp_path / 'notes.txt'} is a file" in capsys.readouterr().err


def test_a_model_the_data_cannot_feed_is_refused(tmp_path, capsys):
    folder = write_dataset(tmp_path, with_attributes=False)
    with pytest.raises(SystemExit) as stop:
        seqhash.main(["--data", str(folder)])
    assert stop.value.code == 2
    assert (
        "argument --base: got 'sasrec+features', expected sasrec: these data have no item features"
        in capsys.readouterr().err
    )


def test_unhashed_base_runs_with_real_valued_retrieval_only(tmp_path):
    folder = write_dataset(tmp_path)
    data = seqhash.load(folder, torch.device("cpu"))
    assert isinstance(data.split, LeaveOneOut) and data.features["category"].shape == (41, 8)
    experiment = seqhash.SeqHashExperiment(bits=0, epochs=1, dim=8, max_length=6)
    model, results = seqhash.run_seqhash_experiment(experiment, data.split, data.features)
    assert set(results) == {"real-valued"} and not isinstance(model, HashedSeqRec)
    assert seqhash.experiment_metrics(experiment, results)["bytes per item"] == 32
    again, repeat = seqhash.run_seqhash_experiment(experiment, data.split, data.features)
    assert repeat == results  # the seed, set once at the start of the run, fixes everything


def test_run_files_are_checked_field_by_field(tmp_path):
    good = runs.Run("a", "fhn", {"dim": 8}, {"AUC": 0.5})
    runs.save_run(tmp_path / "a.json", good)
    assert runs.load_run(tmp_path / "a.json") == good
    for content, message in (
        ("{", "not JSON"),
        ("[]", "expected a JSON object"),
        ('{"name": "x", "experiment": "fhn", "config": {}}', "field 'metrics'"),
        (
            '{"name": "x", "experiment": "fhn", "config": {}, "metrics": {"AUC": "high"}}',
            "field 'metrics.AUC': expected a number",
        ),
        (b'{"name": "caf\xe9"}', "line 1: byte 13 is not valid UTF-8"),
    ):
        (tmp_path / "bad.json").write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(DataFormatError, match=message) as error:
            runs.load_run(tmp_path / "bad.json")
        assert "bad.json" in str(error.value)


def test_comparison_table_groups_seeds_and_mixes_experiments(tmp_path, capsys):
    a = runs.Run("a", "fhn", {"seed": 0}, {"m": 1.0})
    with pytest.raises(ValueError, match="no run named 'z'"):
        runs.comparison_table([a], baseline="z")
    with pytest.raises(ValueError, match="must be unique per seed"):
        runs.comparison_table([a, a])
    with pytest.raises(ValueError, match="differ in more than the seed: dim=16"):
        runs.comparison_table([a, runs.Run("a", "fhn", {"seed": 1, "dim": 16}, {"m": 1.0})])
    tiny = runs.comparison_table([a, runs.Run("d", "fhn", {}, {"m": 1.0 - 1e-6})])
    assert tiny.splitlines()[-1].endswith(" 1.000"), "a difference that rounds to zero is no difference"
    seeds = [
        runs.Run("c", "fhn", {"dim": 16, "seed": s}, {"m": v}) for s, v in ((0, 0.5), (1, 0.7), (2, 0.9))
    ]
    other = runs.Run("s", "seqhash", {"bits": 8, "seed": 0}, {"binary HR@10": 0.25})
    for run in (a, *seeds, other):
        runs.save_run(tmp_path / f"{run.name}{run.config.get('seed', '')}.json", run)
    assert runs.main([str(tmp_path), "--baseline", "a"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "experiment", "seeds", "changed", "m", "binary", "HR@10"]
    assert lines[3].split() == ["c", "fhn", "3", "dim=16", "0.700", "±", "0.200", "(-0.300)", "-"]
    assert lines[4].split() == ["s", "seqhash", "1", "(other", "experiment)", "-", "0.250"]
    same_name = runs.Run("t", "seqhash", {"seed": 0}, {"m": 0.1})  # "m" means something else there
    table = runs.comparison_table([a, same_name]).splitlines()
    assert table[0].split() == ["run", "experiment", "seeds", "changed", "fhn:", "m", "seqhash:", "m"]
    assert table[3].split() == ["t", "seqhash", "1", "(other", "experiment)", "-", "0.100"]  # no difference
    with pytest.raises(SystemExit):
        runs.main([str(tmp_path / "missing.json")])
    err = capsys.readouterr().err
    assert "missing.json: no such file" in err
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        runs.main([str(tmp_path / "empty")])
    assert "no run files" in capsys.readouterr().err


def test_without_leaves_one_modality_out_and_refuses_one_the_data_lack(tmp_path, capsys):
    features = {"category": np.eye(21, 5)[np.arange(21) % 5], "text": np.ones((21, 3))}
    kept = seqhash.build_model(
        seqhash.SeqHashExperiment(bits=0, base="fusion", without="text", dim=8), 20, features
    )
    assert kept.feature_names == ("category",)
    folder = write_dataset(tmp_path)  # categories only
    with pytest.raises(SystemExit) as stop:
        seqhash.main(["--data", str(folder), "--base", "fusion", "--without", "image"])
    assert stop.value.code == 2 and "argument --without: got 'image'" in capsys.readouterr().err


def test_rare_target_hit_rate_counts_only_users_whose_item_is_rare_in_training():
    from minirec.evaluation.retrieval import RetrievalScores
    from minirec.evaluation.seqrec import rare_targets, training_counts

    split = LeaveOneOut.split({1: [1, 2, 3, 4], 2: [1, 2, 5, 1], 3: [1, 3, 2, 2]}, num_items=5)
    assert training_counts(split).tolist() == [0, 3, 2, 1, 0, 0]
    # test items: user 1 -> 4 (0 in training), user 2 -> 1 (3), user 3 -> 2 (2)
    assert rare_targets(split, np.array([1, 2, 3]), at_most=2).tolist() == [True, False, True]
    lists, targets = np.array([[4, 1], [1, 2], [5, 3]]), np.array([4, 1, 2])
    scores = RetrievalScores.of(lists, targets, np.array([True, False, True]))
    assert scores.hr == pytest.approx(2 / 3) and scores.rare_hr == 0.5
