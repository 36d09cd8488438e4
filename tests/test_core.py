"""The one training loop, its hooks, and seeding: fit's bookkeeping checked against hand-made numbers."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from minirec.core.loop import AfterEpoch, EpochHook, fit, shuffled_batches
from minirec.core.runtime import isolated_seed, numpy_generator, set_seed
from minirec.hashing.relax import BetaSchedule, CodeLayer


def test_fit_reports_the_size_weighted_mean_of_each_loss_and_steps_the_optimiser():
    model = nn.Linear(1, 1, bias=False)
    nn.init.constant_(model.weight, 2.0)
    x = torch.tensor([[1.0], [2.0], [3.0]])  # target 0: loss = (w x)^2 per example
    batches = [(x[:2],), (x[2:],)]  # sizes 2 and 1

    def step(batch):
        per_example = model(batch[0]).pow(2).squeeze(1)
        return {"loss": per_example.mean(), "first": per_example[0]}

    optimiser = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: every epoch sees w = 2
    history = fit(model, optimiser, lambda epoch: batches, step, epochs=2, show_progress=False)
    # batch means 10 (=(4+16)/2) and 36, weighted by sizes 2 and 1: (20 + 36) / 3
    assert history["loss"] == pytest.approx([56 / 3] * 2)
    assert history["first"] == pytest.approx([(4 * 2 + 36 * 1) / 3] * 2)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01)
    fit(model, sgd, lambda epoch: batches[:1], step, epochs=1, show_progress=False)
    # one step on mean((w x)^2) over x = 1, 2: gradient 2 w mean(x^2) = 2 * 2 * 2.5 = 10
    assert model.weight.item() == pytest.approx(2.0 - 0.01 * 10)


def test_hooks_run_around_every_epoch_in_order_and_the_model_ends_in_eval_mode():
    model = nn.Sequential(nn.Linear(2, 1), nn.Dropout(0.5))
    calls = []

    class Recorder(EpochHook):
        def before_epoch(self, epoch, model):
            calls.append(("before", epoch, model.training))

        def after_epoch(self, epoch, model, history):
            calls.append(("after", epoch, model.training, len(history["loss"])))

    def step(batch):
        return {"loss": model(batch[0]).sum()}

    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(
        model,
        optimiser,
        lambda e: [(torch.ones(3, 2),)],
        step,
        epochs=2,
        hooks=[Recorder(), AfterEpoch(lambda e, m, h: calls.append(("plain", e)))],
        show_progress=False,
    )
    assert calls == [
        ("before", 0, True),
        ("after", 0, False, 1),
        ("plain", 0),
        ("before", 1, True),
        ("after", 1, False, 2),
        ("plain", 1),
    ]
    assert not model.training
    with pytest.raises(ValueError, match="epochs must be >= 0, got -1"):
        fit(model, optimiser, lambda e: [], step, epochs=-1)


def test_beta_schedule_reaches_every_code_layer_and_records_beta():
    model = nn.ModuleDict({"a": CodeLayer(), "deep": nn.Sequential(nn.Linear(1, 1), CodeLayer("ste"))})
    optimiser = torch.optim.SGD(model.parameters(), lr=0.0)
    history = fit(
        model,
        optimiser,
        lambda e: [(torch.ones(1, 1),)],
        lambda b: {"loss": model["deep"][0](b[0]).sum()},
        epochs=3,
        hooks=[BetaSchedule(8.0)],
        show_progress=False,
    )
    assert history["beta"] == pytest.approx([1.0, 3.0, 17**0.5])
    assert [float(m.beta) for m in model.modules() if isinstance(m, CodeLayer)] == pytest.approx(
        [17**0.5] * 2
    )
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        BetaSchedule(-1.0)


def test_shuffled_batches_cover_every_row_once():
    set_seed(3)
    batches = list(shuffled_batches(10, 4))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        list(shuffled_batches(3, 0))


def test_one_seed_fixes_everything_drawn_after_it():
    set_seed(11)
    first = (torch.rand(2), numpy_generator().random(2), random.random())
    set_seed(11)
    second = (torch.rand(2), numpy_generator().random(2), random.random())
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1]) and first[2] == second[2]
    set_seed(12)
    assert not np.array_equal(numpy_generator().random(2), first[1])


def test_isolated_seed_is_reproducible_and_leaves_the_callers_stream_alone():
    set_seed(0)
    expected_next = torch.rand(3)
    set_seed(0)
    with isolated_seed(5):
        inside = (torch.rand(2), np.random.rand(2))
    assert torch.equal(torch.rand(3), expected_next)  # as if the block had not run
    with isolated_seed(5):
        again = (torch.rand(2), np.random.rand(2))
    assert torch.equal(inside[0], again[0]) and np.array_equal(inside[1], again[1])
