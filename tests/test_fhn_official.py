"""Official Fashion Hash Net checkpoints: the loader, the official preset, the two-top VSE item set.

The expected values are computed here, from the raw tensors of a small checkpoint in the official
layout, by a re-implementation of the official forward pass written from the official source
(``polyvore/model/fashionnet.py`` and ``basemodel.py`` of github.com/lzcn/Fashion-Hash-Net): the
encoders' layer order, ``tanh(scale * h)``, ``torch.sign``, the matching block with ``core.0`` /
``core.1`` and the top-top pair dropped for four slots, ``soft_margin_loss`` and
``contrastive_loss`` over ``latents[1:]`` for variable-length outfits. No minirec function computes
an expected value.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from minirec.data.errors import DataFormatError
from minirec.models.fhn import FashionHashNet, FHNConfig, HashingModule
from minirec.models.official_fhn import exact_zero_codes, load_official_checkpoint
from minirec.train.fhn import FHNTrainConfig, fhn_loss, load_checkpoint, save_checkpoint, vse_slots

WIDTHS = {"visual": 12, "text": 10}  # feature widths F
HIDDEN = {"visual": 6, "text": 7}  # visual F/2 as the official ImgEncoder, text a fixed width as TxtEncoder
DIM = 16
ITEMS = 9  # items per category
CATEGORY_INDEX = {"top": 0, "bottom": 1, "shoe": 2}  # polyvore/config.py CateIdx


def official_state(num_users: int, seed: int = 0, modalities=("visual", "text"), encoders: int = 3) -> dict:
    """A FashionNet state_dict with the official names and shapes and random values."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, std=0.5):
        return torch.randn(*shape, generator=g) * std

    state = {
        "user_embedding.scale": torch.tensor([1.7]),
        "user_embedding.encoder.weight": randn(DIM, num_users),
        # a piece of the AlexNet backbone, which minirec does not use
        "features.features.0.weight": randn(4, 3, 11, 11),
        "features.features.0.bias": randn(4),
    }
    if "visual" in modalities:
        f, h = WIDTHS["visual"], HIDDEN["visual"]
        for c in range(encoders):
            state[f"encoder_v.{c}.scale"] = torch.tensor([1.3 + 0.4 * c])
            state[f"encoder_v.{c}.encoder.1.weight"] = randn(h, f)
            state[f"encoder_v.{c}.encoder.1.bias"] = randn(h)
            state[f"encoder_v.{c}.encoder.4.weight"] = randn(DIM, h)
    if "text" in modalities:
        f, h = WIDTHS["text"], HIDDEN["text"]
        for c in range(encoders):
            state[f"encoder_t.{c}.scale"] = torch.tensor([2.1 - 0.3 * c])
            state[f"encoder_t.{c}.encoder.0.weight"] = randn(h, f)
            state[f"encoder_t.{c}.encoder.0.bias"] = randn(h)
            state[f"encoder_t.{c}.encoder.3.weight"] = randn(DIM, h)
    state["core.0.weight"] = 1 + randn(1, DIM)
    state["core.1.weight"] = 1 + randn(1, DIM)
    return state


def item_features(seed: int = 1, modalities=("visual", "text")) -> dict:
    rng = np.random.default_rng(seed)
    return {
        m: {c: rng.normal(size=(ITEMS, WIDTHS[m])).astype(np.float32) for c in ("top", "bottom", "shoe")}
        for m in modalities
    }


# ---- the official forward pass, by hand ---------------------------------------------------------


def official_latent(state, modality, encoder, x):
    """``ImgEncoder`` / ``TxtEncoder`` in eval mode (Dropout is the identity): ``tanh(scale * h)``."""
    if modality == "visual":  # Dropout, Linear, ReLU, Dropout, Linear
        w1, b1, w2 = (state[f"encoder_v.{encoder}.encoder.{k}"] for k in ("1.weight", "1.bias", "4.weight"))
        scale = state[f"encoder_v.{encoder}.scale"]
    else:  # Linear, ReLU, Dropout, Linear
        w1, b1, w2 = (state[f"encoder_t.{encoder}.encoder.{k}"] for k in ("0.weight", "0.bias", "3.weight"))
        scale = state[f"encoder_t.{encoder}.scale"]
    h = torch.relu(x @ w1.T + b1) @ w2.T
    return torch.tanh(h * scale)


def official_user(state, users, num_users):
    one_hot = torch.zeros(len(users), num_users).scatter_(1, users.view(-1, 1), 1.0)
    return torch.tanh((one_hot @ state["user_embedding.encoder.weight"].T) * state["user_embedding.scale"])


