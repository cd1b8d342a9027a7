"""Evaluation: the numbers in run.json, the confusion matrix (event, PNG, CSV) and the mistakes grid."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from engine import Engine, Workflow
from engine import events as ev


def test_classification_report_on_known_predictions() -> None:
    from engine.training.metrics import classification_report, macro_f1

    true = torch.tensor([0, 0, 0, 1, 1, 2])
    pred = torch.tensor([0, 0, 1, 1, 1, 0])
    rep = classification_report(true, pred, ["a", "b", "c"])
    assert rep["accuracy"] == pytest.approx(4 / 6)
    assert rep["per_class"]["a"] == {"precision": pytest.approx(2 / 3), "recall": pytest.approx(2 / 3),
                                     "f1": pytest.approx(2 / 3), "support": 3}
    assert rep["per_class"]["b"]["precision"] == pytest.approx(2 / 3) and rep["per_class"]["b"]["recall"] == 1
    assert rep["per_class"]["c"]["f1"] == 0
    assert rep["f1_macro"] == pytest.approx((2 / 3 + 0.8 + 0) / 3)
    assert macro_f1(true, pred, 3) == pytest.approx(rep["f1_macro"])
    assert rep["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_mean_std_over_folds() -> None:
    from engine.training.metrics import mean_std

    reps = [{"accuracy": 0.8, "per_class": {"x": {"precision": 1.0, "recall": 0.5, "f1": 0.6}}},
            {"accuracy": 0.9, "per_class": {"x": {"precision": 0.0, "recall": 0.5, "f1": 0.8}}}]
    out = mean_std(reps)
    assert out["accuracy"]["mean"] == pytest.approx(0.85) and out["accuracy"]["std"] == pytest.approx(0.0707107, abs=1e-6)
    assert out["per_class"]["x"]["recall"] == {"mean": 0.5, "std": 0.0}


def test_evaluate_writes_the_report_confusion_matrix_and_mistakes(tmp_path: Path) -> None:
    wf = Workflow.from_json({"schema": 1, "name": "eval", "nodes": [
        {"id": "data", "type": "digits", "params": {}},
        {"id": "prep", "type": "normalize", "params": {"range": "0..1"}},
        {"id": "model", "type": "mlp", "params": {"hidden": "16"}},
        {"id": "train", "type": "train", "params": {"epochs": 1, "batch_size": 64}},
        {"id": "evaluate", "type": "evaluate", "params": {"split": "test", "mistakes": 8}},
    ], "links": [{"source": s, "target": t} for s, t in [
        ("data.data", "prep.data"), ("prep.data", "train.data"), ("model.model", "train.model"),
        ("train.model", "evaluate.model"), ("prep.data", "evaluate.data")]]})
    events: list[ev.Event] = []
    out = tmp_path / "run"
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu", on_event=events.append)
    assert result.status == "succeeded", result.message
    report = json.loads((out / "run.json").read_text())["nodes"]["evaluate"]["report"]
    assert set(report["per_class"]) == {str(i) for i in range(10)}
    assert all(0 <= c["f1"] <= 1 for c in report["per_class"].values())
    assert report["samples"] == sum(c["support"] for c in report["per_class"].values())
    # the confusion matrix: an image event with a saved PNG, and a CSV that matches run.json
    shown = [e for e in events if isinstance(e, ev.ImageReady) and e.name == "confusion_matrix"]
    assert shown and shown[0].pixels.ndim == 3 and shown[0].pixels.dtype.name == "uint8"
    assert Path(shown[0].path) == out / "evaluate" / "confusion_matrix.png"
    assert (out / "evaluate" / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.reader((out / "evaluate" / "confusion_matrix.csv").open()))
    assert rows[0][1:] == [str(i) for i in range(10)]
    assert [[int(v) for v in r[1:]] for r in rows[1:]] == report["confusion_matrix"]
    # the most confident mistakes, when there are any
    wrong = report["samples"] - sum(report["confusion_matrix"][i][i] for i in range(10))
    assert report["mistakes_shown"] == min(8, wrong)
    if wrong:
        assert (out / "evaluate" / "mistakes.png").exists()
    points = {e.name: e.value for e in events if isinstance(e, ev.MetricPoint) and e.node_id == "evaluate"}
    assert points["test_accuracy"] == pytest.approx(report["accuracy"])


def test_bad_fgsm_epsilons_are_a_clear_input_error() -> None:
    from engine.errors import UserInputError
    from engine.training.evaluation import parse_epsilons

    assert parse_epsilons("0.1, 0.05", "x") == [0.0, 0.05, 0.1]
    assert parse_epsilons("", "x") == []
    with pytest.raises(UserInputError, match="node 'evaluate'"):
        parse_epsilons("0.1,lots", "node 'evaluate', param 'fgsm_eps'")
