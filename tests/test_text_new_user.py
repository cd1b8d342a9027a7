"""What a new user ran into with text, each now answered in words: a CSV for a model trained on folders or
built-in texts, `predict` on a language model, a missing pretrained folder, limits of `generate`, characters
a model never saw, an empty file, a spent time budget on resume, loose files in a class folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.runner import Engine
from engine.workflow import Workflow
from tests.fakes import deterministic_torch  # noqa: F401 (a fixture)
from tests.hardening_support import assert_refused, loom
from tests.text_lm_support import lm_flow

pytestmark = pytest.mark.usefixtures("deterministic_torch")


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier trained from a folder of .txt files: its texts came with no column name."""
    base = tmp_path_factory.mktemp("cls")
    for label, words in (("pets", "cat dog fur paw purr bark"), ("food", "bread soup salt rice bake stew")):
        (base / "texts" / label).mkdir(parents=True)
        for i in range(20):
            (base / "texts" / label / f"{i}.txt").write_text(" ".join(words.split()[i % 3:]) + f" {i}",
                                                               encoding="utf-8")
    flow = Workflow.from_json({"schema": 1, "name": "folder texts", "nodes": [
        {"id": "data", "type": "text_folder", "params": {"path": str(base / "texts")}},
        {"id": "tokenize", "type": "tokenize", "params": {"method": "char", "max_len": 32}},
        {"id": "model", "type": "gru", "params": {"embed": 8, "width": 8}},
        {"id": "train", "type": "train", "params": {"epochs": 1, "batch_size": 8}},
        {"id": "export", "type": "export", "params": {}}],
        "links": [{"source": "data.data", "target": "tokenize.data"}, {"source": "tokenize.data", "target": "train.data"},
                  {"source": "model.model", "target": "train.model"}, {"source": "train.model", "target": "export.model"}]})
    out = base / "run"
    assert Engine(disk_cache=False).run(flow, out_dir=out, device="cpu").status == "succeeded"
    return out


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lm") / "run"
    assert Engine(disk_cache=False).run(lm_flow("gru_lm", epochs=1), out_dir=out, device="cpu").status == "succeeded"
    return out


def test_a_csv_with_a_text_column_is_read_by_a_model_trained_without_column_names(classifier_run, tmp_path, capsys):
    table = tmp_path / "new.csv"
    table.write_text("id,text\n1,the cat sat on the mat\n2,a dog ran in the park\n", encoding="utf-8")
    done = loom(capsys, "predict", classifier_run, table, "--out", tmp_path / "preds.csv")
    assert done.code == 0, done.err
    assert len((tmp_path / "preds.csv").read_text().splitlines()) == 3  # a header and two rows

    other = tmp_path / "other.csv"
    other.write_text("id,body\n1,the cat sat\n", encoding="utf-8")
    assert_refused(loom(capsys, "predict", classifier_run, other), "other.csv", "call the column with the texts 'text'",
                   "id, body")


def test_an_empty_text_file_is_skipped_with_its_reason_not_classified(classifier_run, tmp_path, capsys):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("the cat sat on the mat", encoding="utf-8")
    (folder / "empty.txt").write_text("  \n", encoding="utf-8")
    done = loom(capsys, "predict", classifier_run, folder, "--out", tmp_path / "preds.csv")
    assert done.code == 0, done.err
    rows = (tmp_path / "preds.csv").read_text().splitlines()
    assert len(rows) == 2 and "a.txt" in rows[1]
    assert "empty.txt: empty" in done.err


def test_predict_on_a_language_model_points_to_generate(lm_run, capsys):
    assert_refused(loom(capsys, "predict", lm_run, "--text", "hello"), "loom generate", "--prompt")


def test_generate_takes_the_limits_the_generate_text_step_declares(lm_run, capsys):
    from engine.steps.registry import get_step

    most = get_step("generate_text").param("n").maximum
    assert_refused(loom(capsys, "generate", lm_run, "--prompt", "the", "--n", int(most) + 1),
                   f"--n {int(most) + 1}", f"between 1 and {int(most)}")


