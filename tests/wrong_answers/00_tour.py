"""Wrong answers a struggling student might hand in for notebook 00; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "two of three items share a style": """
def same_style_fraction(tuples: np.ndarray) -> float:
    styles = np.array([[fashion.items[c][row[1 + n]]["attributes"]["style"]
                         for n, c in enumerate(fw.CATEGORIES)] for row in tuples])
    pairs = (styles[:, 0] == styles[:, 1]) | (styles[:, 0] == styles[:, 2]) | (styles[:, 1] == styles[:, 2])
    return float(np.mean(pairs))
""",
        "compares only top and bottom": """
def same_style_fraction(tuples: np.ndarray) -> float:
    styles = np.array([[fashion.items[c][row[1 + n]]["attributes"]["style"]
                         for n, c in enumerate(fw.CATEGORIES)] for row in tuples])
    return float(np.mean(styles[:, 0] == styles[:, 1]))
""",
        "off by one: reads the user id as the top": """
def same_style_fraction(tuples: np.ndarray) -> float:
    styles = np.array([[fashion.items[c][row[n]]["attributes"]["style"]
                         for n, c in enumerate(fw.CATEGORIES)] for row in tuples])
    return float(np.mean((styles == styles[:, :1]).all(axis=1)))
""",
        "share of items matching the top, not of outfits": """
def same_style_fraction(tuples: np.ndarray) -> float:
    styles = np.array([[fashion.items[c][row[1 + n]]["attributes"]["style"]
                         for n, c in enumerate(fw.CATEGORIES)] for row in tuples])
    return float(np.mean(styles == styles[:, :1]))
""",
        "the same colour instead of the same style": """
def same_style_fraction(tuples: np.ndarray) -> float:
    colours = np.array([[fashion.items[c][row[1 + n]]["attributes"]["colour"]
                          for n, c in enumerate(fw.CATEGORIES)] for row in tuples])
    return float(np.mean((colours == colours[:, :1]).all(axis=1)))
""",
    },
    "exercise_2_tests": {
        "most-popular scores only": """
def transition_heuristic_hr(k: int = K) -> float:
    counts = np.r_[0, train_counts]
    ranks = [rank_of_target(1.0 + counts, split.test[u], excluded[u]) for u in users]
    return hit_rate_at_k(np.array(ranks), k)
""",
        "indexes observed by the target instead of the last item": """
def transition_heuristic_hr(k: int = K) -> float:
    counts = np.r_[0, train_counts]
    ranks = [rank_of_target(observed[leaf_of[split.test[u]], leaf_of] * (1 + counts),
                            split.test[u], excluded[u]) for u in users]
    return hit_rate_at_k(np.array(ranks), k)
""",
        "forgets excluded (history not masked)": """
def transition_heuristic_hr(k: int = K) -> float:
    counts = np.r_[0, train_counts]
    ranks = [rank_of_target(observed[leaf_of[split.history(u, "test")[-1]], leaf_of] * (1 + counts),
                            split.test[u], np.array([0])) for u in users]
    return hit_rate_at_k(np.array(ranks), k)
""",
        "the first item of the history instead of the last": """
def transition_heuristic_hr(k: int = K) -> float:
    counts = np.r_[0, train_counts]
    ranks = [rank_of_target(observed[leaf_of[split.history(u, "test")[0]], leaf_of] * (1 + counts),
                            split.test[u], excluded[u]) for u in users]
    return hit_rate_at_k(np.array(ranks), k)
""",
        "ignores k": """
def transition_heuristic_hr(k: int = K) -> float:
    counts = np.r_[0, train_counts]
    ranks = [rank_of_target(observed[leaf_of[split.history(u, "test")[-1]], leaf_of] * (1 + counts),
                            split.test[u], excluded[u]) for u in users]
    return hit_rate_at_k(np.array(ranks), K)
""",
    },
    "exercise_3_tests": {
        "the most worn colour (share, not lift)": """
def favourite_colours() -> np.ndarray:
    colour = {c: np.array([fw.COLOURS.index(r["attributes"]["colour"]) for r in fashion.items[c]])
              for c in fw.CATEGORIES}
    result = []
    for user in range(fashion.num_users):
        rows = train["posi"][train["posi"][:, 0] == user]
        worn = np.concatenate([colour[c][rows[:, 1 + n]] for n, c in enumerate(fw.CATEGORIES)])
        result.append(int(np.argmax(np.bincount(worn, minlength=len(fw.COLOURS)))))
    return np.array(result)
""",
        "argmin instead of argmax": """
def favourite_colours() -> np.ndarray:
    colour = {c: np.array([fw.COLOURS.index(r["attributes"]["colour"]) for r in fashion.items[c]])
              for c in fw.CATEGORIES}
    overall = np.bincount(np.concatenate(list(colour.values())), minlength=len(fw.COLOURS))
    overall = overall / overall.sum()
    result = []
    for user in range(fashion.num_users):
        rows = train["posi"][train["posi"][:, 0] == user]
        worn = np.concatenate([colour[c][rows[:, 1 + n]] for n, c in enumerate(fw.CATEGORIES)])
        share = np.bincount(worn, minlength=len(fw.COLOURS)) / len(worn)
        result.append(int(np.argmin(share / overall)))
    return np.array(result)
""",
        "forgets to select the user's rows": """
def favourite_colours() -> np.ndarray:
    colour = {c: np.array([fw.COLOURS.index(r["attributes"]["colour"]) for r in fashion.items[c]])
              for c in fw.CATEGORIES}
    overall = np.bincount(np.concatenate(list(colour.values())), minlength=len(fw.COLOURS))
    overall = overall / overall.sum()
    rows = train["posi"]
    worn = np.concatenate([colour[c][rows[:, 1 + n]] for n, c in enumerate(fw.CATEGORIES)])
    share = np.bincount(worn, minlength=len(fw.COLOURS)) / len(worn)
    return np.full(fashion.num_users, int(np.argmax(share / overall)))
""",
        "only the tops": """
def favourite_colours() -> np.ndarray:
    colour = np.array([fw.COLOURS.index(r["attributes"]["colour"]) for r in fashion.items["top"]])
    overall = np.bincount(colour, minlength=len(fw.COLOURS)) / len(colour)
    result = []
    for user in range(fashion.num_users):
        rows = train["posi"][train["posi"][:, 0] == user]
        share = np.bincount(colour[rows[:, 1]], minlength=len(fw.COLOURS)) / len(rows)
        result.append(int(np.argmax(share / overall)))
    return np.array(result)
""",
        "colour names instead of indices": """
def favourite_colours() -> np.ndarray:
    colour = {c: np.array([fw.COLOURS.index(r["attributes"]["colour"]) for r in fashion.items[c]])
              for c in fw.CATEGORIES}
    overall = np.bincount(np.concatenate(list(colour.values())), minlength=len(fw.COLOURS))
    overall = overall / overall.sum()
    result = []
    for user in range(fashion.num_users):
        rows = train["posi"][train["posi"][:, 0] == user]
        worn = np.concatenate([colour[c][rows[:, 1 + n]] for n, c in enumerate(fw.CATEGORIES)])
        share = np.bincount(worn, minlength=len(fw.COLOURS)) / len(worn)
        result.append(fw.COLOURS[int(np.argmax(share / overall))])
    return np.array(result)
""",
    },
}
