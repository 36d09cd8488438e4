"""Wrong answers a struggling student might hand in for notebook 08; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py). The wrong
answers of exercise 3 are cheap on purpose: none trains for more than the 4 epochs of the test.
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "forgets the scale": """
def score_from_hamming(distances: np.ndarray, bits: int, scale: float) -> np.ndarray:
    return (bits - 2 * np.asarray(distances, dtype=float)) / bits
""",
        "bits - d instead of bits - 2d": """
def score_from_hamming(distances: np.ndarray, bits: int, scale: float) -> np.ndarray:
    return scale / bits * (bits - np.asarray(distances, dtype=float))
""",
        "the distance itself": """
def score_from_hamming(distances: np.ndarray, bits: int, scale: float) -> np.ndarray:
    return np.asarray(distances, dtype=float)
""",
        "forgets to divide by the code length": """
def score_from_hamming(distances: np.ndarray, bits: int, scale: float) -> np.ndarray:
    return scale * (bits - 2 * np.asarray(distances, dtype=float))
""",
    },
    "exercise_2_tests": {
        "shared over the union (Jaccard)": """
def list_overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(a, b, strict=True)]))
""",
        "counts, not shares": """
def list_overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) for x, y in zip(a, b, strict=True)]))
""",
        "sum over users instead of the mean": """
def list_overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum([len(set(x) & set(y)) / len(x) for x, y in zip(a, b, strict=True)]))
""",
        "same item at the same position only": """
def list_overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.asarray(a) == np.asarray(b)))
""",
    },
    "exercise_3_tests": {
        "returns the baseline's saved metrics": """
def run_variant(**change) -> dict[str, float]:
    return saved["baseline"].metrics
""",
        "reuses the baseline's results instead of training": """
def run_variant(**change) -> dict[str, float]:
    experiment = replace(BASELINE, **change)
    return experiment_metrics(experiment, hashed_results)
""",
        "returns the results object, not the metrics": """
def run_variant(**change) -> dict[str, float]:
    experiment = replace(BASELINE, **change)
    _, results = run_seqhash_experiment(experiment, split, features, device)
    return results
""",
    },
}
