"""The fashion world's hidden truth: hand-checked points, its structure, and the lessons it plants."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minirec.data import fashion_world as fw
from minirec.data.samples import fashion_oracle, load_fashion
from minirec.data.synth_fashion import FashionConfig, sample_tastes
from minirec.evaluation.baselines import item_counts, outfit_popularity_scores
from minirec.evaluation.metrics import mean_user_auc


def item(category: str, style: str, colour: str, pattern: str) -> fw.Item:
    return fw.Item(
        fw.CATEGORIES.index(category),
        fw.STYLES.index(style),
        fw.COLOURS.index(colour),
        fw.PATTERNS.index(pattern),
    )


def test_fashion_oracle_scores_a_hand_made_outfit():
    top = item("top", "formal", "navy", "striped")
    bottom = item("bottom", "formal", "red", "solid")
    shoe = item("shoe", "boho", "pink", "dotted")
    # pairs = style + colour + pattern + palette of a on b's colour + palette of b on a's colour
    # top-bottom:  formal/formal +4, navy/red (neutral, bright) +2, striped/solid 0, formal on red -2,
    #              formal on navy +2                                                          ->  6
    # top-shoe:    formal/boho -2, navy/pink +2, striped/dotted -3, formal on pink -2, boho on navy 0 -> -5
    # bottom-shoe: formal/boho -2, red/pink (one family) +2, solid/dotted 0, formal on pink -2,
    #              boho on red 0                                                              -> -2
    assert fw.pair_compatibility(top, bottom) == 6
    assert fw.pair_compatibility(top, shoe) == -5
    assert fw.pair_compatibility(bottom, shoe) == -2
    # styles casual, formal, sporty, boho; colours black, white, grey, navy, red, yellow, green, pink
    taste = fw.UserTaste(style_points=(-1, 3, -3, 1), colour_points=(0, 0, 1, 2, -2, 3, -1, -3))
    # preference: top 3 + 2, bottom 3 - 2, shoe 1 - 3 -> 4
    oracle = fw.FashionOracle({"top": [top], "bottom": [bottom], "shoe": [shoe]}, [taste])
    outfit = np.array([[0, 0, 0, 0]])
    assert oracle.preference_points(outfit).tolist() == [4]
    assert oracle.compatibility_points(outfit).tolist() == [-1]
    assert oracle.score(outfit).tolist() == [3]


def test_colour_and_pattern_rules_by_hand():
    assert fw.colour_pair_points("black", "white") == fw.BLACK_WITH_WHITE_POINTS == 2
    assert fw.colour_pair_points("navy", "black") == fw.BLACK_WITH_NAVY_POINTS == -2
    assert fw.colour_pair_points("grey", "navy") == 0
    assert fw.colour_pair_points("yellow", "grey") == fw.NEUTRAL_WITH_BRIGHT_POINTS
    assert fw.colour_pair_points("green", "yellow") == fw.colour_pair_points("red", "red") == 2
    assert fw.colour_pair_points("pink", "green") == fw.CLASHING_BRIGHTS_POINTS == -3
    assert fw.pattern_pair_points("solid", "checked") == 0
    assert fw.pattern_pair_points("dotted", "dotted") == -2
    assert fw.pattern_pair_points("dotted", "striped") == -3


def all_kinds(category: int) -> list[fw.Item]:
    sizes = (len(fw.STYLES), len(fw.COLOURS), len(fw.PATTERNS))
    return [fw.Item(category, s, c, p) for s, c, p in itertools.product(*map(range, sizes))]


def test_compatibility_is_symmetric_and_the_sum_of_its_four_tables():
    assert len(all_kinds(0)) == fw.item_kinds() == 128
    for a, b in itertools.product(all_kinds(0), all_kinds(1)):
        points = fw.pair_compatibility(a, b)
        assert points == fw.pair_compatibility(b, a)
        expected = (
            fw.STYLE_PAIR_POINTS[a.style][b.style]
            + fw.colour_pair_points(fw.COLOURS[a.colour], fw.COLOURS[b.colour])
            + fw.pattern_pair_points(fw.PATTERNS[a.pattern], fw.PATTERNS[b.pattern])
            + fw.PALETTE_POINTS[a.style][b.colour]
            + fw.PALETTE_POINTS[b.style][a.colour]
        )
        assert points == expected
    style = np.array(fw.STYLE_PAIR_POINTS)
    assert (style == style.T).all() and (np.diag(style) == style.max()).all()  # the same style is best


def test_tastes_are_orders_of_the_grades_and_their_number_is_counted_right():
    tastes = sample_tastes(FashionConfig(users=300), np.random.default_rng(0))
    for taste in tastes:
        assert sorted(taste.style_points) == sorted(fw.STYLE_GRADES)
        assert sorted(taste.colour_points) == sorted(fw.COLOUR_GRADES)
    favourites = {int(np.argmax(t.style_points)) for t in tastes}
    assert favourites == set(range(len(fw.STYLES)))  # the order is drawn, not fixed
    # 4! style orders; 8! colour orders, halved because the two colours at 0 can swap
    assert fw.distinct_tastes() == 24 * 40320 // 2 == 483840
    distinct = {tuple(t.style_points) + tuple(t.colour_points) for t in tastes}
    assert len(distinct) > 290  # 300 draws from ~480k tastes rarely collide


def test_oracle_score_decomposes_into_its_two_terms_on_the_sample():
    data = load_fashion()
    oracle = fashion_oracle(data)
    rows = np.concatenate([data.tuples["test"][kind] for kind in ("posi", "nega", "nega_hard")])[::7]
    for user, top, bottom, shoe in rows[:200]:
        items = [oracle.items[c][i] for c, i in zip(fw.CATEGORIES, (top, bottom, shoe), strict=True)]
        taste = oracle.tastes[user]
        preference = sum(fw.preference(taste, x) for x in items)
        compatibility = sum(fw.pair_compatibility(a, b) for a, b in itertools.combinations(items, 2))
        row = np.array([[user, top, bottom, shoe]])
        assert oracle.preference_points(row)[0] == preference
        assert oracle.compatibility_points(row)[0] == compatibility
        assert oracle.score(row)[0] == preference + compatibility
    assert np.array_equal(oracle.pair_table("shoe", "top"), oracle.pair_table("top", "shoe").T)


def test_truth_ranks_count_independent_numbers_per_item():
    plain = item("top", "casual", "grey", "solid")
    twins = {
        c: [fw.Item(n, plain.style, plain.colour, plain.pattern)] * 3 for n, c in enumerate(fw.CATEGORIES)
    }
    tastes = [fw.UserTaste((3, 1, -1, -3), fw.COLOUR_GRADES)] * 2
    # identical items: no user can rank them (rank 0), and a constant table has rank 1
    assert fw.truth_ranks(fw.FashionOracle(twins, tastes), "top") == {
        "preference": 0,
        "compatibility": 1,
        "joint": 1,
    }
    ranks = fw.truth_ranks(fashion_oracle(load_fashion()), "bottom")
    # an item's points depend on its one-hot style (4), colour (8) and pattern (4): at most 16 numbers
    assert 10 <= ranks["preference"] <= ranks["joint"] <= 16
    assert ranks["compatibility"] <= ranks["joint"]


@pytest.fixture(scope="module")
def oracle_aucs() -> dict[str, dict[str, float]]:
    """Per-user test AUC of popularity and of the oracle's terms against each negative kind."""
    data = load_fashion()
    oracle = fashion_oracle(data)
    counts = item_counts(data.tuples["train"]["posi"], data.num_items)
    scorers = {
        "popularity": lambda t: outfit_popularity_scores(counts, t),
        "preference": oracle.preference_points,
        "compatibility": oracle.compatibility_points,
        "both": oracle.score,
    }
    test = data.tuples["test"]
    pos = test["posi"]
    return {
        kind: {
            name: mean_user_auc(pos[:, 0], score(pos), test[kind][:, 0], score(test[kind]))
            for name, score in scorers.items()
        }
        for kind in ("nega", "nega_hard")
    }


def test_fashion_planted_effects_are_clearly_measurable(oracle_aucs):
    for kind, margin in (("nega", 0.25), ("nega_hard", 0.2)):
        assert oracle_aucs[kind]["both"] > oracle_aucs[kind]["popularity"] + margin, (kind, oracle_aucs[kind])


def test_each_term_wins_on_the_negatives_it_is_meant_for(oracle_aucs):
    random, hard = oracle_aucs["nega"], oracle_aucs["nega_hard"]
    # random mixtures mostly clash: compatibility separates them better than taste does ...
    assert random["compatibility"] > random["preference"] + 0.05, random
    # ... but the truth needs both terms ...
    assert random["both"] > random["compatibility"] + 0.02, random
    # ... while another user's liked outfit is just as compatible: only taste tells it apart,
    # and compatibility is noise there (even the full score ranks below its preference half)
    assert abs(hard["compatibility"] - 0.5) < 0.05 and hard["preference"] > 0.75, hard
    assert hard["preference"] > hard["both"], hard
