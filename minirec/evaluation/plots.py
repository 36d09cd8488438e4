"""Plotting helpers: item grids with captions, outfits, training curves, distributions."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def show_images(
    images: Sequence[np.ndarray],
    captions: Sequence[str] | None = None,
    ncols: int = 8,
    scale: float = 1.4,
    wrap: int = 18,
    title: str | None = None,
) -> Figure:
    """A grid of ``(H, W, 3)`` images with optional wrapped captions under each."""
    if captions is not None and len(captions) != len(images):
        raise ValueError(f"got {len(images)} images but {len(captions)} captions")
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    caption_lines = 0 if captions is None else max(len(textwrap.wrap(c, wrap)) or 1 for c in captions)
    fig, axes = plt.subplots(
        nrows, ncols, squeeze=False, figsize=(scale * ncols, scale * nrows * (1 + 0.12 * caption_lines))
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= len(images):
            continue
        ax.imshow(images[index], interpolation="nearest")
        if captions is not None:
            ax.set_title("\n".join(textwrap.wrap(captions[index], wrap)), fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_outfit(
    images: Sequence[np.ndarray], labels: Sequence[str], title: str | None = None, ax: Axes | None = None
) -> Axes:
    """One outfit drawn side by side on a single axis, each item labelled underneath."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(images), 1.6))
    height = max(im.shape[0] for im in images)
    padded = [np.pad(im, ((0, height - im.shape[0]), (2, 2), (0, 0)), constant_values=255) for im in images]
    strip = np.concatenate(padded, axis=1)
    ax.imshow(strip, interpolation="nearest")
    ax.set_xticks([sum(p.shape[1] for p in padded[:i]) + padded[i].shape[1] / 2 for i in range(len(padded))])
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_training_curve(
    history: Mapping[str, Sequence[float]],
    *,
    ylabel: str,
    title: str,
    xlabel: str = "epoch",
    ax: Axes | None = None,
) -> Axes:
    """One line per series in ``history`` (e.g. ``{"train loss": [...], "val AUC": [...]}``), labelled."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax


def bar_counts(
    counts: Mapping[str, int | float],
    *,
    title: str,
    ylabel: str = "count",
    xlabel: str = "",
    ax: Axes | None = None,
    horizontal: bool = False,
) -> Axes:
    """A labelled bar chart of ``{label: count}`` (with ``horizontal``, the counts run along x)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    labels, values = list(counts), list(counts.values())
    (ax.barh if horizontal else ax.bar)(labels, values, color="#4c72b0")
    if not horizontal:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    value_axis, label_axis = ("xlabel", "ylabel") if horizontal else ("ylabel", "xlabel")
    ax.set(title=title, **{value_axis: ylabel, label_axis: xlabel})
    return ax