def official_match(state, user, latents, scale=10.0):
    """``FashionNet.scores`` with ``hash_types`` 3."""
    size = len(latents)
    indx, indy = np.triu_indices(size, k=1)
    if size == 4:
        indx, indy = indx[1:], indy[1:]
    latents = torch.stack(latents, dim=1)
    x = latents * user.unsqueeze(1).expand(-1, size, -1)
    y = latents[:, indx] * latents[:, indy]
    score_u = (x * state["core.0.weight"]).mean(dim=(1, 2))
    score_i = (y * state["core.1.weight"]).mean(dim=(1, 2))
    return (score_u + score_i) * scale


def official_cate_map(slots):
    return [0, 0, 1, 2] if len(slots) == 4 else [0, 1, 2]


def official_outputs(state, features, slots, users, outfits, num_users, encoders=3):
    """Relaxed latents, binary codes and scores per modality, the way ``FashionNet`` computes them."""
    user = official_user(state, users, num_users)
    out = {}
    for m in features:
        latents = [
            official_latent(
                state,
                m,
                official_cate_map(slots)[n] if encoders == 3 else 0,
                torch.as_tensor(features[m][slots[n]])[outfits[:, n]],
            )
            for n in range(len(slots))
        ]
        binary = [h.sign() for h in latents]
        out[m] = {
            "latents": latents,
            "binary": binary,
            "score": official_match(state, user, latents),
            "binary_score": official_match(state, user.sign(), binary),
        }
    return user, out


def official_contrastive(margin, im, s):
    size, dim = im.shape
    scores = im.matmul(s.t()) / dim
    diag = scores.diag()
    zeros = torch.zeros_like(scores)
    cost_im = torch.max(zeros, margin - diag.view(-1, 1) + scores)
    cost_s = torch.max(zeros, margin - diag.view(1, -1) + scores)
    return (cost_im.sum(dim=1) + cost_s.sum(dim=0) - 2 * margin) / (size - 1)


def official_losses(state, features, slots, users, positive, negative, num_users, margin=0.1):
    _, pos = official_outputs(state, features, slots, users, positive, num_users)
    _, neg = official_outputs(state, features, slots, users, negative, num_users)
    diff = 0.5 * (pos["visual"]["score"] + pos["text"]["score"]) - 0.5 * (
        neg["visual"]["score"] + neg["text"]["score"]
    )
    rank = F.soft_margin_loss(
        diff, torch.ones_like(diff), reduction="none"
    ).mean()  # rank_loss, then gather's mean
    first = 1 if len(slots) == 4 else 0  # variable_length: "only use second top item"
    latents = {
        m: torch.stack(pos[m]["latents"][first:] + neg[m]["latents"][first:], dim=1).view(-1, DIM)
        for m in ("visual", "text")
    }
    vse = official_contrastive(margin, latents["visual"], latents["text"]).mean()  # gather's mean
    return rank.item(), vse.item()


# ---- helpers -------------------------------------------------------------------------------------


def random_outfits(slots, rows=7, seed=2):
    rng = np.random.default_rng(seed)
    return torch.as_tensor(rng.integers(0, ITEMS, (rows, len(slots))))


def save(tmp_path, state, name="fhn_best.net"):
    torch.save(state, tmp_path / name)
    return tmp_path / name


# ---- loading reproduces the official numbers ------------------------------------------------------


@pytest.mark.parametrize(
    ("num_users", "slots"), [(5, ("top", "bottom", "shoe")), (32, ("top", "top", "bottom", "shoe"))]
)
def test_loaded_checkpoint_gives_the_official_codes_and_scores(tmp_path, num_users, slots):
    state, features = official_state(num_users), item_features()
    model = load_official_checkpoint(save(tmp_path, state), features)
    assert model.config.slots == slots  # 32 users: a variable-length data set, as official_slots infers
    assert not model.training
    users = torch.arange(7) % num_users
    outfits = random_outfits(slots)
    official_users, official = official_outputs(state, features, slots, users, outfits, num_users)

    with torch.no_grad():
        assert torch.allclose(model.users(users), official_users, atol=1e-6)
        assert torch.equal(model.users(users, binary=True), official_users.sign())
        for m in ("visual", "text"):
            assert torch.allclose(
                model.item_codes(m, outfits), torch.stack(official[m]["latents"], 1), atol=1e-6
            )
            assert torch.equal(
                model.item_codes(m, outfits, binary=True), torch.stack(official[m]["binary"], 1)
            )
        relaxed = model(users, outfits).scores
        binary = model(users, outfits, binary=True).scores
    expected = 0.5 * (official["visual"]["score"] + official["text"]["score"])
    expected_binary = 0.5 * (official["visual"]["binary_score"] + official["text"]["binary_score"])
    assert torch.allclose(relaxed, expected, atol=1e-5)
    assert torch.allclose(binary, expected_binary, atol=1e-5)
    rows = np.c_[users.numpy(), outfits.numpy()]
    assert np.allclose(model.score_tuples(rows, binary=True), expected_binary.numpy(), atol=1e-5)
    assert np.allclose(model.score_tuples(rows, binary=False), expected.numpy(), atol=1e-5)


