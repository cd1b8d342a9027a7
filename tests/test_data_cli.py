"""Bad data given to `loom run` ends with exit 2 and one clear line — never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import EXAMPLES, ROOT
from tests.test_data_helpers import good_images, separable_csv


def loom_run(flow, tmp_path, *sets: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "engine.cli", "run", str(flow), "--out", str(tmp_path / "run"), "-q"]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=ROOT, env=os.environ.copy())


def failure_lines(proc: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in proc.stderr + proc.stdout
    return [line for line in proc.stderr.splitlines() if line.strip()]


def test_an_empty_folder_exits_2_saying_it_holds_no_images(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = loom_run(EXAMPLES / "classify_folder.json", tmp_path, f"data.path={tmp_path / 'empty'}")
    assert proc.returncode == 2
    lines = failure_lines(proc)
    assert len(lines) == 1
    assert "holds no images" in lines[0] and str(tmp_path / "empty") in lines[0]


def test_a_single_class_folder_given_to_a_classifier_exits_2(tmp_path):
    good_images(tmp_path / "one", classes=("cats",), per_class=6)
    proc = loom_run(
        EXAMPLES / "classify_folder.json", tmp_path, f"data.path={tmp_path / 'one'}", "data.size=8", "train.epochs=1"
    )
    assert proc.returncode == 2
    lines = failure_lines(proc)
    assert len(lines) == 1
    assert "1 class" in lines[0] and "at least 2" in lines[0]


def test_a_csv_without_the_target_column_exits_2_naming_the_columns(tmp_path):
    separable_csv(tmp_path / "t.csv", rows=20)
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({
        "schema": 1, "name": "table",
        "nodes": [
            {"id": "data", "type": "csv_table", "params": {"path": str(tmp_path / "t.csv"), "target": "purchased"}},
            {"id": "model", "type": "mlp", "params": {}},
            {"id": "train", "type": "train", "params": {"epochs": 1}},
        ],
        "links": [
            {"source": "data.data", "target": "train.data"},
            {"source": "model.model", "target": "train.model"},
        ],
    }))
    proc = loom_run(flow, tmp_path)
    assert proc.returncode == 2
    lines = failure_lines(proc)
    assert len(lines) == 1
    assert "no column 'purchased'" in lines[0] and "bought" in lines[0]
