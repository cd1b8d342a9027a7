"""Texts from a CSV (`text_csv`): columns picked by name, cleaning counted, bad tables refused in one line."""

from __future__ import annotations

import os

import pytest
import torch

from engine import Engine, WorkflowInvalid
from engine.errors import UserInputError
from engine.preflight import preflight
from engine.store import read_run
from tests.text_data_support import (
    csv_source,
    flow,
    loom,
    review_rows,
    reviews_csv,
    run_step,
    the_one_line,
    write_csv,
)


def test_title_and_body_columns_are_joined_by_a_blank_line_and_the_label_column_gives_the_classes(tmp_path):
    reviews_csv(tmp_path / "reviews.csv", n=40)
    data, _ = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "reviews.csv"), text_columns="title, body",
                       label="sentiment")
    assert len(data) == 40 and data.classes == ["neg", "pos"]
    assert data.texts[0] == "Review 0\n\na delight from start to finish, says reader 0."
    assert data.labels.tolist() == [1, 0] * 20
    assert data.source == {"text_columns": ["title", "body"]}


def test_empty_texts_and_exact_duplicates_are_dropped_and_counted_in_the_log_and_run_json(tmp_path):
    rows = [*review_rows(20), ("", "   ", "pos"), ("Review 3", "I walked out, says reader 3.", "neg"),
            ("Review 3", "I walked out, says reader 3.", "pos")]  # rows 22-24: an empty text, two copies of row 5
    write_csv(tmp_path / "r.csv", ["title", "body", "sentiment"], rows)
    result = Engine().run(flow(csv_source(tmp_path / "r.csv")), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    report = read_run(tmp_path / "run")["nodes"]["data"]["report"]
    assert (report["texts_read"], report["samples"]) == (23, 20)
    assert (report["empty_texts"], report["empty_text_items"]) == (1, ["row 22"])
    assert report["duplicates"] == 2 and report["duplicates_with_other_label"] == 1
    assert report["duplicate_items"][0] == {"text": "row 23", "same_as": "row 5"}
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "dropped 1 empty text(s) (row 22)" in log
    assert "dropped 2 exact duplicate text(s), 1 of them with another class than the copy kept" in log


def test_the_preview_shows_counts_per_class_and_a_few_example_texts(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=30)
    data, events = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"), text_columns="body",
                            label="sentiment")
    report = events.report
    assert report["counts"] == {"neg": 15, "pos": 15}
    assert {ex["class"] for ex in report["examples"]} == {"neg", "pos"}
    assert all(ex["text"] in data.texts for ex in report["examples"])
    preview = (tmp_path / "run" / "data" / "preview.txt").read_text()
    assert "neg: 15" in preview and report["examples"][0]["text"] in preview


def test_the_split_is_stratified_and_the_same_for_the_same_seed(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=100)
    args = dict(path=str(tmp_path / "r.csv"), label="sentiment", text_columns="body", val=0.2, test=0.1)
    first, _ = run_step("text_csv", tmp_path / "a", seed=1, **args)
    again, _ = run_step("text_csv", tmp_path / "b", seed=1, **args)
    other, _ = run_step("text_csv", tmp_path / "c", seed=2, **args)
    sizes = {name: len(first.split(name)) for name in ("train", "val", "test")}
    assert sizes == {"train": 70, "val": 20, "test": 10}
    assert torch.bincount(first.labels[first.split("val")]).tolist() == [10, 10]
    assert all(torch.equal(first.split(s), again.split(s)) for s in ("train", "val", "test"))
    assert not torch.equal(first.split("val"), other.split("val"))


def test_an_empty_label_reads_the_texts_unlabelled_for_a_language_model(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=20)
    data, events = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"), text_columns="body",
                            label="")
    assert data.labels is None and data.classes == [] and len(data) == 20
    assert events.report["counts"] == {"(unlabelled)": 20}
    assert sum(len(data.split(s)) for s in ("train", "val", "test")) == 20


def test_rows_without_a_class_are_dropped_and_counted(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "label"], [("good", "pos"), ("bad", "neg"), ("meh", ""), ("ok", "n/a")])
    data, events = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"))
    assert data.texts == ["good", "bad"] and events.report["missing_labels"] == 2
    assert "dropped 2 text(s) without a class (row 4, row 5)" in events.logs("warning")


def test_numeric_classes_sort_as_numbers(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "stars"], [(f"text {i}", str(s)) for i, s in enumerate([10, 2, 1] * 4)])
    data, _ = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"), label="stars")
    assert data.classes == ["1", "2", "10"]


def test_an_overlong_text_is_cut_to_max_chars_and_counted(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "label"], [("x" * 5000, "a"), ("short", "b"), ("y" * 300, "a")])
    data, events = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"), max_chars=200)
    assert [len(t) for t in data.texts] == [200, 5, 200]
    assert (events.report["truncated"], events.report["truncated_items"]) == (2, ["row 2", "row 4"])
    assert any("cut 2 text(s) longer than 200 characters" in line for line in events.logs("warning"))


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "cp1252"])
def test_excel_exports_in_other_encodings_are_read_with_the_encoding_in_the_report(tmp_path, codec):
    rows = [("très bon café", "pos"), ("crème brûlée ratée", "neg")] * 5
    write_csv(tmp_path / "r.csv", ["text", "label"], [(f"{t} {i}", c) for i, (t, c) in enumerate(rows)], codec)
    data, events = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"))
    assert data.texts[0] == "très bon café 0"
    assert events.report["encoding"] == {"utf-8-sig": "utf-8 (BOM)", "utf-16": "utf-16", "cp1252": "cp1252"}[codec]
    assert any("not UTF-8" in line for line in events.logs("warning")) == (codec == "cp1252")


