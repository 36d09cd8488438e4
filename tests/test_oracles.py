"""The shopping world's hidden truth: hand-checked scores and clearly measurable planted effects.

The fashion world's tests are in ``test_fashion_world.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from minirec.data.draw import BACKGROUND
from minirec.data.samples import load_shopping, shopping_truth
from minirec.data.shopping_world import (
    INGREDIENT_BOOST,
    INGREDIENT_NAMES,
    INGREDIENTS,
    LEAVES,
    PALETTE_BOOST,
    PALETTE_NAMES,
    PALETTES,
    CatalogueTruth,
    ShopperTaste,
    oracle_next_item_probabilities,
    transition_matrix,
)
from minirec.evaluation.baselines import most_popular_scores, shopping_oracle_ranks
from minirec.evaluation.metrics import hit_rate_at_k, rank_of_target


def test_shopping_oracle_is_a_distribution_that_skips_history():
    sample = load_shopping()
    catalogue, _ = shopping_truth(sample)
    history = np.array(sample.sequences[1][:-1])
    p = oracle_next_item_probabilities(catalogue, history[-1], ShopperTaste(0, 0), history)
    assert p.sum() == pytest.approx(1.0) and np.all(p[history] == 0) and p[0] == 0
    assert np.allclose(transition_matrix().sum(axis=1), 1.0)


def test_shopping_choice_weight_multiplies_popularity_by_each_matching_taste():
    truth = CatalogueTruth(
        leaf=np.zeros(4, np.int64),
        palette=np.array([0, 1, 0, 1]),
        ingredient=np.array([0, 0, 1, 1]),
        popularity=np.array([1.0, 1.0, 1.0, 2.0]),
    )
    weights = truth.choice_weights(ShopperTaste(palette=0, ingredient=0))
    assert weights.tolist() == [PALETTE_BOOST * INGREDIENT_BOOST, INGREDIENT_BOOST, PALETTE_BOOST, 2.0]


def test_each_hidden_property_shows_in_one_modality_only():
    """Leaf in the category path, ingredient in the title, palette in the picture; titles name no leaf."""
    sample = load_shopping()
    catalogue, _ = shopping_truth(sample)
    leaf_words = [leaf.lower() for _, leaf in LEAVES]
    palette_hits = 0
    for item in range(1, sample.num_items + 1):
        title = sample.title(item)
        assert any(word in title for word in INGREDIENTS[INGREDIENT_NAMES[catalogue.ingredient[item]]]), title
        assert not any(word in title.lower() for word in leaf_words), title
        assert sample.categories(item)[0] == LEAVES[catalogue.leaf[item]][1]
        pixels = sample.image(item).reshape(-1, 3).astype(int)
        colour = np.median(pixels[np.abs(pixels - np.array(BACKGROUND)).sum(axis=1) > 40], axis=0)
        distance = [min(np.abs(colour - np.array(c)).sum() for c in PALETTES[name]) for name in PALETTE_NAMES]
        palette_hits += int(np.argmin(distance) == catalogue.palette[item])
    assert palette_hits / sample.num_items > 0.75  # chance: 0.25 (shading and labels blur a few)


def test_shopping_oracle_beats_popularity_clearly():
    sample = load_shopping()
    split = sample.split()
    counts = most_popular_scores(split.train, sample.num_items)
    popular = [
        rank_of_target(counts, split.test[u], np.append(split.history(u, "test"), 0))
        for u in sample.sequences
    ]
    oracle_hr = hit_rate_at_k(shopping_oracle_ranks(sample), 10)
    assert oracle_hr > 2 * hit_rate_at_k(np.array(popular), 10)


def test_sample_sequences_are_derived_from_the_raw_amazon_files(tmp_path):
    from minirec.data.amazon import (
        read_metadata,
        read_reviews,
        reviews_to_sequences,
        write_sequence_files,
    )

    sample = load_shopping()
    data = reviews_to_sequences(
        read_reviews(sample.root / "reviews.jsonl"), read_metadata(sample.root / "meta.jsonl"), min_user=5
    )
    write_sequence_files(data, tmp_path)
    for name in ("sequences.txt", "sequences_item2attributes.json", "item_list.txt"):
        assert (tmp_path / name).read_bytes() == (sample.root / name).read_bytes(), name
