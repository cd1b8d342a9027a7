"""pretrained_text: a Hugging Face encoder from a local folder, fine-tuned, exported and predicted without the folder."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.export.load import load_export, predict
from engine.models import ModelSpec, build_model
from engine.runner import Engine
from engine.store import read_run
from engine.validation import validate
from engine.workflow import Workflow
from tests.fakes import deterministic_torch  # noqa: F401
from tests.text_flows import classify_texts
from tests.toy_texts import text_dataset, tiny_bert_folder

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ("import sys; sys.path.insert(0, '.'); import tests.toy_texts; from engine.cli import main; "
          "sys.exit(main(sys.argv[1:]))")
TEXTS = ["The striker scored a goal in the match.", "Simmer the garlic sauce in the oven.",
         "My laptop compiler ran out of memory."]

pytestmark = pytest.mark.usefixtures("deterministic_torch")


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bert_folder(tmp_path_factory.mktemp("models") / "tiny-bert")


def fine_tune(folder: Path, **model: object) -> Workflow:
    return classify_texts("pretrained_text", {"model": str(folder), **model},
                          data={"method": "pretrained", "folder": str(folder), "max_len": 32},
                          epochs=3, batch_size=16, lr=0.003, optimizer="adamw")


def test_a_tiny_bert_fine_tunes_exports_and_predicts_the_same_in_a_fresh_process_without_its_folder(tmp_path, bert):
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(fine_tune(bert), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    log = (run / "log.txt").read_text()
    assert "39 of 39 backbone tensors loaded" in log  # every pretrained tensor; the head starts fresh
    assert read_run(run)["nodes"]["evaluate"]["report"]["accuracy"] > 0.5  # three topics: chance is 1/3
    card = json.loads((run / "export" / "model_card.json").read_text())
    assert card["architecture"] == "pretrained_text" and card["params"]["config"]["model_type"] == "bert"
    assert card["input"]["tokenizer_method"] == "pretrained" and card["files"]["tokenizer"] == "tokenizer.json"
    assert card["checks"]["onnx_max_abs_diff"] < 1e-4
    here, _ = predict(load_export(run), [], options={"texts": TEXTS})

    moved = tmp_path / "elsewhere"
    shutil.move(str(bert), moved)  # the model folder is gone: the export alone must do
    try:
        out = tmp_path / "preds.csv"
        args = ["predict", str(run)] + [a for t in TEXTS for a in ("--text", t)] + ["--out", str(out)]
        proc = subprocess.run([sys.executable, "-c", DRIVER, *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=300)
    finally:
        shutil.move(str(moved), bert)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["input"] for r in rows] == TEXTS
    assert [r["prediction"] for r in rows] == [r["prediction"] for r in here]
    for theirs, ours in zip(rows, here, strict=True):
        assert abs(float(theirs["confidence"]) - ours["confidence"]) < 1e-5


def trainable(model: torch.nn.Module) -> set[str]:
    return {name for name, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize(("freeze", "expect"), [
    ("none", lambda names: any("embeddings" in n for n in names)),
    ("backbone", lambda names: names and all("classifier" in n for n in names)),
    ("last_n", lambda names: any("layer.1." in n for n in names) and not any("layer.0." in n for n in names)),
])
def test_freezing_keeps_all_none_or_all_but_the_last_layers_still(bert, freeze, expect):
    from engine.context import RunControl, StepContext
    from engine.events import EventBus
    from engine.models.text_hub import read_config
    from engine.models.text_pretrained import PretrainedWeights
    from engine.models.weights import prepare_model

    params = {"model": str(bert), "freeze": freeze, "train_blocks": 1, "config": read_config(bert)}
    spec = ModelSpec("pretrained_text", params, source=PretrainedWeights(bert))
    facts = {"input_shape": (32,), "num_classes": 3, "vocab_size": 40, "pad_id": 0}
    model = build_model(spec, facts)
    ctx = StepContext(node_id="train", params={}, inputs={}, device="cpu", run_dir=None, bus=EventBus(),
                      control=RunControl())
    prepare_model(model, spec, ctx)
    assert expect(trainable(model)), trainable(model)


def test_a_tokenizer_learned_from_the_data_cannot_feed_a_pretrained_model(bert):
    data = text_dataset(method="bpe")
    from engine.models.text_hub import read_config

    facts = {"input_shape": (24,), "num_classes": 3, "vocab_size": 500, "pad_id": data.pad_id}
    with pytest.raises(ValueError, match="set the tokenize step's method to pretrained"):
        build_model(ModelSpec("pretrained_text", {"config": read_config(bert)}), facts)
    too_long = {"input_shape": (128,), "num_classes": 3, "vocab_size": 40, "pad_id": 0}
    with pytest.raises(ValueError, match="max_len to 64 or less"):
        build_model(ModelSpec("pretrained_text", {"config": read_config(bert)}), too_long)


def test_a_missing_model_names_the_folder_to_put_it_in_and_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("LOOM_MODELS_DIR", str(tmp_path / "models"))
    from engine.preflight import preflight

    flow = fine_tune(Path("distilbert-base-uncased"))
    problems = [str(p) for p in preflight(flow)]
    assert len(problems) == 1 and problems[0].startswith("node 'model', param 'model': distilbert-base-uncased")
    assert str(tmp_path / "models" / "distilbert-base-uncased") in problems[0]
    assert "hf download distilbert-base-uncased --local-dir" in problems[0]
    flow.save(tmp_path / "flow.json")
    proc = subprocess.run([sys.executable, "-c", DRIVER, "validate", str(tmp_path / "flow.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("loom: ") == 1 and "hf download" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_model_name_is_found_in_the_hugging_face_cache_and_in_looms_models_folder(tmp_path, monkeypatch, bert):
    from engine.models.text_hub import local_models, resolve

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("LOOM_MODELS_DIR", str(tmp_path / "models"))
    repo = tmp_path / "hf" / "models--someone--tiny-bert"
    shutil.copytree(bert, repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    shutil.copytree(bert, tmp_path / "models" / "mine")
    assert resolve("someone/tiny-bert") == repo / "snapshots" / "abc123"
    assert resolve("mine") == tmp_path / "models" / "mine"
    assert {m.name for m in local_models()} == {"someone/tiny-bert", "mine"}
    assert all(m.model_type == "bert" and m.has_tokenizer for m in local_models())


def test_a_folder_without_weights_or_config_is_refused_before_anything_runs(tmp_path, bert):
    from engine.models.text_hub import model_problem

    partial = tmp_path / "partial"
    partial.mkdir()
    assert "holds no config.json" in model_problem(str(partial))
    shutil.copy(bert / "config.json", partial / "config.json")
    assert "holds no weights" in model_problem(str(partial))
    (partial / "config.json").write_text("{not json")
    assert "cannot be read as JSON" in model_problem(str(partial))


def test_a_tokenizer_learned_from_the_texts_feeding_pretrained_text_is_refused_at_validation(bert):
    flow = fine_tune(bert)
    assert validate(flow) == []
    flow.node("data").params["method"] = "bpe"
    assert [str(p) for p in validate(flow)] == [
        "node 'train', input 'data': 'model' (pretrained_text) reads the token ids of its own model, but 'data' "
        "learns a bpe tokenizer — set its method to pretrained with the same model folder"]


def test_a_max_len_longer_than_the_pretrained_model_reads_is_refused_before_training(bert):
    import json

    from engine.preflight import preflight

    limit = json.loads((bert / "config.json").read_text())["max_position_embeddings"]
    flow = Workflow.from_json({"schema": 1, "name": "too long", "nodes": [
        {"id": "tokenize", "type": "tokenize", "params": {"method": "pretrained", "path": str(bert),
                                                         "max_len": limit + 1}}], "links": []})
    problems = [str(p) for p in preflight(flow)]
    assert problems == [f"node 'tokenize', param 'max_len': max_len {limit + 1} is longer than the model in "
                        f"{bert.name} reads ({limit} tokens) — set max_len to {limit} or less"]
    flow.node("tokenize").params["max_len"] = limit
    assert preflight(flow) == []
