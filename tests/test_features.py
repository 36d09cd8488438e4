"""Feature extraction through the real torchvision / transformers loading paths, offline.

The offline encoders' self-supervised pretraining is tested in ``test_encoders.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from minirec.data.errors import DataFormatError
from minirec.features.cache import FeatureCache
from minirec.features.categories import multi_hot, vocabulary_ids
from minirec.features.image import extract_features, imagenet_preprocess, torchvision_backbone
from minirec.features.text import build_word_tokenizer, encode_texts, load_text_encoder, tiny_bert


def test_torchvision_backbone_loads_a_saved_state_dict(tmp_path):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    backbone, dim = torchvision_backbone("resnet18", tmp_path / "resnet18.pth")
    assert dim == 512
    assert torch.equal(backbone.conv1.weight, reference.conv1.weight)  # the file's weights, not a new init
    images = imagenet_preprocess(torch.rand(2, 3, 32, 32), size=64)
    assert extract_features(backbone, images).shape == (2, 512)


def test_torchvision_backbone_errors(tmp_path):
    with pytest.raises(ValueError, match="backbone should be one of"):
        torchvision_backbone("inception")
    with pytest.raises(FileNotFoundError, match="no such weights file"):
        torchvision_backbone("resnet18", tmp_path / "missing.pth")
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), tmp_path / "alexnet.pth")
    with pytest.raises(DataFormatError, match=r"alexnet.pth: does not fit torchvision's resnet18"):
        torchvision_backbone("resnet18", tmp_path / "alexnet.pth")  # strict loading: wrong architecture fails
    (tmp_path / "garbage.pth").write_bytes(b"not a torch file")
    with pytest.raises(DataFormatError, match=r"garbage.pth: cannot be read as a torch.save'd state_dict"):
        torchvision_backbone("resnet18", tmp_path / "garbage.pth")


def test_vgg16_is_cut_at_fc7():
    backbone, dim = torchvision_backbone("vgg16")
    assert dim == 4096 and isinstance(backbone.classifier[-1], torch.nn.Dropout)


def test_text_encoder_round_trips_through_save_pretrained(tmp_path):
    texts = ["red striped shirt", "navy plain jeans", "red dotted heels", "grey plain tee"]
    tokenizer = build_word_tokenizer(texts)
    model = tiny_bert(len(tokenizer), hidden=16, layers=1, heads=2)
    tokenizer.save_pretrained(tmp_path / "enc")
    model.save_pretrained(tmp_path / "enc")
    loaded_tokenizer, loaded = load_text_encoder(tmp_path / "enc")
    assert loaded_tokenizer("red shirt")["input_ids"] == tokenizer("red shirt")["input_ids"]
    embeddings = encode_texts(loaded_tokenizer, loaded, texts)
    assert embeddings.shape == (4, 16)
    assert torch.allclose(embeddings, encode_texts(tokenizer, model.eval(), texts), atol=1e-6)


def test_load_text_encoder_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="no local tokenizer/model found"):
        load_text_encoder("no-such-org/no-such-model")


def test_multi_hot_and_vocabulary():
    ids, vocabulary = vocabulary_ids([{"c": "top", "s": "boho"}, {"c": "shoe", "s": "boho"}], ["c", "s"])
    assert vocabulary == ["c=shoe", "c=top", "s=boho"] and ids == [[1, 2], [0, 2]]
    assert multi_hot(ids, 3).tolist() == [[0, 1, 1], [1, 0, 1]]
    with pytest.raises(ValueError, match="outside 0..2"):
        multi_hot([[3]], 3)


def test_feature_cache_computes_once_and_writes_atomically(tmp_path):
    cache = FeatureCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return {"rows": np.arange(6.0).reshape(2, 3)}

    first = cache.load_or_compute("x", {"data": "abc"}, compute)
    second = cache.load_or_compute("x", {"data": "abc"}, compute)
    assert len(calls) == 1 and np.array_equal(first["rows"], second["rows"])
    cache.load_or_compute("x", {"data": "other"}, compute)
    assert len(calls) == 2
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".npz", ".npz"]  # no temp files left


@pytest.mark.parametrize("damage", ["empty", "truncated", "not an npz"])
def test_a_damaged_cache_entry_is_named_and_computed_again(tmp_path, capsys, damage):
    cache = FeatureCache(tmp_path)
    compute = lambda: {"rows": np.arange(600.0).reshape(20, 30)}  # noqa: E731
    cache.load_or_compute("x", {"data": "abc"}, compute)
    entry = cache.path("x", {"data": "abc"})
    whole = entry.read_bytes()
    entry.write_bytes({"empty": b"", "truncated": whole[: len(whole) // 2], "not an npz": b"hello"}[damage])
    again = cache.load_or_compute("x", {"data": "abc"}, compute)
    assert np.array_equal(again["rows"], compute()["rows"])
    assert f"feature cache: {entry} is damaged; computing it again" in capsys.readouterr().err
    assert entry.read_bytes() == whole  # repaired: the next run reads it without a notice


def test_a_cache_root_that_is_a_file_fails_before_any_work(tmp_path):
    (tmp_path / "cache").write_text("not a folder")
    with pytest.raises(DataFormatError, match="cache: the feature cache folder is a file"):
        FeatureCache(tmp_path / "cache")