@pytest.mark.parametrize(
    ("num_users", "slots"), [(5, ("top", "bottom", "shoe")), (32, ("top", "top", "bottom", "shoe"))]
)
def test_bpr_and_vse_losses_equal_the_official_ones(num_users, slots):
    state, features = official_state(num_users), item_features()
    model = load_official_checkpoint(state, features)  # eval mode: no Dropout, as the official test phase
    users = torch.arange(6) % num_users
    positive, negative = random_outfits(slots, 6, seed=3), random_outfits(slots, 6, seed=4)
    with torch.no_grad():
        losses = fhn_loss(model, users, positive, negative, FHNTrainConfig(vse_weight=0.1, margin=0.1))
    rank, vse = official_losses(state, features, slots, users, positive, negative, num_users)
    assert losses["bpr"].item() == pytest.approx(rank, rel=1e-5)
    assert losses["vse"].item() == pytest.approx(vse, rel=1e-5)
    assert losses["loss"].item() == pytest.approx(rank + 0.1 * vse, rel=1e-5)


def test_two_top_vse_leaves_out_the_first_top():
    assert vse_slots(("top", "top", "bottom", "shoe")) == [1, 2, 3]
    assert vse_slots(("top", "bottom", "shoe")) == [0, 1, 2]
    # on the same outfits, all four slots would give another loss: the item set matters
    state, features = official_state(32), item_features()
    slots = ("top", "top", "bottom", "shoe")
    users, positive, negative = torch.arange(6), random_outfits(slots, 6, 3), random_outfits(slots, 6, 4)
    _, pos = official_outputs(state, features, slots, users, positive, 32)
    _, neg = official_outputs(state, features, slots, users, negative, 32)
    every = {m: torch.stack(pos[m]["latents"] + neg[m]["latents"], 1).view(-1, DIM) for m in pos}
    all_slots = official_contrastive(0.1, every["visual"], every["text"]).mean().item()
    model = load_official_checkpoint(state, features)
    with torch.no_grad():
        vse = fhn_loss(model, users, positive, negative, FHNTrainConfig())["vse"].item()
    assert vse != pytest.approx(all_slots, rel=1e-3)


def test_wrappers_and_a_single_encoder_load_the_same_weights(tmp_path):
    state, features = official_state(5), item_features()
    plain = load_official_checkpoint(state, features)
    rows = np.c_[np.arange(5), random_outfits(("top", "bottom", "shoe"), 5).numpy()]
    expected = plain.score_tuples(rows, binary=False)
    solver = save(tmp_path, {"net": state, "optim": {}}, "fhn_latest.solver")  # BasicSolver.save_solver
    parallel = save(tmp_path, {f"module.{k}": v for k, v in state.items()}, "parallel.net")
    for source in (solver, parallel):
        assert np.allclose(
            load_official_checkpoint(source, features).score_tuples(rows, binary=False), expected
        )
    # param.single: one encoder per modality, shared by every category
    single_state = official_state(5, encoders=1)
    single = load_official_checkpoint(single_state, features)
    users, outfits = torch.as_tensor(rows[:, 0]), torch.as_tensor(rows[:, 1:])
    _, official = official_outputs(
        single_state, features, ("top", "bottom", "shoe"), users, outfits, 5, encoders=1
    )
    with torch.no_grad():
        scores = single(users, outfits).scores
    assert torch.allclose(scores, 0.5 * (official["visual"]["score"] + official["text"]["score"]), atol=1e-5)


def test_a_visual_only_checkpoint():
    state, features = official_state(5, modalities=("visual",)), item_features(modalities=("visual",))
    model = load_official_checkpoint(state, features)
    assert model.modalities == ("visual",)
    users, outfits = torch.arange(5), random_outfits(("top", "bottom", "shoe"), 5)
    _, official = official_outputs(state, features, ("top", "bottom", "shoe"), users, outfits, 5)
    with torch.no_grad():
        assert torch.allclose(model(users, outfits).scores, official["visual"]["score"], atol=1e-5)


