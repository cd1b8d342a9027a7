"""Built-in texts: real text that ships with Python and PySide6, the same on every machine, read without Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.runner import Engine
from engine.store import read_run
from engine.workflow import Workflow

ROOT = Path(__file__).resolve().parents[1]


def test_ui_languages_is_fifteen_balanced_languages_with_a_fixed_stratified_split_read_without_qt():
    code = ("import sys, collections\n"
            "from engine.data.builtin_text import ui_languages\n"
            "d = ui_languages()\n"
            "print(len(d), len(d.classes), sorted(set(collections.Counter(d.labels.tolist()).values())))\n"
            "print({k: len(v) for k, v in d.splits.items()})\n"
            "print(len(set(d.texts)), [m for m in sys.modules if m.startswith('PySide6.')])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["13500 15 [900]", "{'train': 10800, 'val': 1350, 'test': 1350}", "13500 []"]


def test_python_docs_is_a_corpus_of_paragraphs_with_a_validation_share():
    from engine.data.builtin_text import python_docs

    docs = python_docs()
    assert docs.labels is None and len(docs) > 1000
    train, val = docs.texts_of("train"), docs.texts_of("val")
    assert 0.08 < len(val) / len(docs) < 0.12 and not set(val) & {t for t in train if len(t) >= 80}
    assert sum(len(t) for t in docs.texts) > 300_000 and any("if_stmt" in t for t in docs.texts)


def test_the_builtin_step_reports_its_source_and_counts(tmp_path):
    wf = Workflow.from_json({"schema": 1, "name": "texts", "nodes": [
        {"id": "data", "type": "text_builtin", "params": {"per_class": 20}}], "links": []})
    result = Engine(disk_cache=False).run(wf, out_dir=tmp_path / "run", device="cpu")
    assert result.status == "succeeded", result.message
    report = read_run(tmp_path / "run")["nodes"]["data"]["report"]
    assert report["texts"] == 300 and set(report["counts"].values()) == {20} and "Qt" in report["source"]
