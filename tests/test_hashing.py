"""Sign relaxation and packed codes, against hand-computed values and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from minirec.hashing.packed import (
    byte_weight_tables,
    hamming_distance,
    pack_codes,
    unpack_codes,
    weighted_inner_product,
)
from minirec.hashing.relax import (
    CodeLayer,
    beta_schedule,
    binarize,
    bit_balance,
    quantisation_gap,
    relaxed_sign,
    straight_through_sign,
)


def test_beta_schedule_matches_the_official_configs():
    assert beta_schedule(0) == 1.0 and beta_schedule(99) == pytest.approx(10.0)
    assert beta_schedule(14, gamma=7.0) == pytest.approx(math.sqrt(99))
    with pytest.raises(ValueError, match="must be >= 0"):
        beta_schedule(-1)


def test_relaxed_sign_tends_to_sign():
    h = torch.tensor([-2.0, -0.1, 0.3, 1.0])
    assert torch.allclose(relaxed_sign(h, 100.0), torch.sign(h), atol=1e-4)
    assert torch.allclose(relaxed_sign(h, 1.0), torch.tanh(h))


def test_straight_through_gradient_is_clipped_identity():
    h = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
    out = straight_through_sign(h)
    assert out.tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]
    out.sum().backward()
    assert h.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_code_layer_keeps_beta_in_its_state():
    layer = CodeLayer("tanh")
    layer.set_beta(3.0)
    assert layer.state_dict()["beta"].item() == 3.0
    assert torch.equal(layer(torch.tensor([0.2, -0.2]), binary=True), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="relaxation should be"):
        CodeLayer("sigmoid")


def test_gap_and_balance_hand_computed():
    relaxed = torch.tensor([[0.5, -1.0], [1.0, -0.5]])
    assert quantisation_gap(relaxed) == pytest.approx((0.5 + 0 + 0 + 0.5) / 4)
    assert bit_balance(torch.tensor([[1.0, 1.0], [-1.0, 1.0]])) == pytest.approx((0 + 1) / 2)
    assert torch.equal(binarize(torch.tensor([0.0, -0.0, -1e-9])), torch.tensor([1.0, 1.0, -1.0]))


@pytest.mark.parametrize("dim", [1, 8, 13, 64])
def test_pack_round_trip_for_every_encoding(dim):
    rng = np.random.default_rng(dim)
    pm = rng.choice([-1, 1], size=(5, dim))
    for codes in (pm, (pm > 0).astype(int), pm > 0):
        packed = pack_codes(codes)
        assert packed.dtype == np.uint8 and packed.shape == (5, -(-dim // 8))
        assert np.array_equal(unpack_codes(packed, dim), pm)
    with pytest.raises(ValueError, match="must be ±1, 0/1 or bool"):
        pack_codes(np.array([[0.5, -1.0]]))


def test_hamming_and_weighted_scores_equal_brute_force_exactly():
    rng = np.random.default_rng(0)
    dim = 37
    a, b = rng.choice([-1.0, 1.0], size=(6, dim)), rng.choice([-1.0, 1.0], size=(6, dim))
    brute = (a[:, None, :] != b[None, :, :]).sum(-1)
    assert np.array_equal(hamming_distance(pack_codes(a)[:, None], pack_codes(b)[None]), brute)
    weights = rng.normal(1.0, 0.3, dim).astype(np.float32).astype(np.float64)  # float32 weights, as learned
    tables = byte_weight_tables(weights)
    packed = weighted_inner_product(pack_codes(a)[:, None], pack_codes(b)[None], tables, weights.sum())
    direct = np.einsum("id,d,jd->ij", a, weights, b)
    assert np.array_equal(packed, direct)  # exact: float32 weights sum exactly in float64
