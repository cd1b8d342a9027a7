"""Kinds of data are declared once: a new kind needs no engine edit, and every kind predicts from files."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from engine.export.load import load_export, predict
from engine.runner import Engine
from engine.workflow import Workflow
from tests import toy_sequences

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ("import sys; sys.path.insert(0, '.'); import tests.toy_sequences; from engine.cli import main; "
          "sys.exit(main(sys.argv[1:]))")


def classify_and_export(data: dict) -> Workflow:
    return Workflow.from_json({
        "schema": 1, "name": "kinds",
        "nodes": [{"id": "data", **data},
                  {"id": "model", "type": "mlp", "params": {"hidden": "32"}},
                  {"id": "train", "type": "train", "params": {"epochs": 15, "batch_size": 32, "lr": 0.01}},
                  {"id": "evaluate", "type": "evaluate", "params": {"split": "test"}},
                  {"id": "export", "type": "export", "params": {"onnx": False}}],
        "links": [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"},
                  {"source": "train.model", "target": "evaluate.model"},
                  {"source": "data.data", "target": "evaluate.data"},
                  {"source": "train.model", "target": "export.model"},
                  {"source": "evaluate.metrics", "target": "export.metrics"}],
    })


def test_a_kind_declared_in_test_code_trains_evaluates_exports_and_predicts_in_a_fresh_process(tmp_path):
    run = tmp_path / "run"
    result = Engine(disk_cache=True).run(classify_and_export({"type": "toy_sequences"}), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    card = load_export(run).card
    assert card["input_kind"] == "sequences" and card["input"]["length"] == 24 and card["input_shape"] == [24]

    waves = tmp_path / "waves.txt"
    waves.write_text("\n".join(",".join(f"{v:.4f}" for v in toy_sequences.wave(k, 0.3, 24)) for k in range(3)))
    out = tmp_path / "preds.csv"
    proc = subprocess.run([sys.executable, "-c", DRIVER, "predict", str(run), str(waves), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["prediction"] for r in rows] == ["sine", "square", "ramp"]
    here, _ = predict(load_export(run), [str(waves)])
    assert [r["confidence"] for r in here] == [float(r["confidence"]) for r in rows]
    # The disk cache stores the new kind and reads it back on the next run.
    again = Engine(disk_cache=True).run(classify_and_export({"type": "toy_sequences"}), out_dir=tmp_path / "again",
                                        device="cpu")
    assert again.status == "succeeded" and again.node_states["data"] == "cached"


def test_a_table_model_predicts_the_rows_of_a_csv_file(tmp_path):
    table = tmp_path / "flowers.csv"
    rows = [(f"{(i % 3) * 2 + 0.1 * (i % 7):.2f}", ["red", "blue", "green"][i % 3], ["a", "b", "c"][i % 3])
            for i in range(150)]
    table.write_text("size,colour,kind\n" + "".join(f"{s},{c},{k}\n" for s, c, k in rows))
    run = tmp_path / "run"
    flow = classify_and_export({"type": "csv_table", "params": {"path": str(table), "target": "kind"}})
    result = Engine(disk_cache=False).run(flow, out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    new = tmp_path / "new.csv"
    new.write_text("colour,size\nblue,2.3\nred,0.2\ngreen,4.1\n")  # other column order, no target
    predictions, skipped = predict(load_export(run), [str(new)])
    assert [p["prediction"] for p in predictions] == ["b", "a", "c"] and not skipped
    assert predictions[0]["row"] == f"{new}:row 2"
    missing = tmp_path / "missing.csv"
    missing.write_text("size\n1.0\n")
    from engine.errors import UserInputError

    with pytest.raises(UserInputError, match="lacks column"):
        predict(load_export(run), [str(missing)])
