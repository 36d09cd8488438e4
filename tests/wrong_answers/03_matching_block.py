"""Wrong answers a struggling student might hand in for notebook 03; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "divides by D only": """
def preference_from_hamming(u: np.ndarray, X: np.ndarray) -> float:
    n_slots, dim = X.shape
    distances = hamming_distance(pack_codes(u[None]), pack_codes(X))
    return float((dim - 2 * distances).sum() / dim)
""",
        "uses the distances directly": """
def preference_from_hamming(u: np.ndarray, X: np.ndarray) -> float:
    n_slots, dim = X.shape
    distances = hamming_distance(pack_codes(u[None]), pack_codes(X))
    return float(distances.sum() / (n_slots * dim))
""",
        "D - d instead of D - 2d": """
def preference_from_hamming(u: np.ndarray, X: np.ndarray) -> float:
    n_slots, dim = X.shape
    distances = hamming_distance(pack_codes(u[None]), pack_codes(X))
    return float((dim - distances).sum() / (n_slots * dim))
""",
        "one minus the share of differing bits": """
def preference_from_hamming(u: np.ndarray, X: np.ndarray) -> float:
    n_slots, dim = X.shape
    distances = hamming_distance(pack_codes(u[None]), pack_codes(X))
    return float(1 - distances.sum() / (n_slots * dim))
""",
    },
    "exercise_2_tests": {
        "keeps the top-top pairs": """
def number_of_pairs(slots: tuple[str, ...]) -> int:
    n = len(slots)
    return n * (n - 1) // 2
""",
        "ordered pairs n(n-1)": """
def number_of_pairs(slots: tuple[str, ...]) -> int:
    n, tops = len(slots), slots.count("top")
    return n * (n - 1) - tops * (tops - 1)
""",
        "removes a single top-top pair": """
def number_of_pairs(slots: tuple[str, ...]) -> int:
    n, tops = len(slots), slots.count("top")
    return n * (n - 1) // 2 - (1 if tops > 1 else 0)
""",
        "neighbouring slots only": """
def number_of_pairs(slots: tuple[str, ...]) -> int:
    return max(len(slots) - 1, 0)
""",
    },
    "exercise_3_tests": {
        "forgets the scale s": """
def max_score(lambda_ui: torch.Tensor, lambda_ii: torch.Tensor, s: float = SCORE_SCALE) -> float:
    dim = len(lambda_ui)
    return float(lambda_ui.sum() / dim + lambda_ii.sum() / dim)
""",
        "sums without dividing by D": """
def max_score(lambda_ui: torch.Tensor, lambda_ii: torch.Tensor, s: float = SCORE_SCALE) -> float:
    return float(s * (lambda_ui.sum() + lambda_ii.sum()))
""",
        "preference term only": """
def max_score(lambda_ui: torch.Tensor, lambda_ii: torch.Tensor, s: float = SCORE_SCALE) -> float:
    dim = len(lambda_ui)
    return float(s * lambda_ui.sum() / dim)
""",
        "the bound 2s of unit weights": """
def max_score(lambda_ui: torch.Tensor, lambda_ii: torch.Tensor, s: float = SCORE_SCALE) -> float:
    return 2 * s
""",
    },
}
