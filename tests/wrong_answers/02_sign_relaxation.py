"""Wrong answers a struggling student might hand in for notebook 02; each must earn 0 points.

Each value replaces the exercise's whole solution cell (see tests/test_assignments.py).
"""

WRONG_ANSWERS = {
    "exercise_1_tests": {
        "off by one (divides by E)": """
def gamma_for(epochs: int, final_beta: float) -> float:
    return (final_beta ** 2 - 1) / epochs
""",
        "forgets the square": """
def gamma_for(epochs: int, final_beta: float) -> float:
    return (final_beta - 1) / (epochs - 1)
""",
        "the official constant": """
def gamma_for(epochs: int, final_beta: float) -> float:
    return 1.0
""",
    },
    "exercise_2_tests": {
        "torch.sign maps 0 to 0": """
def my_gap(relaxed: torch.Tensor) -> float:
    return float((relaxed - torch.sign(relaxed)).abs().mean())
""",
        "squared distance": """
def my_gap(relaxed: torch.Tensor) -> float:
    nearest = torch.where(relaxed >= 0, 1.0, -1.0)
    return float(((relaxed - nearest) ** 2).mean())
""",
        "largest distance instead of the mean": """
def my_gap(relaxed: torch.Tensor) -> float:
    nearest = torch.where(relaxed >= 0, 1.0, -1.0)
    return float((relaxed - nearest).abs().max())
""",
    },
    "exercise_3_tests": {
        "mean over the wrong axis": """
def fraction_of_wasted_bits(codes: torch.Tensor, threshold: float = 0.9) -> float:
    return float((codes.mean(dim=1).abs() > threshold).float().mean())
""",
        "forgets the absolute value": """
def fraction_of_wasted_bits(codes: torch.Tensor, threshold: float = 0.9) -> float:
    return float((codes.mean(dim=0) > threshold).float().mean())
""",
        "counts instead of a fraction": """
def fraction_of_wasted_bits(codes: torch.Tensor, threshold: float = 0.9) -> float:
    return float((codes.mean(dim=0).abs() > threshold).sum())
""",
        ">= instead of >": """
def fraction_of_wasted_bits(codes: torch.Tensor, threshold: float = 0.9) -> float:
    return float((codes.mean(dim=0).abs() >= threshold).float().mean())
""",
    },
}
