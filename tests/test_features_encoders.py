"""The offline encoders pretrain without labels: contrastive pictures, masked-language texts.

Hidden attributes appear here only as probe targets, as in notebook 01.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import replace
from functools import partial

import numpy as np
import pytest
import torch

from minirec.data.amazon import ItemMeta
from minirec.data.samples import ShoppingSample
from minirec.features import pipeline
from minirec.features.cache import FeatureCache
from minirec.features.image import (
    IMAGE_PRETRAIN,
    SmallCNN,
    augment,
    extract_features,
    nt_xent,
    train_contrastive_cnn,
)
from minirec.features.probe import probe_accuracy
from minirec.features.selfsupervised import PretrainConfig
from minirec.features.text import (
    TEXT_PRETRAIN,
    build_word_tokenizer,
    encode_texts,
    load_text_encoder,
    mask_tokens,
    train_text_encoder,
)

COLOURS = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.7, 0.2], [0.1, 0.2, 0.9], [0.9, 0.8, 0.1]])


def coloured_squares(n: int = 96, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey pictures with one square of random size and place; its colour is the class."""
    g = torch.Generator().manual_seed(seed)
    classes = torch.arange(n) % len(COLOURS)
    images = torch.full((n, 3, size, size), 0.8)
    for i in range(n):
        side = int(torch.randint(4, 10, (1,), generator=g))
        top, left = torch.randint(0, size - side + 1, (2,), generator=g).tolist()
        images[i, :, top : top + side, left : left + side] = COLOURS[classes[i]].view(3, 1, 1)
    return (images + 0.02 * torch.randn(images.shape, generator=g)).clamp(0, 1), classes


def test_encoders_take_no_labels():
    for train in (train_contrastive_cnn, train_text_encoder):
        parameters = set(inspect.signature(train).parameters)
        assert not parameters & {"labels", "targets", "attributes", "records"}, train.__name__


# ----------------------------------------------------------------------------- images


def test_augment_keeps_colour_and_changes_framing_only():
    config = replace(IMAGE_PRETRAIN, noise=0.0)
    g = torch.Generator().manual_seed(0)
    plain = torch.ones(8, 3, 12, 12) * torch.tensor([0.7, 0.2, 0.4]).view(1, 3, 1, 1)
    assert torch.allclose(augment(plain, g, config), plain, atol=1e-6)  # no colour jitter
    images, _ = coloured_squares(8)
    flip_only = replace(config, min_crop=1.0, aspect_jitter=0.0, max_shift=0.0)
    for view, image in zip(augment(images, g, flip_only), images, strict=True):
        assert torch.allclose(view, image, atol=1e-5) or torch.allclose(view, image.flip(-1), atol=1e-5)
    first = augment(images, torch.Generator().manual_seed(1), IMAGE_PRETRAIN)
    again = augment(images, torch.Generator().manual_seed(1), IMAGE_PRETRAIN)
    assert torch.equal(first, again) and not torch.allclose(first, images, atol=0.05)


def nt_xent_by_hand(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> float:
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1).tolist()
    b, total = len(z1), 0.0
    for i in range(2 * b):
        partner = (i + b) % (2 * b)
        sims = {k: sum(x * y for x, y in zip(z[i], z[k], strict=True)) / tau for k in range(2 * b) if k != i}
        total += -sims[partner] + math.log(sum(math.exp(s) for s in sims.values()))
    return total / (2 * b)


def test_nt_xent_matches_the_formula():
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    assert nt_xent(z1, z2, 0.5).item() == pytest.approx(nt_xent_by_hand(z1, z2, 0.5), rel=1e-5)
    assert nt_xent(z1, z2, 0.5).item() == pytest.approx(nt_xent(z2, z1, 0.5).item(), rel=1e-6)
    # Identical pairs, orthogonal to every other view: each view's partner has similarity 1/tau
    # and the 2B - 2 others 0, so the loss is log(1 + (2B - 2) exp(-1/tau)).
    basis = torch.eye(4)
    assert nt_xent(basis, basis, 0.2).item() == pytest.approx(math.log(1 + 6 * math.exp(-5)), rel=1e-5)
    assert nt_xent(basis, basis.roll(1, 0), 0.2).item() > 4.0  # partners far apart: a large loss


def view_gap(encoder: SmallCNN, images: torch.Tensor) -> float:
    """Mean cosine similarity of two views of the same picture minus that of different pictures."""
    g = torch.Generator().manual_seed(9)
    with torch.no_grad():
        a, b = (
            torch.nn.functional.normalize(encoder(augment(images, g, IMAGE_PRETRAIN)), dim=1) for _ in "ab"
        )
    similarity = a @ b.T
    same = similarity.diagonal().mean()
    return float(same - (similarity.sum() - similarity.diagonal().sum()) / (len(a) * (len(a) - 1)))


