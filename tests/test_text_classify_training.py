"""Training text classifiers with `train`: exact resume after SIGKILL, k-fold, the mistakes with their text, and
what cannot apply to text refused at validation."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from engine.runner import Engine
from engine.store import read_metrics, read_run
from engine.validation import validate
from engine.workflow import Workflow
from tests.fakes import DETERMINISTIC_CLI, deterministic_torch, kill_at_first_checkpoint  # noqa: F401
from tests.text_flows import classify_texts

ROOT = Path(__file__).resolve().parents[1]
# Epoch-end checkpoints at every epoch (not at most every 30 s), so there is one to kill the run after.
DRIVER = DETERMINISTIC_CLI.format(imports="import tests.toy_texts; import engine.training.supervised as s; "
                                          "s.CHECKPOINT_INTERVAL_S = 0.0; ")

pytestmark = pytest.mark.usefixtures("deterministic_torch")


def final_weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)["model"]


def test_sigkill_then_resume_gives_bit_identical_weights_for_a_text_model(tmp_path, monkeypatch):
    import engine.training.supervised as supervised

    monkeypatch.setattr(supervised, "CHECKPOINT_INTERVAL_S", 0.0)
    flow = tmp_path / "flow.json"
    classify_texts("gru", {"layers": 2}, export=False, epochs=30, restore_best=False).save(flow)
    reference = tmp_path / "reference"
    assert Engine(disk_cache=False).run(Workflow.load(flow), out_dir=reference, device="cpu").status == "succeeded"

    killed = tmp_path / "killed"
    kill_at_first_checkpoint(DRIVER, flow, killed)

    assert Engine(disk_cache=False).run(Workflow.load(flow), resume_from=killed, device="cpu").status == "succeeded"
    a, b = final_weights(reference), final_weights(killed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ref = {(r["step"], r["name"]): r["value"] for r in read_metrics(reference)}
    again = {(r["step"], r["name"]): r["value"] for r in read_metrics(killed)}
    assert again == ref


def test_k_fold_cross_validation_of_a_text_model_reports_every_fold_and_scores_each_on_the_test_split(tmp_path):
    run = tmp_path / "run"
    flow = classify_texts("transformer", export=False, epochs=3, kfold=3)
    result = Engine(disk_cache=False).run(flow, out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    nodes = read_run(run)["nodes"]
    assert nodes["train"]["report"]["kfold"] == 3 and len(nodes["train"]["report"]["folds"]) == 3
    assert nodes["evaluate"]["report"]["kfold"]["k"] == 3


def test_the_surest_mistakes_are_listed_with_their_text_in_the_report_and_mistakes_csv(tmp_path):
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(classify_texts("gru", export=False, epochs=1, lr=0.001), out_dir=run,
                                          device="cpu")
    assert result.status == "succeeded", result.message
    report = read_run(run)["nodes"]["evaluate"]["report"]
    mistakes = report["mistakes"]
    wrong = report["samples"] - round(report["accuracy"] * report["samples"])
    assert report["mistakes_shown"] == len(mistakes) == min(16, wrong) > 0
    assert [m["confidence"] for m in mistakes] == sorted((m["confidence"] for m in mistakes), reverse=True)
    assert all(m["true"] != m["predicted"] and m["text"].endswith(".") for m in mistakes)
    rows = list(csv.DictReader((run / "evaluate" / "mistakes.csv").open(encoding="utf-8")))
    assert [r["text"] for r in rows] == [m["text"] for m in mistakes]
    artifacts = {a["kind"] for a in read_run(run)["artifacts"]}
    assert "mistakes_csv" in artifacts


def flow_with(model: str, data: str, **train: object) -> Workflow:
    return Workflow.from_json({
        "schema": 1, "name": "rules",
        "nodes": [{"id": "data", "type": data}, {"id": "split", "type": "split"}, {"id": "model", "type": model},
                  {"id": "train", "type": "train", "params": dict(train)},
                  {"id": "evaluate", "type": "evaluate", "params": {"fgsm_eps": "0.05"}}],
        "links": [{"source": "data.data", "target": "split.data"}, {"source": "split.data", "target": "train.data"},
                  {"source": "model.model", "target": "train.model"},
                  {"source": "train.model", "target": "evaluate.model"},
                  {"source": "split.data", "target": "evaluate.data"}],
    })


def test_what_cannot_apply_to_text_is_refused_at_validation_naming_the_node_and_field():
    problems = [str(p) for p in validate(flow_with("cnn", "toy_texts", adversarial_eps=0.1))]
    assert problems == [
        "node 'train', param 'adversarial_eps': FGSM adversarial training perturbs pixels and does not apply to "
        "text — set it to 0",
        "node 'train', input 'model': 'model' (cnn) cannot read text — use a gru, lstm, transformer or "
        "pretrained_text model",
        "node 'evaluate', param 'fgsm_eps': the FGSM robustness check perturbs pixels and does not apply to text "
        "— leave it empty",
    ]
    assert [str(p) for p in validate(flow_with("gru", "digits"))] == [
        "node 'train', input 'data': 'model' (gru) reads texts as token ids but 'data' gives ImageDataset — feed it "
        "from a tokenize step"]
    assert [str(p) for p in validate(flow_with("transformer", "toy_texts"))][:1] == [
        "node 'evaluate', param 'fgsm_eps': the FGSM robustness check perturbs pixels and does not apply to text "
        "— leave it empty"]


def test_a_transformer_whose_heads_do_not_divide_its_width_is_refused_at_validation():
    flow = flow_with("transformer", "toy_texts")
    flow.node("model").params.update(width=100, heads=3)
    assert "node 'model', param 'heads': 3 heads do not divide width 100" in str(validate(flow)[0])
