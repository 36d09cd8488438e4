"""Wrong answers a struggling student might hand in for notebook 09; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "rounds up": """
def substring_radius(r: int, m: int) -> int:
    return math.ceil(r / m)
""",
        "rounds to the nearest": """
def substring_radius(r: int, m: int) -> int:
    return round(r / m)
""",
        "a float, not a whole radius": """
def substring_radius(r: int, m: int) -> int:
    return r / m
""",
        "off by one below (r - 1 bits)": """
def substring_radius(r: int, m: int) -> int:
    return (r - 1) // m
""",
        "one more than needed": """
def substring_radius(r: int, m: int) -> int:
    return r // m + 1
""",
    },
    "exercise_2_tests": {
        "only the keys at exactly radius s": """
def keys_probed(b: int, s: int) -> int:
    return math.comb(b, s)
""",
        "forgets radius s (stops at s - 1)": """
def keys_probed(b: int, s: int) -> int:
    return sum(math.comb(b, i) for i in range(s))
""",
        "forgets the query's own key (radius 0)": """
def keys_probed(b: int, s: int) -> int:
    return sum(math.comb(b, i) for i in range(1, s + 1))
""",
        "b choices for each of s bits": """
def keys_probed(b: int, s: int) -> int:
    return b**s
""",
        "two choices per flipped bit": """
def keys_probed(b: int, s: int) -> int:
    return 2**s
""",
    },
    "exercise_3_tests": {
        "the plain average, as DDP does": """
def combine_gradients(gradients: list[torch.Tensor], slice_sizes: list[int]) -> torch.Tensor:
    return torch.stack(gradients).mean(dim=0)
""",
        "the sum over ranks": """
def combine_gradients(gradients: list[torch.Tensor], slice_sizes: list[int]) -> torch.Tensor:
    return torch.stack(gradients).sum(dim=0)
""",
        "weighted by the sizes but not normalised": """
def combine_gradients(gradients: list[torch.Tensor], slice_sizes: list[int]) -> torch.Tensor:
    return sum(n * g for n, g in zip(slice_sizes, gradients, strict=True))
""",
        "weighted by the inverse sizes": """
def combine_gradients(gradients: list[torch.Tensor], slice_sizes: list[int]) -> torch.Tensor:
    weights = 1 / torch.tensor(slice_sizes, dtype=gradients[0].dtype)
    return sum(w * g for w, g in zip(weights / weights.sum(), gradients, strict=True))
""",
        "rank 0's gradient only": """
def combine_gradients(gradients: list[torch.Tensor], slice_sizes: list[int]) -> torch.Tensor:
    return gradients[0]
""",
    },
}
