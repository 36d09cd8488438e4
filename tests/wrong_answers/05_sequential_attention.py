"""Wrong answers a struggling student might hand in for notebook 05; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "allows the future (j >= i)": """
def causal_allowed(sequence):
    length = len(sequence)
    return torch.tensor([[j >= i and sequence[j] != 0 for j in range(length)] for i in range(length)])
""",
        "ignores padding": """
def causal_allowed(sequence):
    length = len(sequence)
    return torch.tensor([[j <= i for j in range(length)] for i in range(length)])
""",
        "strict j < i (no attention to itself)": """
def causal_allowed(sequence):
    length = len(sequence)
    return torch.tensor([[j < i and sequence[j] != 0 for j in range(length)] for i in range(length)])
""",
        "masks padding queries instead of keys": """
def causal_allowed(sequence):
    length = len(sequence)
    return torch.tensor([[j <= i and sequence[i] != 0 for j in range(length)] for i in range(length)])
""",
    },
    "exercise_2_tests": {
        "reciprocal of the mean rank": """
def my_mrr(ranks) -> float:
    return float(1.0 / np.mean(np.asarray(ranks, dtype=float)))
""",
        "0-based ranks, 1/(r+1)": """
def my_mrr(ranks) -> float:
    return float(np.mean(1.0 / (np.asarray(ranks, dtype=float) + 1)))
""",
        "the mean rank": """
def my_mrr(ranks) -> float:
    return float(np.mean(ranks))
""",
    },
    "exercise_3_tests": {
        "1 + 100 r / N (no -1)": """
def predicted_sampled_hr(full_ranks, n, negatives=NEGATIVES, k=K) -> float:
    predicted = 1 + negatives * np.asarray(full_ranks) / n
    return float(np.mean(predicted <= k))
""",
        "predicted < k instead of <= k": """
def predicted_sampled_hr(full_ranks, n, negatives=NEGATIVES, k=K) -> float:
    predicted = 1 + negatives * (np.asarray(full_ranks) - 1) / n
    return float(np.mean(predicted < k))
""",
        "forgets the 1 +": """
def predicted_sampled_hr(full_ranks, n, negatives=NEGATIVES, k=K) -> float:
    predicted = negatives * (np.asarray(full_ranks) - 1) / n
    return float(np.mean(predicted <= k))
""",
        "hard-codes 100 negatives and K = 10": """
def predicted_sampled_hr(full_ranks, n, negatives=NEGATIVES, k=K) -> float:
    predicted = 1 + 100 * (np.asarray(full_ranks) - 1) / n
    return float(np.mean(predicted <= 10))
""",
        "the full-ranking HR@k": """
def predicted_sampled_hr(full_ranks, n, negatives=NEGATIVES, k=K) -> float:
    return float(np.mean(np.asarray(full_ranks) <= k))
""",
    },
}
