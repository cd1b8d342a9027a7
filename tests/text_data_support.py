"""Builders of small text CSVs and folders, and ways to run the text data steps, shared by the text data tests."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine import Workflow
from engine import events as ev
from engine.context import RunControl, StepContext
from engine.steps.registry import get_step
from engine.validation import resolved_params
from tests.conftest import ROOT

POSITIVE = ("a delight from start to finish", "warm, funny and wise", "the best film this year", "I loved every minute",
            "a joy to watch", "beautifully acted and shot", "clever and moving", "worth every penny")
NEGATIVE = ("a dull mess", "two hours I will never get back", "wooden acting and a silly plot", "I walked out",
            "boring from the first scene", "a waste of a good cast", "clumsy and loud", "not worth the ticket")


def review_rows(n: int = 40) -> list[tuple[str, str, str]]:
    """(title, body, sentiment) rows, half positive, all different."""
    rows = []
    for i in range(n):
        pos = i % 2 == 0
        phrases = POSITIVE if pos else NEGATIVE
        rows.append((f"Review {i}", f"{phrases[i % len(phrases)]}, says reader {i}.", "pos" if pos else "neg"))
    return rows


def write_csv(path: Path, header: list[str], rows: list[tuple[Any, ...]] | list[list[Any]],
              encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def reviews_csv(path: Path, n: int = 40) -> Path:
    return write_csv(path, ["title", "body", "sentiment"], review_rows(n))


def write_texts(folder: Path, texts: dict[str, str]) -> Path:
    """Files ``name -> text`` (UTF-8) under ``folder``; names may hold a class folder (``pos/a.txt``)."""
    for name, text in texts.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def review_folder(folder: Path, n: int = 12, classes: tuple[str, ...] = ("neg", "pos")) -> Path:
    """One subfolder per class of distinct short reviews."""
    texts = {}
    for k, cls in enumerate(classes):
        phrases = NEGATIVE if k % 2 == 0 else POSITIVE
        texts.update({f"{cls}/{i:02d}.txt": f"{phrases[i % len(phrases)]} ({cls} review {i})\n" for i in range(n)})
    return write_texts(folder, texts)


def flow(source: dict[str, Any], tokenize: dict[str, Any] | None = None) -> Workflow:
    """A workflow of a text source node ``data`` and, when given, a ``tok`` tokenize node after it."""
    nodes = [{"id": "data", **source}]
    links = []
    if tokenize is not None:
        nodes.append({"id": "tok", "type": "tokenize", "params": tokenize})
        links.append({"source": "data.data", "target": "tok.data"})
    return Workflow.from_json({"schema": 1, "name": "texts", "nodes": nodes, "links": links})


def csv_source(path: Path, **params: Any) -> dict[str, Any]:
    return {"type": "text_csv", "params": {"path": str(path), "text_columns": "title,body", "label": "sentiment",
                                           **params}}


def folder_source(path: Path, **params: Any) -> dict[str, Any]:
    return {"type": "text_folder", "params": {"path": str(path), **params}}


class Events(list):
    """Every event a step emitted, with shortcuts to what tests look at."""

    def logs(self, level: str | None = None) -> list[str]:
        return [e.message for e in self if isinstance(e, ev.LogLine) and (level is None or e.level == level)]

    @property
    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for e in self:
            if isinstance(e, ev.NodeReport):
                out.update(e.report)
        return out


def run_step(step_type: str, run_dir: Path, inputs: dict[str, Any] | None = None, node_id: str = "data",
             **params: Any) -> tuple[Any, Events]:
    """Run one step as the runner would (declared defaults filled in); returns its ``data`` output and events."""
    spec = get_step(step_type)
    assert spec is not None
    bus, seen = ev.EventBus(), Events()
    bus.subscribe(seen.append)
    ctx = StepContext(node_id=node_id, params=resolved_params(spec, params), inputs=dict(inputs or {}),
                      device="cpu", run_dir=run_dir, bus=bus, control=RunControl())
    return spec.run(ctx)["data"], seen


def loom(*args: str) -> subprocess.CompletedProcess:
    """``loom ARGS`` in a fresh process (the test's own cache and index, from conftest's environment)."""
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=os.environ.copy())


def the_one_line(proc: subprocess.CompletedProcess) -> str:
    """The single line a refused command prints on stderr (and no traceback anywhere)."""
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]
