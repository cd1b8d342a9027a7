"""`loom sweep`'s search space: what a --param spec means, and one clear line (exit 2) for each bad one."""

from __future__ import annotations

import pytest

from engine.cli import main
from engine.errors import UserInputError
from engine.sweep import SweepParam, parse_sweep_param, reported_metrics
from engine.sweep.metrics import EPOCH, FINAL, STEP, default_maximize
from engine.sweep.space import apply_params
from engine.workflow import Workflow
from tests.conftest import EXAMPLES

MLP = str(EXAMPLES / "classify_digits.json")


@pytest.fixture
def wf() -> Workflow:
    return Workflow.load(MLP)


def test_a_log_range_a_list_and_a_whole_number_range(wf):
    lr = parse_sweep_param("train.lr=log:1e-4..1e-1", wf)
    assert (lr.kind, lr.low, lr.high, lr.log, lr.key) == ("float", 1e-4, 1e-1, True, "train.lr")
    batch = parse_sweep_param("train.batch_size=32,64,128", wf)
    assert batch.kind == "choice" and batch.choices == (32, 64, 128)  # numbers, not text
    epochs = parse_sweep_param("train.epochs=2..5", wf)
    assert (epochs.kind, epochs.low, epochs.high, epochs.log) == ("int", 2, 5, False)
    optimizer = parse_sweep_param("train.optimizer=adam,SGD", wf)
    assert optimizer.choices == ("adam", "sgd")  # spelled as the declaration spells it


def test_a_param_survives_its_round_trip_through_the_study(wf):
    for text in ("train.lr=log:1e-4..1e-1", "train.batch_size=32,64", "train.epochs=2..5"):
        p = parse_sweep_param(text, wf)
        assert SweepParam.from_json(p.to_json()) == p


def test_grid_values_are_lists_and_small_whole_ranges_only(wf):
    assert parse_sweep_param("train.batch_size=32,64", wf).grid_values() == [32, 64]
    assert parse_sweep_param("train.epochs=2..4", wf).grid_values() == [2, 3, 4]
    assert parse_sweep_param("train.lr=1e-3..1e-2", wf).grid_values() is None
    assert parse_sweep_param("train.epochs=1..1000", wf).grid_values() is None


def test_trial_values_are_applied_in_their_declared_type(wf):
    out = apply_params(wf, {"train.batch_size": 32.0, "train.lr": 0.01})
    assert out.node("train").params["batch_size"] == 32 and isinstance(out.node("train").params["batch_size"], int)
    assert wf.node("train").params["batch_size"] == 64  # the original is untouched


def test_the_metrics_a_workflow_reports_come_from_its_steps(wf):
    found = reported_metrics(wf)
    assert found["val_accuracy"].node == "train" and found["val_accuracy"].when == EPOCH
    assert found["train_loss"].when == STEP
    assert found["test_accuracy"].node == "evaluate" and found["test_accuracy"].when == FINAL
    assert "loss_g" not in found  # a GAN's metric, not this workflow's
    assert default_maximize("val_accuracy") and not default_maximize("val_loss")


@pytest.mark.parametrize(("spec", "says"), [
    ("train2.lr=1e-4..1e-1", "no such node 'train2' (the workflow has: data, preprocess, model, train"),
    ("train.lrr=1e-4..1e-1", "node 'train' (train) has no parameter 'lrr' — did you mean 'lr'?"),
    ("train.lr=1e-1..1e-4", "the range 1e-1..1e-4 is inverted — write the low end first: 1e-4..1e-1"),
    ("train.lr=1e-3..1e-3", "the range 1e-3..1e-3 is empty"),
    ("train.lr=..", "is empty — write LO..HI with both ends"),
    ("train.lr=", "no values"),
    ("train.lr=log:0..1e-1", "a log range needs both ends above 0"),
    ("train.lr=1e-9..1e-1", "1e-09 is below the minimum"),
    ("train.optimizer=adam,rmsprop", "'rmsprop' is not one of 'adam', 'adamw', 'sgd'"),
    ("train.batch_size=0,32", "0 is below the minimum 1"),
    ("train.batch_size=1.5..8", "'1.5' is not a whole number"),
    ("train.batch_size=32", "only one value (32) — give two or more"),
    ("model.hidden=1..3", "'hidden' is text, which a sweep cannot search"),
    ("trainlr", "write NODE.PARAM=SPEC"),
])
def test_each_bad_param_is_one_line_exit_2_naming_it(capsys, spec, says):
    code = main(["sweep", MLP, "--param", spec, "--trials", "2"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"loom: --param {spec}")
    assert says in err
    with pytest.raises(UserInputError):  # the same rule for the app, which calls the API
        parse_sweep_param(spec, Workflow.load(MLP))


@pytest.mark.parametrize(("args", "says"), [
    (["--param", "train.lr=1e-3..1e-2", "--metric", "val_auc"],
     "--metric val_auc: the workflow does not report this metric — it reports"),
    (["--param", "train.lr=1e-3..1e-2", "--sampler", "grid"], "--sampler grid: train.lr=0.001..0.01 is not a finite"),
    (["--param", "train.lr=1e-3..1e-2", "--param", "train.lr=1e-4..1e-2"], "--param train.lr is given twice"),
    (["--param", "train.lr=1e-3..1e-2", "--trials", "0"], "--trials 0: give 1 or more"),
    ([], "nothing to search"),
])
def test_bad_sweep_settings_are_one_line_exit_2(capsys, args, says):
    code = main(["sweep", MLP, *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and says in err, err


def test_nothing_is_stored_for_bad_input(capsys, isolated_loom_dirs):
    main(["sweep", MLP, "--param", "train.lr=1e-3..1e-2", "--metric", "val_auc"])
    assert not (isolated_loom_dirs / "home" / "sweeps.db").exists()
