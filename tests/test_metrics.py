"""Metrics against scikit-learn and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from minirec.evaluation.metrics import (
    auc,
    fitb_accuracy,
    hit_rate_at_k,
    mean_user_auc,
    ndcg_at_k,
    rank_of_target,
)


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    pos, neg = rng.integers(0, 5, 40).astype(float), rng.integers(0, 5, 30).astype(float)
    expected = roc_auc_score(np.r_[np.ones(40), np.zeros(30)], np.r_[pos, neg])
    assert auc(pos, neg) == pytest.approx(expected)


def test_auc_hand_computed():
    assert auc([3.0], [1.0, 3.0, 5.0]) == pytest.approx(0.5)  # (1 + 0.5 + 0) / 3
    with pytest.raises(ValueError, match="at least one positive"):
        auc([], [1.0])


def test_mean_user_auc_averages_per_user():
    users = np.array([0, 0, 1])
    pos = np.array([2.0, 0.0, 5.0])
    neg_users, neg = np.array([0, 1]), np.array([1.0, 9.0])
    assert mean_user_auc(users, pos, neg_users, neg) == pytest.approx((0.5 + 0.0) / 2)


def test_rank_excludes_history_and_breaks_ties_pessimistically():
    scores = np.array([0.0, 5.0, 3.0, 3.0, 1.0])
    assert rank_of_target(scores, 2) == 3  # item 1 above; item 3 ties and counts above
    assert rank_of_target(scores, 2, excluded=np.array([0, 1])) == 2
    assert rank_of_target(np.zeros(10), 4) == 10


def test_hit_rate_and_ndcg_hand_computed():
    ranks = np.array([1, 2, 11])
    assert hit_rate_at_k(ranks, 10) == pytest.approx(2 / 3)
    assert ndcg_at_k(ranks, 10) == pytest.approx((1.0 + 1 / np.log2(3)) / 3)


def test_fitb_accuracy_shares_ties():
    scores = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert fitb_accuracy(scores, np.array([1, 0, 2])) == pytest.approx((0.5 + 1 + 0.25) / 3)


def test_standard_ndcg_matches_sklearn():
    from sklearn.metrics import ndcg_score

    from minirec.evaluation.metrics import ndcg_standard

    rng = np.random.default_rng(1)
    for _ in range(5):
        scores, labels = rng.normal(size=20), (rng.random(20) < 0.4).astype(float)
        for k in (5, 10, 20):
            assert ndcg_standard(scores, labels, k) == pytest.approx(ndcg_score([labels], [scores], k=k))


def test_fhn_ndcg_hand_computed():
    from minirec.evaluation.metrics import mean_user_ndcg, ndcg_fhn

    # ranked labels [0, 1]: discounts log2(max(rank, 2)) = [1, 1]; NDCG@1 = 0, NDCG@2 = 1 -> mean 0.5
    assert ndcg_fhn(np.array([2.0, 1.0]), np.array([0.0, 1.0])) == pytest.approx(0.5)
    assert ndcg_fhn(np.array([1.0, 2.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    users = np.array([0, 1])
    assert mean_user_ndcg(
        users, np.array([1.0, 1.0]), users, np.array([2.0, 0.0]), form="fhn"
    ) == pytest.approx((0.5 + 1.0) / 2)
    with pytest.raises(ValueError, match="form should be"):
        mean_user_ndcg(users, np.ones(2), users, np.ones(2), form="other")


def test_spread_over_seeds_and_the_two_std_rule():
    from minirec.evaluation.metrics import clearly_above, mean_std, spread

    assert mean_std([0.2, 0.4]) == pytest.approx((0.3, 0.1414213562))
    assert mean_std([0.5]) == (0.5, 0.0)
    assert spread([0.2, 0.4]) == "0.300 ± 0.141" and spread([0.25]) == "0.250"
    assert clearly_above([0.30, 0.31, 0.32], [0.25])  # gap 0.06 > 2 * 0.01
    assert not clearly_above([0.30, 0.31, 0.32], [0.29])  # gap 0.02 = 2 * 0.01: a tie
    assert not clearly_above([0.25], [0.30, 0.31, 0.32])