def test_contrastive_cnn_learns_without_labels():
    images, colours = coloured_squares()
    torch.manual_seed(0)
    untrained_gap = view_gap(SmallCNN(16, widths=(8, 8)), images)
    torch.manual_seed(0)
    config = replace(IMAGE_PRETRAIN, steps=36, batch_size=32, temperature=0.2)  # 12 epochs
    encoder, losses = train_contrastive_cnn(images, dim=16, config=config)
    assert losses[-1] < losses[0] - 0.5
    # What the objective asks: two views of one picture end up closer than two pictures.
    assert view_gap(encoder, images) > untrained_gap + 0.1
    features = extract_features(encoder, images)
    assert features.shape == (len(images), 16)
    trained = probe_accuracy(features, colours)
    noise = probe_accuracy(torch.randn(features.shape, generator=torch.Generator().manual_seed(0)), colours)
    assert trained.accuracy > trained.chance + 0.5  # the colour, never shown as a label, is there
    assert noise.accuracy < noise.chance + 0.15


def test_small_cnn_feature_does_not_depend_on_the_batch():
    images, _ = coloured_squares(10)
    torch.manual_seed(0)
    encoder = SmallCNN(8).train()  # group norm: train and eval mode compute the same thing
    alone = encoder(images[:1])
    assert torch.allclose(alone, encoder.eval()(images)[:1], atol=1e-6)


# ----------------------------------------------------------------------------- texts


def test_mask_tokens_follows_berts_rule():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 100, (400, 12), generator=g)
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True  # [CLS] ... [SEP]
    special[::7, 6:] = True  # padding
    special[3] = True  # an empty text
    inputs, labels = mask_tokens(ids, special, g, vocab_size=100, mask_id=4, probability=0.3)
    chosen = labels != -100
    assert not (chosen & special).any() and torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])
    has_real = ~special.all(1)
    assert chosen[has_real].any(1).all() and not chosen[3].any()
    assert 0.28 < chosen.sum() / (~special).sum() < 0.36  # 0.3, plus the one forced in rare texts
    masked = (inputs[chosen] == 4).float().mean()
    kept = (inputs[chosen] == ids[chosen]).float().mean()
    assert 0.75 < masked < 0.85 and 0.07 < kept < 0.14  # 80% [MASK], 10% kept (+ random hits)


def test_masked_lm_pretraining_saves_an_encoder_that_loads_through_automodel(tmp_path, capfd):
    texts = ["alpha beta gamma delta", "red green blue", "one two three four five"] * 8
    config = replace(TEXT_PRETRAIN, steps=75, batch_size=8, lr=3e-3)  # 25 epochs of 3 batches
    torch.manual_seed(0)
    losses = train_text_encoder(texts, tmp_path / "enc", hidden=16, config=config)
    assert len(losses) == 25 and losses[-1] < 0.5 * losses[0]  # the words predict each other
    capfd.readouterr()
    tokenizer, model = load_text_encoder(tmp_path / "enc")
    assert type(model).__name__ == "BertModel" and tokenizer.mask_token == "[MASK]"
    out, err = capfd.readouterr()
    assert "MISSING" not in out + err and "UNEXPECTED" not in out + err  # the checkpoint fits exactly
    assert tokenizer("red green")["input_ids"] == build_word_tokenizer(texts)("red green")["input_ids"]
    features = encode_texts(tokenizer, model, texts[:3]).numpy()
    assert features.shape == (3, 16) and np.isfinite(features).all()


def test_pretrain_config_counts_whole_epochs_of_at_least_its_steps():
    config = PretrainConfig(steps=75, batch_size=128)
    assert [config.epochs(n) for n in (600, 640, 641, 1998, 100)] == [15, 15, 13, 5, 75]
    with pytest.raises(ValueError, match="batch_size >= 1"):
        PretrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="at least one item"):
        config.epochs(0)


# ----------------------------------------------------------------------------- the pipeline


def test_shopping_features_need_no_hidden_truth(tmp_path, monkeypatch):
    from PIL import Image

    # The real pretraining, on a budget of a few steps (ten items would otherwise get 75 epochs).
    short_image = replace(IMAGE_PRETRAIN, steps=3)
    short_text = replace(TEXT_PRETRAIN, steps=3)
    monkeypatch.setattr(pipeline, "train_contrastive_cnn", partial(train_contrastive_cnn, config=short_image))
    monkeypatch.setattr(pipeline, "train_text_encoder", partial(train_text_encoder, config=short_text))
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    meta, names = {}, []
    for i in range(10):
        name = f"B{i:04d}"
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(
            tmp_path / f"images/{name}.png"
        )
        meta[name] = ItemMeta(name, title=f"brand{i % 3} line{i % 2} word{i}", image_url=f"images/{name}.png")
        names.append(name)
    (tmp_path / "meta.jsonl").write_text("")
    (tmp_path / "item_list.txt").write_text("\n".join(names))
    sample = ShoppingSample(
        root=tmp_path,
        sequences={1: [1, 2, 3]},
        item_attributes={1: [1]},
        attribute_names=["Beauty"],
        item_names=names,
        user_names=["u1"],
        meta=meta,
    )
    tables = pipeline.shopping_features(sample, FeatureCache(tmp_path / "cache"))
    assert not (tmp_path / "truth.json").exists()
    assert tables["image"].shape == (11, 64) and tables["text"].shape == (11, 64)
    assert tables["category"].shape == (11, 1)
    assert all((table[0] == 0).all() and table.dtype == np.float32 for table in tables.values())
