"""Wrong answers a struggling student might hand in for notebook 07; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "bits / 8 without rounding up": """
def packed_megabytes(num_items: int, bits: int) -> float:
    return num_items * bits / 8 / 1e6
""",
        "bytes instead of MB": """
def packed_megabytes(num_items: int, bits: int) -> float:
    return num_items * -(-bits // 8)
""",
        "the float32 size": """
def packed_megabytes(num_items: int, bits: int) -> float:
    return num_items * 4 * bits / 1e6
""",
        "rounds the bytes down": """
def packed_megabytes(num_items: int, bits: int) -> float:
    return num_items * (bits // 8) / 1e6
""",
    },
    "exercise_2_tests": {
        "counts the agreeing bits": """
def hamming_from_inner(inner: np.ndarray, dim: int) -> np.ndarray:
    return ((dim + inner) // 2).astype(np.int64)
""",
        "forgets to halve": """
def hamming_from_inner(inner: np.ndarray, dim: int) -> np.ndarray:
    return (dim - inner).astype(np.int64)
""",
        "float output": """
def hamming_from_inner(inner: np.ndarray, dim: int) -> np.ndarray:
    return (dim - inner) / 2
""",
        "halves the inner product": """
def hamming_from_inner(inner: np.ndarray, dim: int) -> np.ndarray:
    return (inner // 2).astype(np.int64)
""",
    },
    "exercise_3_tests": {
        "Hamming top k, no re-ranking": """
def rerank(category: str, shortlist: int, k: int = K) -> np.ndarray:
    item_codes = np.concatenate([to_numpy(items_bin[m][category]) for m in modalities], axis=1)
    index = HammingIndex(item_codes.shape[1])
    index.add(item_codes)
    _, candidates = index.search(user_queries, k)
    return candidates
""",
        "re-ranks in ascending order": """
def rerank(category: str, shortlist: int, k: int = K) -> np.ndarray:
    item_codes = np.concatenate([to_numpy(items_bin[m][category]) for m in modalities], axis=1)
    index = HammingIndex(item_codes.shape[1])
    index.add(item_codes)
    _, candidates = index.search(user_queries, shortlist)
    scores = np.take_along_axis(real_scores(category), candidates, axis=1)
    order = np.argsort(scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(candidates, order, axis=1)
""",
        "ignores the short list": """
def rerank(category: str, shortlist: int, k: int = K) -> np.ndarray:
    return np.argsort(-real_scores(category), axis=1, kind="stable")[:, :k]
""",
        "returns short-list positions, not item ids": """
def rerank(category: str, shortlist: int, k: int = K) -> np.ndarray:
    item_codes = np.concatenate([to_numpy(items_bin[m][category]) for m in modalities], axis=1)
    index = HammingIndex(item_codes.shape[1])
    index.add(item_codes)
    _, candidates = index.search(user_queries, shortlist)
    scores = np.take_along_axis(real_scores(category), candidates, axis=1)
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]
""",
    },
}
