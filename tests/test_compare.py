"""Comparing runs: the settings that differ come first, then the scores; curves overlay; CSV export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from engine import Engine, Workflow
from engine.cli import main as loom
from engine.compare import Comparison
from tests.conftest import EXAMPLES


def classify_run(out: Path, **train: object) -> Path:
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.node("data").params["size"] = 8
    wf.node("train").params.update({"epochs": 2, "batch_size": 128, **train})
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("compare")
    return classify_run(base / "slow", lr=0.0005), classify_run(base / "fast", lr=0.01)


def test_the_changed_setting_leads_the_table_and_the_scores_follow(two_runs):
    comparison = Comparison.of(list(two_runs))
    assert comparison.differing_params == ["train.lr"]
    rows = comparison.rows()
    assert rows[0] == ("changed", "train.lr", ["0.0005", "0.01"])
    fields = [name for _section, name, _values in rows]
    assert {"status", "duration (s)", "evaluate.accuracy", "evaluate.f1_macro", "train.val_accuracy"} <= set(fields)
    accuracy = next(values for _s, name, values in rows if name == "evaluate.accuracy")
    assert all(0.0 < float(v) <= 1.0 for v in accuracy)


def test_curves_overlay_one_series_per_run(two_runs):
    comparison = Comparison.of(list(two_runs))
    assert "train.train_loss" in comparison.metric_names()
    curves = comparison.curves("train.train_loss")
    assert [label for label, _steps, _values in curves] == ["slow", "fast"]
    assert all(len(steps) == len(values) > 0 and steps == sorted(steps) for _l, steps, values in curves)


def test_loom_compare_prints_the_table_and_writes_csv(two_runs, tmp_path, capsys):
    out = tmp_path / "cmp.csv"
    assert loom(["compare", *map(str, two_runs), "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "* train.lr" in text and "evaluate.accuracy" in text
    table = list(csv.reader(io.StringIO(out.read_text())))
    assert table[0] == ["section", "field", "slow", "fast"]
    assert ["changed", "train.lr", "0.0005", "0.01"] in table


def test_comparing_needs_two_real_run_folders(two_runs, tmp_path, capsys):
    assert loom(["compare", str(two_runs[0])]) == 2
    assert "at least two" in capsys.readouterr().err
    assert loom(["compare", str(two_runs[0]), str(tmp_path)]) == 2
    assert "not a Loom run folder" in capsys.readouterr().err


def test_loom_runs_lists_the_indexed_runs_with_a_headline_score(two_runs, capsys):
    import json

    from engine.run_index import RunIndex

    index = RunIndex()
    for run in two_runs:
        index.record(run, json.loads((run / "run.json").read_text()))
    assert loom(["runs"]) == 0
    text = capsys.readouterr().out
    assert "Classify digits (MLP)" in text and "evaluate.accuracy 0." in text
    assert all(str(run.resolve()) in text for run in two_runs)
    assert loom(["runs", "--json", "--limit", "1"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "succeeded" and 0 < row["scores"]["evaluate.accuracy"] <= 1


def test_loom_runs_says_so_when_there_are_none(capsys):
    assert loom(["runs"]) == 0
    assert "no runs yet" in capsys.readouterr().out
