"""Seeded random choices that give the same result on every machine.

Only ``Generator.random`` and ``Generator.integers`` are used, with cumulative sums and
``searchsorted``: no vectorised transcendental functions whose last bit may depend on the CPU.
"""

from __future__ import annotations

import numpy as np


def pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def draw_index(weights: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to the non-negative ``weights``."""
    cumulative = np.cumsum(weights)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


def draw_without_replacement(weights: np.ndarray, count: int, rng: np.random.Generator) -> list[int]:
    """``count`` distinct indices, each drawn proportionally to the weights still left."""
    weights = np.array(weights, dtype=np.float64)
    chosen = []
    for _ in range(count):
        index = draw_index(weights, rng)
        chosen.append(index)
        weights[index] = 0.0
    return chosen