def test_a_prompt_with_characters_the_model_never_saw_says_so(lm_run, capsys):
    done = loom(capsys, "generate", lm_run, "--prompt", "the Ω cat ☃", "--n", "1", "--max-tokens", "5")
    assert done.code == 0, done.err
    assert "never saw" in done.err and "'Ω'" in done.err and "'☃'" in done.err
    quiet = loom(capsys, "generate", lm_run, "--prompt", "the cat", "--n", "1", "--max-tokens", "5")
    assert quiet.code == 0 and "never saw" not in quiet.err


def test_a_missing_pretrained_folder_is_named_as_the_users_own_not_a_stock_model(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_MODELS_DIR", str(tmp_path / "models"))
    from engine.models.text_hub import model_problem

    missing = tmp_path / "my_bert"
    problem = model_problem(str(missing))
    assert problem.startswith(f"{missing}: no such folder")
    assert f"copy the model's folder (config.json, model.safetensors, tokenizer.json) to {missing}" in problem


def test_resuming_with_a_time_budget_already_used_says_so(tmp_path):
    out = tmp_path / "run"
    flow = lm_flow("gru_lm", epochs=1)
    assert Engine(disk_cache=False).run(flow, out_dir=out, device="cpu").status == "succeeded"
    # pretend the first run trained for an hour, then ask for more epochs within a one-minute budget
    again = flow.copy()
    again.node("train").params.update(epochs=3, time_budget=1.0)
    import torch

    ckpt_path = out / "train" / "checkpoints" / "last.pt"
    ckpt = torch.load(ckpt_path, weights_only=True)
    ckpt["elapsed"], ckpt["finished"] = 3600.0, False
    torch.save(ckpt, ckpt_path)
    assert Engine(disk_cache=False).run(again, resume_from=out, device="cpu").status == "succeeded"
    log = (out / "log.txt").read_text(encoding="utf-8")
    assert "the time budget of 1 min was already used before this resume (60.0 min of training)" in log


def test_loose_texts_beside_class_folders_are_counted_as_such(tmp_path):
    from gui.wizards.text_scan import scan_text_folder

    for i in range(3):
        (tmp_path / f"note_{i}.txt").write_text("hello there", encoding="utf-8")
    scan = scan_text_folder(tmp_path, labelled=True)
    assert "3 text files lie directly in the folder, outside any class subfolder" in scan.summary()
    assert "other files" not in scan.summary()
    assert "no class subfolders" in scan.problem()


@pytest.mark.parametrize(("node", "params", "why"), [
    ({"id": "data", "type": "text_csv", "params": {"path": "x.csv", "label": ""}}, {}, "its label column is empty"),
    ({"id": "data", "type": "text_folder", "params": {"path": "texts", "layout": "flat"}}, {}, "layout flat"),
    ({"id": "data", "type": "text_builtin", "params": {"dataset": "python_docs"}}, {}, "the python_docs corpus"),
])
def test_a_classifier_fed_texts_without_classes_is_refused_at_validation(node, params, why):
    from engine.validation import validate

    flow = Workflow.from_json({"schema": 1, "name": "corpus into a classifier", "nodes": [
        node, {"id": "tokenize", "type": "tokenize", "params": {}}, {"id": "model", "type": "gru", "params": {}},
        {"id": "train", "type": "train", "params": {}}],
        "links": [{"source": "data.data", "target": "tokenize.data"}, {"source": "tokenize.data", "target": "train.data"},
                  {"source": "model.model", "target": "train.model"}]})
    problems = [str(p) for p in validate(flow)]
    assert any(why in p and "a classifier learns classes" in p and p.startswith("node 'train'") for p in problems), \
        problems


def test_a_failure_is_said_once_on_the_terminal_not_once_per_event():
    import io

    from engine import events as ev
    from engine.cli.run import ProgressPrinter
    from engine.names import NodeStatus

    out = io.StringIO()
    printer = ProgressPrinter(out, quiet=False)
    why = "node 'train': the dataset 'good' has no labels — a classifier needs a class per sample"
    printer(ev.NodeState(node_id="train", state=NodeStatus.FAILED, message=why))
    printer(ev.LogLine(level="error", message=why, node_id="train"))
    printer(ev.LogLine(level="error", message="something else went wrong", node_id="train"))
    assert out.getvalue().count(why) == 1
    assert "something else went wrong" in out.getvalue()


def test_loom_runs_and_compare_show_a_language_models_perplexity(lm_run):
    from engine.cli.runs import headline
    from engine.compare import report_scores
    from engine.store import read_run

    reports = {node_id: node.get("report", {}) for node_id, node in read_run(lm_run)["nodes"].items()}
    assert headline(reports).startswith("train.val_perplexity ")
    assert "train.val_perplexity" in report_scores(reports)


def test_a_csv_whose_text_column_is_empty_is_refused_naming_that_column(tmp_path):
    from gui.wizards.text_scan import scan_text_table

    table = tmp_path / "empty.csv"
    table.write_text("body,label\n" + "".join(f",{'pos' if i % 2 else 'neg'}\n" for i in range(20)), encoding="utf-8")
    problem = scan_text_table(table).problem([], "label")
    assert "'body' are empty in every row" in problem and "('label')" in problem


def test_the_folder_page_names_files_the_run_will_skip_before_training(tmp_path):
    from gui.wizards.text_scan import scan_text_folder

    for label in ("pos", "neg"):
        (tmp_path / label).mkdir()
        for i in range(6):
            (tmp_path / label / f"{i}.txt").write_text(f"a {label} text number {i}", encoding="utf-8")
    (tmp_path / "pos" / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "neg" / "wide.txt").write_bytes("hello there, this is UTF-16".encode("utf-16-le"))
    (tmp_path / "neg" / "long.txt").write_text("word " * 300_000, encoding="utf-8")
    summary = scan_text_folder(tmp_path, labelled=True).summary()
    assert "2 text file(s) will be skipped" in summary
    assert "photo.txt (not text)" in summary and "wide.txt (UTF-16 without a byte-order mark)" in summary
    assert "1 very long file(s) may be cut" in summary and "long.txt" in summary


def test_a_cached_data_step_still_says_what_it_warned_about(tmp_path):
    table = tmp_path / "latin1.csv"
    rows = "".join(f"caf\xe9 num\xe9ro {i} tr\xe8s bien,{'a' if i % 2 else 'b'}\n" for i in range(40))
    table.write_bytes(("text,label\n" + rows).encode("cp1252"))
    flow = Workflow.from_json({"schema": 1, "name": "latin-1", "nodes": [
        {"id": "data", "type": "text_csv", "params": {"path": str(table)}}], "links": []})
    engine = Engine(cache_dir=tmp_path / "cache")
    assert engine.run(flow, out_dir=tmp_path / "first", device="cpu").status == "succeeded"
    assert engine.run(flow, out_dir=tmp_path / "second", device="cpu").status == "succeeded"
    first = (tmp_path / "first" / "log.txt").read_text(encoding="utf-8")
    second = (tmp_path / "second" / "log.txt").read_text(encoding="utf-8")
    assert "Windows-1252" in first
    assert "cached" in second and "(when it was computed)" in second and "Windows-1252" in second


def test_the_classify_text_wizard_keeps_max_len_within_what_a_small_pretrained_model_reads(tmp_path):
    import json

    from gui.wizards.text_recipes import TextClassifyChoices, text_classify_workflow
    from tests.toy_texts import tiny_bert_folder

    folder = tiny_bert_folder(tmp_path / "tiny-bert")
    limit = json.loads((folder / "config.json").read_text())["max_position_embeddings"]
    wf = text_classify_workflow(TextClassifyChoices(preset="pretrained", model_folder=str(folder)))
    assert wf.node("tokenize").params["max_len"] == min(128, limit)
