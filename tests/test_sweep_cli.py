"""`loom sweep` end to end on a tiny workflow: trials are ordinary, tagged runs that reuse the cache,
each trial's value is its best epoch's, hopeless trials are pruned, and the best one can be re-run."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from engine.cli import main
from engine.run_files import read_metrics
from engine.run_index import RunIndex
from engine.sweep import (
    SweepConfig,
    best_workflow,
    list_studies,
    param_importances,
    parse_sweep_param,
    read_study,
    reported_metrics,
    run_sweep,
)
from engine.sweep.study import open_study
from engine.workflow import Workflow
from tests.conftest import EXAMPLES

MLP = str(EXAMPLES / "classify_digits.json")
TINY = ["--set", "train.epochs=3", "--set", "data.size=8", "--set", "model.hidden=32"]


def tiny_workflow() -> Workflow:
    wf = Workflow.load(MLP)
    wf.node("train").params.update(epochs=3)
    wf.node("data").params.update(size=8)
    wf.node("model").params.update(hidden="32")
    return wf


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # trial runs go to ./runs, like `loom run`
    return tmp_path


def test_a_sweep_runs_tagged_ordinary_runs_that_reuse_the_cache(in_tmp, capsys):
    args = ["sweep", MLP, *TINY, "--param", "train.lr=log:1e-3..1e-1", "--param", "train.batch_size=32,64",
            "--trials", "3", "--study", "s1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    view = read_study("s1")
    assert [t.state for t in view.trials].count("complete") + [t.state for t in view.trials].count("pruned") == 3
    listed = {Path(r["run_dir"]) for r in RunIndex().list()}
    for trial in view.trials:
        run = Path(trial.run_dir)
        assert run.parent == in_tmp / "runs" and run.resolve() in listed  # an ordinary run, in the index
        info = json.loads((run / "run.json").read_text())
        assert info["sweep"]["study"] == "s1" and info["sweep"]["trial"] == trial.number
        assert info["sweep"]["params"] == trial.params
        workflow = json.loads((run / "workflow.json").read_text())
        train = next(n for n in workflow["nodes"] if n["id"] == "train")
        assert train["params"]["lr"] == trial.params["train.lr"]  # the trial's settings are what ran
        if trial.number > 0:
            assert info["nodes"]["data"]["state"] == info["nodes"]["preprocess"]["state"] == "cached"
            assert info["nodes"]["model"]["state"] == "cached"  # the model spec does not change either
        assert f"trial {trial.number:3d}  {trial.state}" in out
    best = view.best
    assert best is not None and best.value == max(t.value for t in view.trials if t.state == "complete")
    assert f"best: trial {best.number}, val_accuracy {best.value:.4f}" in out
    rerun = next(line for line in out.splitlines() if line.startswith("re-run it: "))[len("re-run it: "):]
    words = shlex.split(rerun)
    assert words[:3] == ["loom", "run", MLP]
    assert f"train.lr={best.params['train.lr']!r}" in words  # full precision: the same run again
    assert list_studies() == ["s1"]


def test_the_same_command_draws_the_same_settings_in_a_new_study(in_tmp):
    wf = tiny_workflow()
    space = [parse_sweep_param("train.lr=log:1e-3..1e-1", wf), parse_sweep_param("train.batch_size=32,64", wf)]
    first = run_sweep(SweepConfig(wf, space, trials=2, prune="none", study="one"))
    second = run_sweep(SweepConfig(wf, space, trials=2, prune="none", study="two"))
    assert [t.params for t in first.trials] == [t.params for t in second.trials]  # seeded: reproducible
    assert first.trials[0].params != first.trials[1].params


def test_the_value_is_the_best_epoch_not_the_last(in_tmp):
    wf = tiny_workflow()
    wf.node("train").params.update(epochs=4)
    config = SweepConfig(wf, [parse_sweep_param("train.lr=0.05,0.1", wf)], trials=2, sampler="grid",
                         prune="none", study="best-epoch")
    view = run_sweep(config)
    for trial in view.trials:
        rows = [r for r in read_metrics(trial.run_dir) if r["name"] == "val_accuracy"]
        assert [r["epoch"] for r in rows] == [1, 2, 3, 4] and trial.epochs == 4
        assert trial.value == pytest.approx(max(r["value"] for r in rows), abs=1e-6)
        names = {r["name"] for r in read_metrics(trial.run_dir)}
        assert names <= set(reported_metrics(wf))  # the metric table matches what the steps really report
    lowest_loss = SweepConfig(wf, config.params, trials=2, sampler="grid", prune="none", metric="val_loss",
                              maximize=False, study="lowest-loss")
    for trial in run_sweep(lowest_loss).trials:
        rows = [r["value"] for r in read_metrics(trial.run_dir) if r["name"] == "val_loss"]
        assert trial.value == pytest.approx(min(rows), abs=1e-6)


@pytest.mark.parametrize(("metric", "maximize"), [("val_accuracy", True), ("train_loss", False)])
def test_a_hopeless_trial_is_pruned_and_its_run_says_why(in_tmp, metric, maximize):
    wf = tiny_workflow()
    wf.node("train").params.update(epochs=4)
    config = SweepConfig(wf, [parse_sweep_param("train.lr=log:1e-7..1e-1", wf)], trials=4, study="prune",
                         metric=metric, maximize=maximize)  # per epoch (validation) and per step (training loss)
    study = open_study(config, epochs=4)
    for lr in (0.02, 0.03, 0.05, 1e-7):  # three good trials set the median; a learning rate of 1e-7 learns nothing
        study.enqueue_trial({"train.lr": lr})
    seen = []
    view = run_sweep(config, on_trial=seen.append)
    assert [t.state for t in view.trials] == ["complete", "complete", "complete", "pruned"]
    hopeless = view.trials[3]
    worst = (min if maximize else max)(t.value for t in view.trials[:3])
    assert hopeless.epochs < 4 and (hopeless.value < worst if maximize else hopeless.value > worst)
    info = json.loads((Path(hopeless.run_dir) / "run.json").read_text())
    assert info["status"] == "stopped" and info["nodes"]["evaluate"]["state"] == "skipped"
    assert info["message"].startswith(f"pruned by sweep 'prune': {metric}") and "median" in info["message"]
    assert info["nodes"]["train"]["message"] == info["message"] == hopeless.message
    assert "stopped by the user" not in (Path(hopeless.run_dir) / "log.txt").read_text()
    assert [(r.number, r.state) for r in seen][-2:] == [(3, "running"), (3, "pruned")]
    assert view.best.number in (0, 1, 2)
    assert set(param_importances(view)) == {"train.lr"}
    assert best_workflow(view, wf).node("train").params["lr"] == view.best.params["train.lr"]


def test_a_cross_validated_workflow_is_swept_on_the_mean_over_its_folds(in_tmp, capsys):
    wf = tiny_workflow()
    wf.node("train").params.update(kfold=2, epochs=1)
    assert {"cv_accuracy", "cv_f1", "cv_loss"} <= set(reported_metrics(wf))
    assert "val_accuracy" not in reported_metrics(wf)  # per-epoch points are per fold: fold1/val_accuracy ...
    view = run_sweep(SweepConfig(wf, [parse_sweep_param("train.lr=0.05,0.1", wf)], trials=2, sampler="grid",
                                 metric="cv_accuracy", study="cv"))
    for trial in view.trials:
        rows = [r for r in read_metrics(trial.run_dir) if r["name"] == "cv_accuracy"]
        folds = [r for r in read_metrics(trial.run_dir) if r["name"] == "fold1/val_accuracy"]
        assert trial.state == "complete" and len(rows) == 1 and folds
        assert trial.value == pytest.approx(rows[0]["value"], abs=1e-6)
    path = in_tmp / "cv.json"
    wf.save(path)
    assert main(["sweep", str(path), "--param", "train.lr=0.05,0.1", "--metric", "val_accuracy"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cv_accuracy" in err


def test_a_trial_that_repeats_earlier_settings_scores_what_they_scored(in_tmp):
    wf = tiny_workflow()
    config = SweepConfig(wf, [parse_sweep_param("train.lr=log:1e-3..1e-1", wf)], trials=2, prune="none",
                         study="twice")
    study = open_study(config, epochs=3)
    for _ in range(2):  # TPE, grid or a short list of choices can ask for the same settings again
        study.enqueue_trial({"train.lr": 0.02})
    first, second = run_sweep(config).trials
    assert (first.state, second.state) == ("complete", "complete")
    assert second.value == first.value and second.epochs == first.epochs == 3
    info = json.loads((Path(second.run_dir) / "run.json").read_text())
    assert info["nodes"]["train"]["state"] == "cached"  # nothing retrained: the node cache answered


def test_a_second_command_continues_the_study_and_a_changed_space_is_refused(in_tmp, capsys):
    base = ["sweep", MLP, *TINY, "--param", "train.batch_size=32,64", "--study", "more", "--prune", "none"]
    assert main([*base, "--trials", "2"]) == 0
    first = [(t.number, t.run_dir) for t in read_study("more").trials]
    assert main([*base, "--trials", "3"]) == 0
    view = read_study("more")
    assert [(t.number, t.run_dir) for t in view.trials][:2] == first and len(view.trials) == 3
    capsys.readouterr()
    code = main(["sweep", MLP, *TINY, "--param", "train.batch_size=16,32", "--study", "more", "--trials", "4"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "the stored study searches train.batch_size=32,64 for val_accuracy" in err
    assert len(read_study("more").trials) == 3


def test_reading_a_study_that_is_not_there_says_so():
    from engine.errors import UserInputError

    with pytest.raises(UserInputError, match="no sweeps yet"):
        read_study("nothing")
    assert list_studies() == []
