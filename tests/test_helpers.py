"""set_seed, device choice, progress bars, plots and the headline recorder."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from minirec.core.runtime import choose_device, progress, set_seed
from minirec.course.report import record_headline
from minirec.evaluation.plots import bar_counts, plot_training_curve, show_images, show_outfit


def test_set_seed_makes_torch_and_numpy_repeatable():
    set_seed(7)
    first = (torch.randn(3), np.random.rand(3))
    set_seed(7)
    second = (torch.randn(3), np.random.rand(3))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert torch.are_deterministic_algorithms_enabled()


def test_choose_device(monkeypatch):
    monkeypatch.delenv("MINIREC_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device().type == expected
    assert choose_device("cpu").type == "cpu"
    monkeypatch.setenv("MINIREC_DEVICE", "cpu")
    assert choose_device("cuda").type == "cpu"


def test_progress_can_be_silenced(monkeypatch, capsys):
    monkeypatch.setenv("MINIREC_PROGRESS", "0")
    assert list(progress(range(3), desc="x")) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_plots_draw_and_check_their_arguments():
    images = [np.zeros((8, 8, 3), np.uint8)] * 3
    fig = show_images(images, ["a", "b", "c"], ncols=2)
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == "a"
    with pytest.raises(ValueError, match="3 images but 2 captions"):
        show_images(images, ["a", "b"])
    ax = show_outfit(images, ["top", "bottom", "shoe"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["top", "bottom", "shoe"]
    ax = plot_training_curve({"loss": [3.0, 2.0, 1.5]}, ylabel="BPR loss", title="training")
    assert ax.get_lines()[0].get_ydata().tolist() == [3.0, 2.0, 1.5]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "BPR loss", "training")
    ax = bar_counts({"x": 1, "y": 2}, title="items", xlabel="style")
    assert len(ax.patches) == 2 and (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "style",
        "count",
        "items",
    )
    ax = bar_counts({"x": 1, "y": 2}, title="items", ylabel="purchases", horizontal=True)
    assert ax.get_xlabel() == "purchases"
    plt.close("all")


def test_record_headline_prints_and_saves(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINIREC_RESULTS_DIR", str(tmp_path))
    record_headline("00_demo", {"auc": 0.81234, "users": 5})
    assert capsys.readouterr().out == "headline of 00_demo: auc = 0.812, users = 5\n"
    assert json.loads((tmp_path / "00_demo.json").read_text()) == {"auc": 0.81234, "users": 5}
