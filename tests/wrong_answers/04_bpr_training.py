"""Wrong answers a struggling student might hand in for notebook 04; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "a tie counts as a loss": """
def pairwise_auc(pos, neg) -> float:
    wins = sum(1.0 for p in pos for n in neg if p > n)
    return wins / (len(pos) * len(neg))
""",
        "a tie counts as a win": """
def pairwise_auc(pos, neg) -> float:
    wins = sum(1.0 for p in pos for n in neg if p >= n)
    return wins / (len(pos) * len(neg))
""",
        "divides by the positives only": """
def pairwise_auc(pos, neg) -> float:
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / len(pos)
""",
        "positive against its own negative only": """
def pairwise_auc(pos, neg) -> float:
    wins = [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in zip(pos, neg)]
    return sum(wins) / len(wins)
""",
    },
    "exercise_2_tests": {
        "discount 1/rank instead of 1/log2(rank + 1)": """
def my_ndcg_at_k(scores, labels, k) -> float:
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    gains = np.asarray(labels, dtype=float)
    discounts = 1 / np.arange(1, k + 1)
    dcg = (gains[order] * discounts[:len(order)]).sum()
    ideal = (np.sort(gains)[::-1][:k] * discounts[:min(k, len(gains))]).sum()
    return float(dcg / ideal)
""",
        "precision@k instead of NDCG": """
def my_ndcg_at_k(scores, labels, k) -> float:
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    return float(np.asarray(labels, dtype=float)[order].mean())
""",
        "log2(rank) without the +1": """
def my_ndcg_at_k(scores, labels, k) -> float:
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    gains = np.asarray(labels, dtype=float)
    discounts = 1 / np.log2(np.arange(1, k + 1))
    dcg = (gains[order] * discounts[:len(order)]).sum()
    ideal = (np.sort(gains)[::-1][:k] * discounts[:min(k, len(gains))]).sum()
    return float(dcg / ideal)
""",
        "no ideal-DCG normalisation": """
def my_ndcg_at_k(scores, labels, k) -> float:
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    gains = np.asarray(labels, dtype=float)
    discounts = 1 / np.log2(np.arange(2, k + 2))
    return float((gains[order] * discounts[:len(order)]).sum())
""",
        "ascending sort": """
def my_ndcg_at_k(scores, labels, k) -> float:
    order = np.argsort(np.asarray(scores), kind="stable")[:k]
    gains = np.asarray(labels, dtype=float)
    discounts = 1 / np.log2(np.arange(2, k + 2))
    dcg = (gains[order] * discounts[:len(order)]).sum()
    ideal = (np.sort(gains)[::-1][:k] * discounts[:min(k, len(gains))]).sum()
    return float(dcg / ideal)
""",
        "ideal DCG over every positive, not the top k": """
def my_ndcg_at_k(scores, labels, k) -> float:
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    gains = np.asarray(labels, dtype=float)
    dcg = (gains[order] / np.log2(np.arange(2, len(order) + 2))).sum()
    ideal_gains = np.sort(gains)[::-1]
    ideal = (ideal_gains / np.log2(np.arange(2, len(ideal_gains) + 2))).sum()
    return float(dcg / ideal)
""",
    },
    "exercise_3_tests": {
        "a constant that passes loose bounds": """
def strict_fitb(model) -> tuple[float, float]:
    return 0.0, 1.0
""",
        "ties counted as hits (argmax picks the first)": """
def strict_fitb(model) -> tuple[float, float]:
    outfits = fashion.fitb.reshape(-1, fashion.fitb.shape[-1])
    scores = model.score_tuples(outfits, binary=True).reshape(len(fashion.fitb), -1)
    best = scores == scores.max(axis=1, keepdims=True)
    strict = float(np.mean(scores.argmax(axis=1) == 0))
    tied = float(np.mean(best.sum(axis=1) > 1))
    return strict, tied
""",
        "tied share counted as >= 1": """
def strict_fitb(model) -> tuple[float, float]:
    outfits = fashion.fitb.reshape(-1, fashion.fitb.shape[-1])
    scores = model.score_tuples(outfits, binary=True).reshape(len(fashion.fitb), -1)
    best = scores == scores.max(axis=1, keepdims=True)
    strict = float(np.mean(best[:, 0] & (best.sum(axis=1) == 1)))
    tied = float(np.mean(best.sum(axis=1) >= 1))
    return strict, tied
""",
        "real-valued scores instead of binary": """
def strict_fitb(model) -> tuple[float, float]:
    outfits = fashion.fitb.reshape(-1, fashion.fitb.shape[-1])
    scores = model.score_tuples(outfits, binary=False).reshape(len(fashion.fitb), -1)
    best = scores == scores.max(axis=1, keepdims=True)
    strict = float(np.mean(best[:, 0] & (best.sum(axis=1) == 1)))
    tied = float(np.mean(best.sum(axis=1) > 1))
    return strict, tied
""",
        "tied share only where the true outfit is tied": """
def strict_fitb(model) -> tuple[float, float]:
    outfits = fashion.fitb.reshape(-1, fashion.fitb.shape[-1])
    scores = model.score_tuples(outfits, binary=True).reshape(len(fashion.fitb), -1)
    best = scores == scores.max(axis=1, keepdims=True)
    strict = float(np.mean(best[:, 0] & (best.sum(axis=1) == 1)))
    tied = float(np.mean(best[:, 0] & (best.sum(axis=1) > 1)))
    return strict, tied
""",
    },
}