def test_the_loaded_model_has_the_official_architecture():
    model = load_official_checkpoint(official_state(32), item_features())
    config = model.config
    assert (config.num_users, config.dim, config.feature_dims) == (32, DIM, WIDTHS)
    assert config.hidden_dims == HIDDEN and config.input_dropout == {"visual": 0.5}
    visual, text = model.hasher("visual", "top"), model.hasher("text", "shoe")
    assert visual.input_dropout is not None and visual.input_dropout.p == 0.5
    assert text.input_dropout is None and text.net[0].out_features == HIDDEN["text"]
    assert model.beta == pytest.approx(1.7)  # user_embedding.scale


# ---- bad checkpoints ------------------------------------------------------------------------------


def test_a_missing_key_is_named(tmp_path):
    state = official_state(5)
    del state["core.1.weight"]
    with pytest.raises(
        DataFormatError,
        match=r"fhn_best.net: missing key 'core.1.weight' \(expected a tensor of shape \(1, 16\)\)",
    ):
        load_official_checkpoint(save(tmp_path, state), item_features())
    state = official_state(5)
    del state["encoder_t.2.encoder.0.bias"]
    with pytest.raises(
        DataFormatError,
        match=r"missing key 'encoder_t.2.encoder.0.bias' \(expected a tensor of shape \(7\)\)",
    ):
        load_official_checkpoint(state, item_features())


def test_a_wrong_shape_is_named_with_the_shape_found_and_expected(tmp_path):
    state = official_state(5)
    state["encoder_v.1.encoder.4.weight"] = torch.zeros(DIM, 5)
    with pytest.raises(
        DataFormatError, match=r"key 'encoder_v.1.encoder.4.weight' has shape \(16, 5\), expected \(16, 6\)"
    ):
        load_official_checkpoint(save(tmp_path, state), item_features())
    state = official_state(5)
    state["core.0.weight"] = torch.ones(DIM)  # minirec's own (D,) layout is not the official (1, D)
    with pytest.raises(DataFormatError, match=r"key 'core.0.weight' has shape \(16,\), expected \(1, 16\)"):
        load_official_checkpoint(state, item_features())


def test_what_is_not_a_state_dict_is_refused(tmp_path):
    with pytest.raises(
        DataFormatError, match=r"expected an official Fashion Hash Net checkpoint .*got a list"
    ):
        load_official_checkpoint(save(tmp_path, [torch.zeros(2)]), item_features())
    with pytest.raises(DataFormatError, match=r"entry 'dim' is a int, not a tensor"):
        load_official_checkpoint({"dim": 128}, item_features())
    with pytest.raises(DataFormatError, match="got an empty mapping"):
        load_official_checkpoint({}, item_features())
    (tmp_path / "cut.net").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(
        DataFormatError, match="cut.net: cannot be read as an official Fashion Hash Net checkpoint"
    ):
        load_official_checkpoint(tmp_path / "cut.net", item_features())
    with pytest.raises(DataFormatError, match=r"unexpected key 'lambda_ui'"):
        load_official_checkpoint(official_state(5) | {"lambda_ui": torch.ones(DIM)}, item_features())


def test_unsupported_official_variants_are_refused():
    shared = official_state(5)
    shared["user_embedding.encoder.0.weight"] = shared.pop("user_embedding.encoder.weight")
    with pytest.raises(DataFormatError, match="share_user: true"):
        load_official_checkpoint(shared, item_features())
    one_weight = official_state(5)
    one_weight["core.weight"] = one_weight.pop("core.0.weight")
    with pytest.raises(DataFormatError, match="hash_types: 3"):
        load_official_checkpoint(one_weight, item_features())
    two_encoders = {k: v for k, v in official_state(5).items() if not k.startswith("encoder_t.2.")}
    with pytest.raises(DataFormatError, match=r"encoder_t has encoders \[0, 1\]"):
        load_official_checkpoint(two_encoders, item_features())


def test_features_that_do_not_fit_the_checkpoint_are_refused():
    with pytest.raises(ValueError, match=r"features lacks the modalities \['text'\]"):
        load_official_checkpoint(official_state(5), item_features(modalities=("visual",)))
    features = item_features()
    features["text"]["shoe"] = features["text"]["shoe"][:, :4]
    with pytest.raises(
        ValueError, match=r"features\['text'\]\['shoe'\] has shape \(9, 4\); .* expect \(items, 10\)"
    ):
        load_official_checkpoint(official_state(5), features)
    with pytest.raises(ValueError, match="the official model knows top, bottom and shoe"):
        load_official_checkpoint(official_state(5), item_features(), slots=("top", "bag", "shoe"))


