"""Fashion Hash Net: the matching block on hand-made codes, losses, gradients, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minirec.data.errors import DataFormatError
from minirec.models.fhn import FashionHashNet, FHNConfig, MatchingBlock, slot_pairs
from minirec.train.fhn import (
    FHNTrainConfig,
    draw_negatives,
    fhn_loss,
    load_checkpoint,
    save_checkpoint,
    train_fhn,
)
from minirec.train.losses import bpr_loss, visual_semantic_loss

SLOTS = ("top", "bottom", "shoe")


def test_matching_block_hand_computed():
    block = MatchingBlock(dim=2, slots=SLOTS, scale=10.0)
    with torch.no_grad():
        block.lambda_ui.copy_(torch.tensor([1.0, 2.0]))
        block.lambda_ii.copy_(torch.tensor([0.5, 1.0]))
    u = torch.tensor([[1.0, -1.0]])
    x = torch.tensor([[[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]])
    # preference: u^T L x_n = (1 - 2), (1 + 2), (-1 + 2) -> sum 3, / (N D = 6) = 0.5
    # compatibility: pairs (0,1): 0.5 - 1, (0,2): -0.5 - 1, (1,2): -0.5 + 1 -> -1.5, / (|P| D = 6) = -0.25
    assert block(u, x).item() == pytest.approx(10 * (0.5 - 0.25))
    block.terms = "preference"
    assert block(u, x).item() == pytest.approx(2 * 10 * 0.5)
    block.terms = "compatibility"
    assert block(u, x).item() == pytest.approx(2 * 10 * -0.25)


def test_two_top_outfits_drop_the_top_top_pair():
    assert slot_pairs(("top", "top", "bottom", "shoe")) == [(0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert slot_pairs(SLOTS) == [(0, 1), (0, 2), (1, 2)]


def test_losses_against_explicit_loops():
    pos, neg = torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.5])
    expected = np.mean([np.log1p(np.exp(-(2 - 1))), np.log1p(np.exp(-(-1 - 0.5)))])
    assert bpr_loss(pos, neg).item() == pytest.approx(expected, rel=1e-6)
    torch.manual_seed(0)
    v, t = torch.randn(5, 4), torch.randn(5, 4)
    margin, n, d = 0.1, 5, 4
    s = (v @ t.T / d).tolist()
    total = 0.0
    for k in range(n):
        row = sum(max(0.0, margin - s[k][k] + s[k][j]) for j in range(n) if j != k)
        col = sum(max(0.0, margin - s[k][k] + s[i][k]) for i in range(n) if i != k)
        total += (row + col) / (n - 1)
    assert visual_semantic_loss(v, t, margin).item() == pytest.approx(total / n, rel=1e-5)


def tiny_model(relaxation="tanh", terms="both"):
    rng = np.random.default_rng(0)
    features = {m: {c: rng.normal(size=(5, 6)).astype(np.float32) for c in SLOTS} for m in ("visual", "text")}
    config = FHNConfig(
        num_users=3, feature_dims={"visual": 6, "text": 6}, dim=8, relaxation=relaxation, terms=terms
    )
    return FashionHashNet(config, features)


@pytest.mark.parametrize("relaxation", ["tanh", "ste"])
def test_gradients_reach_every_parameter(relaxation):
    torch.manual_seed(0)
    model = tiny_model(relaxation)
    users = torch.tensor([0, 1, 2, 0])
    pos, neg = torch.randint(0, 5, (4, 3)), torch.randint(0, 5, (4, 3))
    losses = fhn_loss(model, users, pos, neg, FHNTrainConfig(vse_weight=0.1))
    losses["loss"].backward()
    assert losses["loss"].item() == pytest.approx(losses["bpr"].item() + 0.1 * losses["vse"].item())
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_checkpoint_round_trip_keeps_beta_and_scores(tmp_path):
    model = tiny_model()
    model.set_beta(4.5)
    model.eval()
    tuples = np.array([[0, 1, 2, 3], [2, 4, 0, 1]])
    save_checkpoint(model, tmp_path / "fhn.pt")
    restored = load_checkpoint(tmp_path / "fhn.pt")
    assert restored.beta == 4.5
    for binary in (True, False):
        assert np.array_equal(restored.score_tuples(tuples, binary), model.score_tuples(tuples, binary))


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    (tmp_path / "half.pt").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(DataFormatError, match="half.pt: cannot be read as a Fashion Hash Net checkpoint"):
        load_checkpoint(tmp_path / "half.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(DataFormatError, match=r"other.pt: expected a checkpoint \{'config'"):
        load_checkpoint(tmp_path / "other.pt")


def test_binary_scores_are_the_tensor_scores_of_sign_codes():
    model = tiny_model().eval()
    users, outfits = torch.tensor([0, 2]), torch.tensor([[1, 2, 3], [4, 0, 1]])
    scores, codes = model(users, outfits, binary=True)
    assert set(torch.unique(codes["visual"]).tolist()) <= {-1.0, 1.0}
    assert np.allclose(scores.detach().numpy(), model.score_tuples(np.c_[users, outfits], binary=True))


def test_negatives_of_each_kind():
    rng = np.random.default_rng(0)
    positives = np.array([[u, u, u, u] for u in range(4) for _ in range(3)])
    hard = draw_negatives(positives, {c: 4 for c in SLOTS}, SLOTS, "hard", rng)
    assert np.array_equal(hard[:, 0], positives[:, 0]) and (hard[:, 1] != positives[:, 0]).all()
    rand = draw_negatives(positives, {c: 4 for c in SLOTS}, SLOTS, "random", rng)
    assert rand.shape == positives.shape and rand[:, 1:].max() < 4
    with pytest.raises(ValueError, match="negatives should be one of"):
        FHNTrainConfig(negatives="easy")


def test_training_lowers_the_loss():
    model = tiny_model()
    positives = np.array([[u, u, (u + 1) % 5, (u + 2) % 5] for u in range(3) for _ in range(20)])
    history = train_fhn(
        model,
        positives,
        {c: 5 for c in SLOTS},
        FHNTrainConfig(epochs=8, batch_size=16, lr=1e-2, gamma=7.0),
        show_progress=False,
    )
    assert history["bpr"][-1] < 0.8 * history["bpr"][0]
    assert history["beta"] == pytest.approx([(1 + 7 * e) ** 0.5 for e in range(8)])  # before each epoch
    assert model.beta == pytest.approx(history["beta"][-1])  # evaluated at the last epoch's beta
    assert set(history) == {"loss", "bpr", "vse", "beta"}
