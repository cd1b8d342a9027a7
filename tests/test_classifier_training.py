"""The supervised loop: early stopping, time budget, schedules, k-fold and the training options."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from engine import Engine, Workflow
from engine import events as ev
from tests.fakes import install_fake_clock


def digits_flow(model: dict, train: dict, evaluate: dict | None = None, size: int = 8) -> Workflow:
    """digits -> normalize -> train (+ evaluate) with the given node params."""
    nodes = [
        {"id": "data", "type": "digits", "params": {"size": size}},
        {"id": "prep", "type": "normalize", "params": {"range": "-1..1"}},
        {"id": "model", **model},
        {"id": "train", "type": "train", "params": train},
    ]
    links = [
        {"source": "data.data", "target": "prep.data"},
        {"source": "prep.data", "target": "train.data"},
        {"source": "model.model", "target": "train.model"},
    ]
    if evaluate is not None:
        nodes.append({"id": "evaluate", "type": "evaluate", "params": evaluate})
        links += [{"source": "train.model", "target": "evaluate.model"},
                  {"source": "prep.data", "target": "evaluate.data"}]
    return Workflow.from_json({"schema": 1, "name": "t", "nodes": nodes, "links": links})


def run(wf: Workflow, out: Path) -> tuple[dict, list[ev.Event]]:
    events: list[ev.Event] = []
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu", on_event=events.append)
    assert result.status == "succeeded", result.message
    return json.loads((out / "run.json").read_text()), events


def metric_values(events: list[ev.Event], name: str) -> list[tuple[int, float]]:
    return [(e.epoch, e.value) for e in events if isinstance(e, ev.MetricPoint) and e.name == name]


MLP = {"type": "mlp", "params": {"hidden": "64", "dropout": 0.0}}


def test_early_stopping_restores_the_best_epochs_weights(tmp_path: Path) -> None:
    # A high learning rate makes validation loss bottom out early and then wander.
    wf = digits_flow(MLP, {"epochs": 25, "lr": 0.05, "batch_size": 128, "patience": 2, "monitor": "val_loss"},
                     evaluate={"split": "val", "mistakes": 0})
    info, events = run(wf, tmp_path / "run")
    curve = metric_values(events, "val_loss")
    report = info["nodes"]["train"]["report"]
    best_epoch, best_loss = min(curve, key=lambda p: p[1])
    assert report["stopped"] == "early_stopping"
    assert len(curve) < 25, "patience should have ended training before the last epoch"
    assert report["best_epoch"] == best_epoch < curve[-1][0], "the test needs a best epoch before the last one"
    # The model that leaves the step scores exactly the best epoch's validation loss.
    assert info["nodes"]["evaluate"]["report"]["loss"] == pytest.approx(best_loss, abs=1e-5)
    assert abs(best_loss - curve[-1][1]) > 1e-4
    # The final checkpoint holds those same weights; best.pt, which it supersedes, is gone.
    final = torch.load(tmp_path / "run" / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert final["finished"] and final["best"]["epoch"] == best_epoch
    assert "optimizer" not in final, "a finished checkpoint is never trained further"
    assert not (tmp_path / "run" / "train" / "checkpoints" / "best.pt").exists()


def test_time_budget_stops_gracefully_and_keeps_the_best(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_clock(monkeypatch, tick=0.01)  # the training clock advances with the loop, not the machine
    wf = digits_flow(MLP, {"epochs": 10000, "batch_size": 64, "lr": 0.01, "time_budget": 0.03}, evaluate={"mistakes": 0})
    info, events = run(wf, tmp_path / "run")
    report = info["nodes"]["train"]["report"]
    assert report["stopped"] == "time_budget"
    assert report["train_seconds"] >= 1.8  # 0.03 min on the fake clock (its ticks, not the machine's speed)
    assert report["steps"] < 10000 * 23
    assert info["nodes"]["evaluate"]["report"]["accuracy"] > 0.3
    assert metric_values(events, "val_accuracy"), "the cut-short epoch is still validated"


def test_schedules_shape_the_learning_rate() -> None:
    from engine.training.schedules import lr_factor

    cosine = lr_factor("cosine", 100, 10)
    assert cosine(0) == pytest.approx(1.0) and cosine(50) == pytest.approx(0.5) and cosine(100) == pytest.approx(0)
    step = lr_factor("step", 100, 10, step_epochs=2, gamma=0.5)
    assert [step(s) for s in (0, 19, 20, 40)] == [1.0, 1.0, 0.5, 0.25]
    one = lr_factor("one_cycle", 100, 10)
    peak = max(range(100), key=one)
    assert one(0) == pytest.approx(1 / 25) and 25 <= peak <= 31 and one(99) < 0.01
    assert lr_factor("constant", 100, 10)(77) == 1.0


def test_every_training_option_together_still_learns(tmp_path: Path) -> None:
    train = {"epochs": 2, "batch_size": 64, "lr": 0.01, "optimizer": "sgd", "schedule": "step", "step_epochs": 1,
             "label_smoothing": 0.1, "class_weights": "balanced", "grad_clip": 1.0, "adversarial_eps": 0.05,
             "weight_decay": 1e-4, "monitor": "val_f1"}
    info, events = run(digits_flow(MLP, train, evaluate={"mistakes": 4, "fgsm_eps": "0.05,0.2"}), tmp_path / "run")
    losses = [v for _, v in metric_values(events, "train_loss")]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    robust = info["nodes"]["evaluate"]["report"]["robustness_fgsm"]
    assert set(robust) == {"0", "0.05", "0.2"} and robust["0.2"] <= robust["0"]


def test_kfold_reports_mean_and_std_of_every_metric(tmp_path: Path) -> None:
    wf = digits_flow(MLP, {"epochs": 2, "batch_size": 64, "kfold": 3}, evaluate={"mistakes": 0})
    info, events = run(wf, tmp_path / "run")
    train = info["nodes"]["train"]["report"]
    assert train["kfold"] == 3 and len(train["folds"]) == 3
    for key in ("accuracy", "f1_macro", "precision_macro", "recall_macro", "loss"):
        stats = train["val_mean_std"][key]
        assert stats["std"] >= 0 and 0 <= stats["mean"] <= (10 if key == "loss" else 1)
    evaluated = info["nodes"]["evaluate"]["report"]["kfold"]
    assert evaluated["k"] == 3 and 0.5 < evaluated["accuracy"]["mean"] <= 1
    assert set(evaluated["per_class"]["7"]) == {"precision", "recall", "f1"}
    assert {e.name.split("/")[0] for e in events if isinstance(e, ev.MetricPoint) and "/" in e.name} == {
        "fold1", "fold2", "fold3"}


def test_stop_then_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path: Path) -> None:
    import torch

    train = {"epochs": 2, "batch_size": 128, "lr": 0.01, "schedule": "cosine", "patience": 5}
    wf = digits_flow(MLP, train)
    run(wf, tmp_path / "straight")

    engine = Engine(disk_cache=False)
    holder: dict = {}

    def stop_midway(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and e.name == "train_loss" and e.step == 15:
            holder["handle"].stop()

    holder["handle"] = engine.start(wf, out_dir=tmp_path / "cut", device="cpu", on_event=stop_midway)
    assert holder["handle"].wait().status == "stopped"
    resumed = engine.start(wf, device="cpu", resume_from=tmp_path / "cut").wait()
    assert resumed.status == "succeeded", resumed.message

    def final(run_dir: Path) -> dict:
        return torch.load(run_dir / "train" / "checkpoints" / "last.pt", weights_only=True)

    a, b = final(tmp_path / "straight"), final(tmp_path / "cut")
    assert a["position"] == b["position"]
    for name, tensor in a["model"].items():
        assert torch.allclose(tensor, b["model"][name], atol=1e-6), name
    steps = [int(line.split(",")[0]) for line in (tmp_path / "cut" / "metrics.csv").read_text().splitlines()[1:]
             if ",train_loss," in line]
    assert steps == sorted(set(steps)) and len(steps) == 2 * 12, "curves continue without repeats or gaps"


def test_augmentation_reaches_the_training_batches_only(tmp_path: Path) -> None:
    def flow(augment: bool) -> Workflow:
        wf = digits_flow(MLP, {"epochs": 1, "batch_size": 128}, evaluate={"split": "val", "mistakes": 0})
        if augment:
            data = wf.to_json()
            data["nodes"].append({"id": "augment", "type": "augment",
                                  "params": {"hflip": False, "rotate": 15.0, "translate": 0.1}})
            for link in data["links"]:
                if link["source"] == "prep.data" and link["target"] == "train.data":
                    link["source"] = "augment.data"
            data["links"].append({"source": "prep.data", "target": "augment.data"})
            wf = Workflow.from_json(data)
        return wf

    plain_info, plain = run(flow(False), tmp_path / "plain")
    aug_info, aug = run(flow(True), tmp_path / "aug")
    first = lambda events: metric_values(events, "train_loss")[0][1]  # noqa: E731
    assert first(plain) != pytest.approx(first(aug), abs=1e-6), "the first batch was not augmented"
    assert all(math.isfinite(v) for _, v in metric_values(aug, "train_loss"))
    assert aug_info["nodes"]["evaluate"]["report"]["samples"] == plain_info["nodes"]["evaluate"]["report"]["samples"]


def test_a_classifier_that_learns_nothing_says_so_in_the_log_and_report(tmp_path: Path) -> None:
    wf = digits_flow(MLP, {"epochs": 1, "batch_size": 64, "lr": 1e-7})  # far too small a step to learn anything
    info, events = run(wf, tmp_path / "run")
    report = info["nodes"]["train"]["report"]
    assert report["at_chance"] is True
    warnings = [e.message for e in events if isinstance(e, ev.LogLine) and e.level == "warning"]
    assert any("no better than always answering the most common class" in w for w in warnings)
    learned, _ = run(digits_flow(MLP, {"epochs": 2, "batch_size": 64}), tmp_path / "ok")
    assert "at_chance" not in learned["nodes"]["train"]["report"]


def test_resuming_a_finished_classifier_with_more_epochs_says_it_cannot_train_further(tmp_path: Path) -> None:
    wf = digits_flow(MLP, {"epochs": 1, "batch_size": 128})
    run(wf, tmp_path / "run")
    wf.node("train").params["epochs"] = 3
    events: list[ev.Event] = []
    result = Engine(disk_cache=False).run(wf, resume_from=tmp_path / "run", device="cpu", on_event=events.append)
    assert result.status == "succeeded", result.message
    warnings = [e.message for e in events if isinstance(e, ev.LogLine) and e.level == "warning"]
    assert any("cannot train further" in w and "start a fresh run" in w for w in warnings)