# ---- sign(0) --------------------------------------------------------------------------------------


def test_an_exact_zero_pre_activation_is_reported():
    state = official_state(5)
    state["user_embedding.encoder.weight"][3, 2] = 0.0  # bit 3 of user 2 is sign(0)
    with pytest.warns(UserWarning, match=r"pre-activations exactly 0 in \{'users': 1"):
        model = load_official_checkpoint(state, item_features())
    assert exact_zero_codes(model)["users"] == 1
    official = official_user(state, torch.tensor([2]), 5).sign()
    ours = model.users(torch.tensor([2]), binary=True)
    assert official[0, 3] == 0 and ours[0, 3] == 1  # the one documented difference
    assert torch.equal(torch.cat([official[0, :3], official[0, 4:]]), torch.cat([ours[0, :3], ours[0, 4:]]))


# ---- FHNConfig: the new options keep the defaults -------------------------------------------------


def test_default_config_keeps_half_width_and_no_input_dropout():
    config = FHNConfig(num_users=3, feature_dims={"visual": 6, "text": 10})
    assert (config.hidden_dim("visual"), config.hidden_dim("text")) == (3, 5)
    assert config.input_dropout_rate("visual") == 0.0
    module = HashingModule(6, 4)
    assert module.input_dropout is None and module.net[0].out_features == 3
    assert set(module.state_dict()) == {"net.0.weight", "net.0.bias", "net.3.weight", "code.beta"}


def test_official_preset():
    config = FHNConfig.official(630)
    assert config.feature_dims == {"visual": 4096, "text": 2400} and config.dim == 128
    assert config.hidden_dims == {"visual": 2048, "text": 1024} and config.input_dropout == {"visual": 0.5}
    assert (config.slots, config.terms, config.score_scale, config.dropout) == (
        ("top", "bottom", "shoe"),
        "both",
        10.0,
        0.5,
    )
    assert FHNConfig.official(519).slots == ("top", "top", "bottom", "shoe")
    resnet = FHNConfig.official(630, {"visual": 2048})
    assert resnet.hidden_dims == {"visual": 1024} and "text" not in resnet.feature_dims
    with pytest.raises(ValueError, match="the official model has the modalities"):
        FHNConfig.official(630, {"audio": 8})


def test_new_options_are_validated():
    with pytest.raises(ValueError, match=r"hidden_dims names modalities \['text'\]"):
        FHNConfig(num_users=3, feature_dims={"visual": 6}, hidden_dims={"text": 4})
    with pytest.raises(ValueError, match=r"hidden_dims\['visual'\] must be >= 1, got 0"):
        FHNConfig(num_users=3, feature_dims={"visual": 6}, hidden_dims={"visual": 0})
    with pytest.raises(ValueError, match=r"input_dropout\['visual'\] must be in \[0, 1\), got 1.0"):
        FHNConfig(num_users=3, feature_dims={"visual": 6}, input_dropout={"visual": 1.0})


def test_input_dropout_acts_in_training_only():
    torch.manual_seed(0)
    module = HashingModule(6, 4, hidden=5, input_dropout=0.5)
    x = torch.randn(64, 6)
    module.eval()
    assert torch.equal(module.pre_activation(x), module.net(x))
    module.train()
    dropped = module.input_dropout(x)  # type: ignore[misc]
    assert 0 < (dropped == 0).float().mean() < 1


def test_checkpoints_round_trip_the_new_options_and_old_ones_still_load(tmp_path):
    model = load_official_checkpoint(official_state(32), item_features())
    save_checkpoint(model, tmp_path / "ours.pt")
    restored = load_checkpoint(tmp_path / "ours.pt")
    assert restored.config == model.config
    rows = np.c_[np.arange(7), random_outfits(model.config.slots).numpy()]
    assert np.array_equal(restored.score_tuples(rows), model.score_tuples(rows))
    # a checkpoint written before hidden_dims and input_dropout existed
    old = FashionHashNet(
        FHNConfig(num_users=5, feature_dims={"visual": 12}), item_features(modalities=("visual",))
    )
    config = {k: v for k, v in vars(old.config).items() if k not in ("hidden_dims", "input_dropout")}
    torch.save({"config": config, "state": old.state_dict()}, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt").config == old.config
