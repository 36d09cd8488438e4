"""Linear probes report held-out accuracy beside the majority-class rate, and only that."""

from __future__ import annotations

import pytest
import torch

from minirec.features.probe import class_ids, fit_probe, held_out_folds, probe_accuracy


def separable(
    n: int = 240, classes: int = 4, dim: int = 16, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features whose first ``classes`` columns are a noisy one-hot of the label."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(classes, (n,), generator=g)
    features = torch.randn(n, dim, generator=g)
    features[:, :classes] += 5 * torch.nn.functional.one_hot(labels, classes)
    return features, labels


def test_probe_reads_informative_features():
    features, labels = separable()
    result = probe_accuracy(features, labels)
    assert result.accuracy > 0.95
    assert 0.15 < result.chance < 0.4  # four roughly balanced classes


def test_probe_on_permuted_labels_is_near_chance():
    features, labels = separable()
    shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]
    result = probe_accuracy(features, shuffled)
    assert result.accuracy < result.chance + 0.12


def test_probe_scores_held_out_items_not_training_items():
    # Many dimensions for few items: a probe fits any labels on its own training items, so an
    # implementation that scored those would report a high accuracy here.
    g = torch.Generator().manual_seed(2)
    features, labels = torch.randn(120, 64, generator=g), torch.randint(3, (120,), generator=g)
    probe = fit_probe(features, labels, classes=3)
    assert (probe(features).argmax(1) == labels).float().mean() > 0.95  # memorised
    result = probe_accuracy(features, labels)
    assert result.accuracy < result.chance + 0.15


def test_chance_is_the_majority_class_rate():
    labels = torch.tensor([0] * 70 + [1] * 20 + [2] * 10)
    features = torch.randn(100, 4, generator=torch.Generator().manual_seed(3))
    assert probe_accuracy(features, labels).chance == pytest.approx(0.7)


def test_probe_is_deterministic_and_leaves_the_global_random_state_alone():
    features, labels = separable(seed=4)
    state = torch.get_rng_state()
    first = probe_accuracy(features, labels, seed=5)
    assert torch.equal(state, torch.get_rng_state())
    assert probe_accuracy(features, labels, seed=5) == first


def test_held_out_folds_partition_the_items():
    folds = held_out_folds(23, 5, seed=0)
    assert len(folds) == 5 and sorted(torch.cat(folds).tolist()) == list(range(23))
    assert [len(f) for f in folds] == [5, 5, 5, 4, 4]
    assert all(torch.equal(a, b) for a, b in zip(folds, held_out_folds(23, 5, seed=0), strict=True))
    assert not torch.equal(torch.cat(folds), torch.cat(held_out_folds(23, 5, seed=1)))
    with pytest.raises(ValueError, match="folds must be between 2 and the number of items"):
        held_out_folds(3, 4)


def test_class_ids_and_shapes_are_checked():
    ids, classes = class_ids(["navy", "red", "navy", "beige"])
    assert ids.tolist() == [1, 2, 1, 0] and classes == ["beige", "navy", "red"]
    with pytest.raises(ValueError, match=r"need features \(N, F\) and labels \(N,\)"):
        probe_accuracy(torch.zeros(4, 2), torch.zeros(3, dtype=torch.long))