def refusal(path, **params) -> str:
    """The one problem the preflight finds, as `loom validate` prints it after the node id."""
    [problem] = preflight(flow(csv_source(path, **params)))
    assert problem.node_id == "data"
    return f"{problem.field}: {problem.message}"


def test_a_text_column_that_is_not_there_is_named_with_the_columns_there_are(tmp_path):
    reviews_csv(tmp_path / "r.csv")
    assert refusal(tmp_path / "r.csv", text_columns="title,review") == (
        "param 'text_columns': r.csv has no column 'review' (columns: title, body, sentiment) — name the column(s) "
        "that hold the texts")


def test_a_misspelt_label_column_gets_a_suggestion_and_the_unlabelled_way_out(tmp_path):
    reviews_csv(tmp_path / "r.csv")
    message = refusal(tmp_path / "r.csv", label="sentimnt")
    assert message.startswith("param 'label': r.csv has no column 'sentimnt' — did you mean 'sentiment'?")
    assert message.endswith("or clear label to read the texts unlabelled (for a language model)")


def test_a_text_column_empty_in_every_row_is_refused(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "label"], [("", "a"), ("  ", "b"), ("", "a")])
    assert refusal(tmp_path / "r.csv", text_columns="text", label="label") == (
        "param 'text_columns': the text column(s) 'text' of r.csv are empty in every row — name the column(s) that "
        "hold the texts (columns: text, label)")


def test_a_label_column_with_a_single_class_is_refused_before_anything_runs(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "label"], [(f"text {i}", "spam") for i in range(10)])
    with pytest.raises(WorkflowInvalid) as refused:
        Engine().run(flow(csv_source(tmp_path / "r.csv", text_columns="text", label="label")), out_dir=tmp_path / "run")
    [problem] = refused.value.problems
    assert problem.field == "param 'label'"
    assert "only 1 class ('spam') — a classifier needs at least 2" in problem.message
    assert not (tmp_path / "run").exists()


def test_a_single_class_left_after_cleaning_is_refused_when_the_node_runs(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "label"], [("", "ham")] + [(f"text {i}", "spam") for i in range(5)])
    with pytest.raises(UserInputError) as refused:
        run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"))
    assert str(refused.value).startswith("node 'data', param 'label': after cleaning, the label column 'label' of "
                                         "r.csv gives only 1 class ('spam')")


def test_a_label_column_of_ids_is_refused_as_not_classes(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "id"], [(f"text {i}", f"id{i}") for i in range(60)])
    with pytest.raises(UserInputError, match="has 60 distinct values for 60 texts — a classifier needs a column of class"):
        run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"), label="id")


def test_the_label_column_cannot_also_be_a_text_column(tmp_path):
    reviews_csv(tmp_path / "r.csv")
    assert "'body' is both a text column and the label column" in refusal(tmp_path / "r.csv", label="body")


def test_val_and_test_that_leave_nothing_to_train_on_are_refused_as_you_type(tmp_path):
    from engine.validation import validate

    reviews_csv(tmp_path / "r.csv")
    [problem] = validate(flow(csv_source(tmp_path / "r.csv", val=0.5, test=0.5)))
    assert (problem.field, problem.message) == ("param 'test'", "val 0.5 + test 0.5 leave no texts to train on — "
                                                                "keep their sum below 1")


def test_editing_the_csv_in_place_recomputes_the_texts(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["text", "label"], [(f"text {i}", "ab"[i % 2]) for i in range(20)])
    engine, wf = Engine(cache_dir=tmp_path / "cache"), flow(csv_source(path, text_columns="text", label="label"))
    engine.run(wf, out_dir=tmp_path / "r1")
    assert engine.run(wf, out_dir=tmp_path / "r2").node_states["data"] == "cached"
    before = path.stat()
    path.write_bytes(path.read_bytes().replace(b",a\r\n", b",c\r\n"))  # same size, a new class name
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert engine.run(wf, out_dir=tmp_path / "r3").node_states["data"] == "done"
    assert read_run(tmp_path / "r3")["nodes"]["data"]["report"]["classes"] == ["b", "c"]


def test_loom_run_on_a_csv_without_the_named_column_exits_2_with_one_line_naming_node_file_and_column(tmp_path):
    reviews_csv(tmp_path / "r.csv")
    path = tmp_path / "flow.json"
    flow(csv_source(tmp_path / "r.csv", text_columns="review"), tokenize={}).save(path)
    proc = loom("run", str(path), "--out", str(tmp_path / "run"), "-q")
    assert proc.returncode == 2
    assert the_one_line(proc) == ("loom: node 'data', param 'text_columns': r.csv has no column 'review' (columns: "
                                  "title, body, sentiment) — name the column(s) that hold the texts")


def test_loom_run_on_a_binary_file_named_csv_exits_2_naming_it(tmp_path):
    (tmp_path / "r.csv").write_bytes(bytes(range(256)) * 8)
    path = tmp_path / "flow.json"
    flow(csv_source(tmp_path / "r.csv"), tokenize={}).save(path)
    proc = loom("run", str(path), "--out", str(tmp_path / "run"), "-q")
    assert proc.returncode == 2
    assert the_one_line(proc).startswith("loom: node 'data', param 'path': r.csv is not a text CSV file (it looks "
                                         "binary)")


def test_a_cell_holding_a_whole_article_is_read_and_cut_to_max_chars(tmp_path):
    write_csv(tmp_path / "r.csv", ["text", "label"], [("word " * 60_000, "long"), ("short", "brief")])
    assert preflight(flow(csv_source(tmp_path / "r.csv", text_columns="text", label="label"))) == []
    data, events = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"), max_chars=1000)
    assert len(data.texts[0]) == 1000 and events.report["truncated"] == 1
