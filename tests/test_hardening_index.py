"""The run index heals: a damaged runs.sqlite is set aside and rebuilt from the run folders (issue 18, item 5)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.run_index import RunIndex, default_index_path, loom_home
from tests.hardening_support import loom


def fake_run(folder: Path, accuracy: float, started: str) -> Path:
    """A finished run folder as far as the index cares (its run.json)."""
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({
        "run_id": folder.name, "workflow": "Classify digits", "status": "succeeded", "started": started,
        "finished": started, "duration_s": 3.5, "device": "cpu", "artifacts": [],
        "nodes": {"evaluate": {"type": "evaluate", "state": "done", "report": {"accuracy": accuracy}}},
    }))
    return folder


@pytest.fixture
def two_indexed_runs(tmp_path, monkeypatch) -> list[Path]:
    """Two runs in the app's runs folder, both in the index."""
    monkeypatch.chdir(tmp_path)  # ./runs, the CLI's default, is this test's own
    runs = [fake_run(loom_home() / "runs" / "r1", 0.91, "2026-01-01T10:00:00+00:00"),
            fake_run(tmp_path / "custom-out" / "r2", 0.95, "2026-01-02T10:00:00+00:00")]
    index = RunIndex()
    for run in runs:
        index.record(run, json.loads((run / "run.json").read_text()))
    assert len(index.list()) == 2
    return runs


def garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xffnot a database at all" * 100)


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def wrong_schema(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (name TEXT, score REAL)")
        conn.execute("INSERT INTO runs VALUES ('x', 1.0)")
    conn.close()


def a_folder_in_its_place(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "stray.txt").write_text("someone made a folder here")


def a_summary_that_is_not_json(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET summary = '{not json' WHERE run_id = 'r1'")
    conn.close()


DAMAGES: list[Callable[[Path], None]] = [garbage, truncated, wrong_schema, a_folder_in_its_place,
                                         a_summary_that_is_not_json]


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.__name__ for d in DAMAGES])
def test_loom_runs_on_a_damaged_index_sets_it_aside_rebuilds_it_and_warns_once(two_indexed_runs, capsys, damage):
    index_path = default_index_path()
    damage(index_path)

    first = loom(capsys, "runs")

    assert first.code == 0 and "Traceback" not in first.err + first.out
    assert len(first.lines) == 1 and first.lines[0].startswith(f"loom: warning: the run index {index_path} was "
                                                              "damaged")
    (aside,) = index_path.parent.glob("runs.sqlite.broken-*")
    assert aside.name in first.err and aside.exists()
    listed = first.out
    assert str(two_indexed_runs[0].resolve()) in listed and "evaluate.accuracy 0.91" in listed
    if damage in (a_summary_that_is_not_json, ):  # the damaged file still named the run outside the runs folders
        assert str(two_indexed_runs[1].resolve()) in listed

    again = loom(capsys, "runs")
    assert again.code == 0 and again.err == ""  # healed: no second warning
    later = fake_run(loom_home() / "runs" / "r3", 0.99, "2026-01-03T10:00:00+00:00")
    RunIndex().record(later, json.loads((later / "run.json").read_text()))
    assert str(later.resolve()) in loom(capsys, "runs").out  # later runs are indexed again


def test_a_run_finished_on_a_damaged_index_heals_it_and_is_listed(two_indexed_runs):
    garbage(default_index_path())
    index = RunIndex()
    later = fake_run(loom_home() / "runs" / "r3", 0.99, "2026-01-03T10:00:00+00:00")
    index.record(later, json.loads((later / "run.json").read_text()))
    assert len(index.warnings) == 1 and "set it aside" in index.warnings[0]
    assert {str(later.resolve()), str(two_indexed_runs[0].resolve())} <= {r["run_dir"] for r in index.list()}


def test_loom_runs_never_prints_a_traceback_even_when_the_index_cannot_be_opened(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("x")
    monkeypatch.setenv("LOOM_HOME", str(blocker))
    for args in (("runs",), ("runs", "--json")):
        outcome = loom(capsys, *args)
        assert outcome.code == 0 and "Traceback" not in outcome.err + outcome.out
        assert "loom: warning: the run index" in outcome.err and "cannot be read" in outcome.err


def test_loom_runs_refuses_a_limit_below_one(capsys):
    outcome = loom(capsys, "runs", "--limit", "0")
    assert outcome.code == 2 and outcome.err.startswith("loom: --limit 0:")
