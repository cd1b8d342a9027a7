"""The learning-rate finder (engine and `loom find-lr`): its curve, its suggestion, and what it leaves alone."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.lr_finder.curve import has_diverged, lr_ramp, round_lr, smooth, suggest
from engine.workflow import Endpoint, Link, Node, Workflow
from tests.conftest import EXAMPLES, ROOT

EXAMPLE = str(EXAMPLES / "classify_digits.json")


def loom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, timeout=180,
                          cwd=ROOT, env=os.environ.copy())


# -- the arithmetic --------------------------------------------------------------------------------------------
def test_the_ramp_is_geometric_from_start_to_end():
    ramp = lr_ramp(1e-6, 1.0, 7)
    assert ramp[0] == pytest.approx(1e-6) and ramp[-1] == pytest.approx(1.0)
    ratios = {round(b / a, 9) for a, b in zip(ramp, ramp[1:], strict=False)}
    assert ratios == {10.0}


def test_smoothing_is_bias_corrected_so_the_first_points_are_not_pulled_to_zero():
    assert smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    steps = smooth([1.0] * 50 + [3.0] * 5)
    assert 1.0 < steps[-1] < 3.0, "the moving average lags behind a jump"


def test_divergence_is_four_times_the_best_or_no_number():
    assert not has_diverged(3.9, 1.0)
    assert has_diverged(4.1, 1.0)
    assert has_diverged(float("nan"), 1.0) and has_diverged(float("inf"), 1.0)


def test_the_suggestion_is_the_steepest_fall_before_the_minimum():
    lrs = lr_ramp(1e-5, 1.0, 60)
    # flat, then a fall centred at 1e-3, a minimum near 3e-2, then a climb steeper than the fall
    loss = [2.0 - 1.5 / (1 + math.exp(-4 * (math.log10(lr) + 3))) for lr in lrs]
    loss = [v if lr < 3e-2 else v + 40 * (math.log10(lr) - math.log10(3e-2)) ** 2 for v, lr in zip(loss, lrs, strict=True)]
    lr, method = suggest(lrs, loss)
    assert method == "steepest"
    assert 5e-4 < lr < 2e-3


def test_a_curve_that_never_falls_falls_back_to_a_tenth_of_the_minimum():
    lrs = lr_ramp(1e-5, 1.0, 30)
    loss = [1.0 + i * 0.01 for i in range(30)]
    loss[3] = 0.5  # the lowest point comes too early for a slope
    lr, method = suggest(lrs, loss)
    assert method == "minimum/10" and lr == pytest.approx(lrs[3] / 10)
    assert round_lr(0.004912) == 0.0049


# -- on the MLP digits example --------------------------------------------------------------------------------
def test_the_suggestion_on_the_digits_example_trains_at_least_as_well_as_the_default(tmp_path):
    from engine.lr_finder import find_lr
    from engine.run_files import read_run
    from engine.runner import Engine

    engine = Engine()
    flow = Workflow.load(EXAMPLE)
    result = find_lr(flow, cache=engine.cache)
    assert result.key == "train.lr" and result.current == 0.001
    assert 1e-4 <= result.suggestion <= 0.1, result.describe()
    assert result.method == "steepest"
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) > 20
    assert result.set_arg == f"train.lr={result.suggestion:g}"

    accuracy = {}
    for name, lr in (("default", result.current), ("suggested", result.suggestion)):
        flow = Workflow.load(EXAMPLE)
        flow.node("train").params.update(lr=lr, epochs=10)  # the same epochs for both: half the example's 20
        run = engine.run(flow, runs_root=str(tmp_path / "runs"))
        assert run.status == "succeeded", run.message
        states = read_run(run.run_dir)["nodes"]
        assert states["data"]["state"] == "cached", "the finder left the data in the cache for the run"
        accuracy[name] = states["evaluate"]["report"]["accuracy"]
    assert accuracy["suggested"] >= accuracy["default"], accuracy


def test_a_huge_end_rate_stops_the_test_early_when_the_loss_diverges():
    from engine.lr_finder import find_lr

    result = find_lr(Workflow.load(EXAMPLE), start_lr=1e-4, end_lr=1e6, steps=80)
    assert result.diverged_at is not None
    assert len(result.lrs) < 80, "the test stopped before the end of the range"
    assert result.diverged_at < 1e6
    assert result.suggestion < result.diverged_at


def _transfer_flow() -> Workflow:
    """digits -> a small CNN pretrained in the workflow -> a second CNN that starts from it -> 'finetune'."""
    nodes = [
        Node("data", "digits", {"size": 16}), Node("prep", "normalize", {"range": "-1..1"}),
        Node("base", "cnn", {"width": 4}), Node("pretrain", "train", {"epochs": 1, "batch_size": 128}),
        Node("model", "cnn", {"width": 4}), Node("finetune", "train", {"epochs": 1, "batch_size": 64, "lr": 0.01}),
    ]
    links = [("data.data", "prep.data"), ("prep.data", "pretrain.data"), ("base.model", "pretrain.model"),
             ("pretrain.model", "model.pretrained"), ("prep.data", "finetune.data"), ("model.model", "finetune.model")]
    return Workflow("transfer", nodes, [Link(Endpoint.parse(s), Endpoint.parse(t)) for s, t in links])


def test_the_weights_the_test_starts_from_are_untouched():
    import torch

    from engine.cache import NodeCache
    from engine.context import RunControl
    from engine.events import EventBus
    from engine.lr_finder import find_lr
    from engine.lr_finder.upstream import node_inputs

    flow, cache = _transfer_flow(), NodeCache()

    def inputs(node: str) -> dict:
        return node_inputs(flow, node, "cpu", cache, EventBus(), RunControl())

    pretrained = inputs("model")["pretrained"].module
    spec = inputs("finetune")["model"]
    before = {k: v.clone() for k, v in pretrained.state_dict().items()}
    source_before = {k: v.clone() for k, v in spec.source.items()}

    result = find_lr(flow, "finetune", device="cpu", cache=cache, steps=30)
    assert len(result.lrs) > 3
    assert inputs("model")["pretrained"].module is pretrained, "the cached model is the one the test started from"
    after = pretrained.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert inputs("finetune")["model"] is spec
    assert all(torch.equal(source_before[k], spec.source[k]) for k in source_before)


# -- the command ------------------------------------------------------------------------------------------------
def test_find_lr_prints_the_suggestion_and_the_command_and_writes_the_curve(tmp_path):
    out = tmp_path / "curve.csv"
    flow_before = Path(EXAMPLE).read_text()
    result = loom("find-lr", EXAMPLE, "--set", "train.batch_size=32", "--steps", "40", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("suggested train.lr = ")
    suggested = lines[0].split("= ")[1].split(" ")[0]
    assert lines[1] == f"apply it: loom run {EXAMPLE} --set train.batch_size=32 --set train.lr={suggested}"
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["step", "lr", "loss", "smoothed_loss"]
    assert 3 < len(rows) <= 40 and float(rows[0]["lr"]) == pytest.approx(1e-7)
    assert Path(EXAMPLE).read_text() == flow_before, "the workflow file is left as it was"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "says"), [
    (("--node", "nobody"), "--node nobody: no such node 'nobody' (the workflow has: data, preprocess, model, train, evaluate)"),
    (("--node", "evaluate"), "--node evaluate: is a step of type 'evaluate' — the learning-rate finder works on"),
    (("--start-lr", "0"), "--start-lr 0.0: must be a positive number"),
    (("--start-lr", "1e-2", "--end-lr", "1e-3"), "--end-lr 0.001: must be larger than --start-lr 0.01"),
    (("--steps", "3"), "--steps 3: at least 10 batches"),
    (("--set", "train.lr=fast"), "node 'train', param 'lr': 'fast' is not a number"),
    (("--out", "/no/such/folder/curve.csv"), "--out /no/such/folder/curve.csv: there is no folder /no/such/folder"),
])
def test_bad_input_is_one_line_and_exit_2(args, says):
    result = loom("find-lr", EXAMPLE, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loom: " + says), result.stderr
    assert result.stdout == ""


def test_a_workflow_without_a_supported_train_step_is_refused_in_one_line():
    result = loom("find-lr", str(EXAMPLES / "gan_digits.json"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("loom: GAN digits (DCGAN): no train step the learning-rate finder works on — it "
                                     "needs a 'train' (classifier) or 'train_lm' (language model) step")


def test_a_missing_data_folder_is_named_before_anything_trains(tmp_path):
    result = loom("find-lr", str(EXAMPLES / "classify_folder.json"), "--set", f"data.path={tmp_path / 'gone'}")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loom: node 'data', param 'path': "), result.stderr
    assert "gone" in lines[0]


def test_a_language_model_step_is_tested_at_the_rates_of_the_ramp_without_its_warm_up(tmp_path):
    from engine.lr_finder import find_lr
    from tests.text_lm_support import lm_flow

    flow = lm_flow(warmup_steps=50)  # a warm-up would scale the first 50 rates down: the test must not
    result = find_lr(flow, steps=30, end_lr=1.0)
    assert result.key == "train.lr" and result.current == 0.002
    assert 1e-5 < result.suggestion < 1.0, result.describe()

    from engine.cache import NodeCache
    from engine.context import RunControl, StepContext
    from engine.events import EventBus
    from engine.lr_finder.trainers import make_trainer
    from engine.lr_finder.upstream import node_inputs
    from engine.steps.registry import get_step
    from engine.validation import resolved_params

    spec = get_step("train_lm")
    params = resolved_params(spec, flow.node("train").params)
    bus, control = EventBus(), RunControl()
    inputs = node_inputs(flow, "train", "cpu", NodeCache(), bus, control)
    trainer = make_trainer("train_lm", StepContext("train", params, inputs, "cpu", tmp_path, bus, control), tmp_path)
    trainer.step(next(trainer.batches()), 0.05, 0)
    assert {g["lr"] for g in trainer.algorithm.optimizer.param_groups} == {0.05}
    assert not (tmp_path / "checkpoints").exists(), "no checkpoint is written"
