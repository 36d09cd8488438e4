"""Fashion Hash Net's reference scorers and input scaling: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from minirec.evaluation.fhn import TIE_BREAK, FHNScores, format_spread_table, history_and_coworn_scorer
from minirec.experiments.fhn import standardise

SLOTS = ("top", "bottom", "shoe")
SIZES = {"top": 3, "bottom": 3, "shoe": 3}
TRAIN = np.array([[0, 1, 1, 1], [0, 1, 2, 0], [1, 0, 1, 1]])


def test_history_and_coworn_counts_by_hand():
    score = history_and_coworn_scorer(TRAIN, SIZES, SLOTS)
    log = np.log
    # user 0 wore top 1 twice, bottom 1 once, shoe 1 once; top 1 & bottom 1 were worn together once,
    # top 1 & shoe 1 once, bottom 1 & shoe 1 twice; top 1, bottom 1 and shoe 1 are each in 2 outfits
    own, worn, popular = log(3) + log(2) + log(2), log(2) + log(2) + log(3), 3 * log(3)
    got = score(np.array([[0, 1, 1, 1], [1, 1, 1, 1], [0, 2, 0, 2], [1, 0, 1, 1]]))
    assert got[0] == pytest.approx(own + worn + TIE_BREAK * popular)
    # user 1 never wore top 1: the same outfit scores log(3) - log(2) lower for them
    assert got[1] == pytest.approx(got[0] - log(3) + log(1))
    assert got[2] == 0.0  # never seen: no history, no pair, no popularity
    assert got[3] > got[1]  # user 1's own training outfit beats the other outfit for user 1


def test_history_and_coworn_handles_two_tops_and_unknown_users():
    slots = ("top", "top", "bottom", "shoe")
    train = np.array([[0, 1, 2, 0, 0]])
    score = history_and_coworn_scorer(train, SIZES, slots)
    # both tops count as the user's tops; the top-top pair is not a pair of the matching block
    log = np.log
    pairs = 5 * log(2)  # top-bottom twice, top-shoe twice, bottom-shoe
    assert score(np.array([[0, 1, 2, 0, 0]]))[0] == pytest.approx(4 * log(2) + pairs + TIE_BREAK * 4 * log(2))
    assert score(np.array([[0, 2, 1, 0, 0]]))[0] == pytest.approx(score(train)[0])
    # a user with no training outfits gets the pair and popularity counts only
    assert score(np.array([[5, 1, 2, 0, 0]]))[0] == pytest.approx(pairs + TIE_BREAK * 4 * log(2))


def test_standardise_scales_each_column_over_all_categories():
    rng = np.random.default_rng(0)
    features = {
        "visual": {c: rng.normal(3.0, 2.0, (4 + n, 5)).astype(np.float32) for n, c in enumerate(SLOTS)},
        "text": {c: np.ones((4 + n, 2), np.float32) for n, c in enumerate(SLOTS)},
    }
    out = standardise(features)
    rows = np.concatenate([out["visual"][c] for c in SLOTS])
    assert rows.dtype == np.float32 and rows.shape == (15, 5)
    assert np.allclose(rows.mean(axis=0), 0, atol=1e-6) and np.allclose(rows.std(axis=0), 1, atol=1e-5)
    # per category the columns are not standardised separately: the top rows keep their offset
    assert not np.allclose(out["visual"]["top"].mean(axis=0), 0, atol=1e-3)
    assert all(np.array_equal(out["text"][c], np.zeros((4 + n, 2))) for n, c in enumerate(SLOTS))


def test_spread_table_shows_one_value_or_mean_and_std():
    fixed = FHNScores(0.5, 0.5, 0.5, 0.5, 0.25)
    seeds = [FHNScores(0.9, 0.7, 0.8, 0.8, 0.6), FHNScores(0.8, 0.7, 0.8, 0.8, 0.4)]
    table = format_spread_table({"random": [fixed], "model": seeds}, columns=("AUC rand", "FITB"))
    lines = table.splitlines()
    assert lines[0].split() == ["test", "set", "AUC", "rand", "FITB"]
    assert lines[1].split() == ["random", "0.500", "0.250"]
    # sample std (ddof=1) of (0.9, 0.8) is 0.0707; of (0.6, 0.4) 0.1414
    assert lines[2].split() == ["model", "0.850", "±", "0.071", "0.500", "±", "0.141"]
