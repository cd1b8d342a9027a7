"""The run queue in the run index: add, list, reorder, pause, cancel, take the next entry atomically, recover
interrupted entries, and keep working on older or damaged index files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.queue import QueueState, RunQueue, new_owner, owner_alive
from engine.queue.owners import drop_owner
from engine.refusal import WorkflowInvalid
from engine.run_index import RunIndex, default_index_path
from engine.workflow import Workflow
from tests.conftest import EXAMPLES


def tiny(epochs: int = 3) -> Workflow:
    """The MLP digits example made tiny (as tests/test_sweep_cli.py does)."""
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.node("train").params.update(epochs=epochs)
    wf.node("data").params.update(size=8)
    wf.node("model").params.update(hidden="32")
    return wf


def dead_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def labels(queue: RunQueue, ended: bool = True) -> list[str]:
    return [e.label for e in queue.list(ended=ended)]


def test_entries_keep_the_workflow_as_data_in_line_order():
    queue = RunQueue()
    first = queue.add(tiny(), "lr 0.1", device="cpu")
    wf = tiny()
    wf.node("train").params.update(epochs=5)
    second = queue.add(wf.to_json())  # JSON works too; the label defaults to the workflow's name
    assert first is not None and second is not None
    assert first.state == QueueState.QUEUED and first.device == "cpu" and first.run_dir is None
    assert second.label == wf.name and second.device == "auto"
    assert queue.get(second.id).workflow["nodes"] == wf.to_json()["nodes"]  # what runs is what was added
    assert labels(queue) == ["lr 0.1", wf.name]
    assert RunQueue(RunIndex()).list() == queue.list()  # it is in the index file, for any other window


def test_a_workflow_with_problems_is_refused_naming_the_node():
    wf = tiny()
    wf.node("train").params.update(epochs=-1)
    with pytest.raises(WorkflowInvalid) as refused:
        RunQueue().add(wf)
    assert "train" in str(refused.value) and "epochs" in str(refused.value)
    assert RunQueue().list() == []


def test_move_pause_cancel_and_hold_the_whole_queue():
    queue = RunQueue()
    a, b, c = (queue.add(tiny(), name, device="cpu") for name in ("a", "b", "c"))
    assert queue.move(c.id, 0) and labels(queue) == ["c", "a", "b"]
    assert queue.move(c.id, 5) and labels(queue) == ["a", "b", "c"]
    assert queue.reorder([b.id, a.id]) and labels(queue) == ["b", "a", "c"]

    assert queue.pause(b.id) and queue.get(b.id).state == QueueState.PAUSED
    owner = new_owner()
    assert queue.take_next(owner).id == a.id  # the paused one keeps its place but is skipped
    assert queue.cancel(c.id) == QueueState.CANCELLED
    assert queue.cancel(a.id) == QueueState.RUNNING and queue.stop_requested(a.id)  # its runner stops it
    assert queue.unpause(b.id) and queue.get(b.id).state == QueueState.QUEUED
    assert labels(queue, ended=False) == ["b", "a"]

    assert queue.finish(a.id, QueueState.CANCELLED)
    assert queue.set_paused(True) and queue.paused
    assert queue.take_next(owner) is None  # held: nothing starts
    assert queue.set_paused(False) and queue.take_next(owner).id == b.id
    assert queue.retry(c.id) and queue.get(c.id).state == QueueState.QUEUED
    assert not queue.remove(b.id)  # running: not removed from under its runner
    assert queue.remove(c.id) and labels(queue) == ["b", "a"]


def test_one_run_at_a_time_per_device():
    queue = RunQueue()
    a, b = queue.add(tiny(), "a", device="cpu"), queue.add(tiny(), "b", device="cpu")
    gpu = queue.add(tiny(), "g", device="cuda:1")
    owner = new_owner()
    assert queue.take_next(owner).id == a.id
    assert queue.take_next(owner).id == gpu.id  # the CPU is busy, another device is not
    assert queue.take_next(owner) is None
    assert queue.finish(a.id, QueueState.DONE)
    assert queue.take_next(owner).id == b.id
    assert queue.get(a.id).state == QueueState.DONE and queue.get(a.id).finished


def test_take_next_is_atomic_across_connections():
    queue = RunQueue()
    ids = [queue.add(tiny(), f"e{n}", device=f"slot{n}").id for n in range(24)]  # all runnable at once
    taken: list[tuple[str, int]] = []
    start = threading.Barrier(6)

    def window() -> None:
        mine = RunQueue(RunIndex(default_index_path()))  # a connection of its own, as another window has
        owner = new_owner()
        start.wait()
        while (entry := mine.take_next(owner)) is not None:
            taken.append((owner, entry.id))

    threads = [threading.Thread(target=window) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(entry_id for _, entry_id in taken) == ids  # every entry once, none twice
    by_owner = {e.id: e.owner for e in queue.list()}
    assert all(by_owner[entry_id] == owner for owner, entry_id in taken)


def test_interrupted_entries_are_put_back_to_resume_and_ended_ones_take_their_runs_state(tmp_path):
    queue = RunQueue()
    crashed, ended, alive, dropped, early = (queue.add(tiny(), n, device=f"d{n}") for n in "abcde")
    gone = f"{__import__('socket').gethostname()}/{dead_pid()}/x"
    live, lost = new_owner(), new_owner()
    for entry, owner in ((crashed, gone), (ended, gone), (alive, live), (dropped, lost), (early, gone)):
        assert queue.take_next(owner).id == entry.id
    for entry, status in ((crashed, "running"), (ended, "succeeded"), (alive, "running"), (dropped, "stopped")):
        run = tmp_path / entry.label
        run.mkdir()
        (run / "run.json").write_text(json.dumps({"status": status, "run_id": entry.label}))
        assert queue.started(entry.id, run)
    drop_owner(lost)  # its window closed while the run went on being "running"
    assert not owner_alive(gone) and not owner_alive(lost) and owner_alive(live)

    changed = {e.label: e for e in queue.recover()}
    assert set(changed) == {"a", "b", "d", "e"}
    assert changed["a"].state == QueueState.QUEUED and changed["a"].resumes  # resumes in its folder
    assert changed["a"].run_dir == str((tmp_path / "a").resolve()) and "resumes" in changed["a"].message
    assert changed["b"].state == QueueState.DONE  # it had finished: nothing to run again
    assert changed["d"].state == QueueState.QUEUED and changed["d"].resumes
    assert changed["e"].state == QueueState.QUEUED and not changed["e"].resumes  # no run yet: starts afresh
    assert queue.get(alive.id).state == QueueState.RUNNING  # a live owner's entry is left alone
    assert queue.recover() == []  # nothing left to recover: idempotent


def test_a_run_folder_still_being_written_is_not_taken_from_its_writer(tmp_path):
    from engine.run_folder import RunLock

    queue = RunQueue()
    entry = queue.add(tiny(), "a", device="cpu")
    queue.take_next(f"{__import__('socket').gethostname()}/{dead_pid()}/x")
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "running"}))
    queue.started(entry.id, run)
    lock = RunLock(run)
    assert lock.acquire()  # a child `loom run` still writing it
    try:
        assert queue.recover() == []
    finally:
        lock.release()
    assert [e.id for e in queue.recover()] == [entry.id]


def test_the_queue_table_is_added_to_an_older_index_file():
    path = default_index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)  # the layout Loom wrote before the queue existed
    conn.execute("CREATE TABLE runs (run_dir TEXT PRIMARY KEY, run_id TEXT, workflow TEXT, status TEXT, device TEXT, "
                 "started TEXT, finished TEXT, duration_s REAL, summary TEXT)")
    conn.execute("INSERT INTO runs VALUES ('/tmp/old-run', 'old', 'digits', 'succeeded', 'cpu', '2025-01-01', "
                 "'2025-01-01', 3.0, '{}')")
    conn.commit()
    conn.close()
    queue = RunQueue()
    assert queue.add(tiny(), "new") is not None and labels(queue) == ["new"]
    assert [r["run_id"] for r in RunIndex().list()] == ["old"]  # the runs are all still there
    assert queue.warnings == []
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM loom_meta WHERE key = 'queue_schema'").fetchone() == ("1",)
    conn.close()


def test_an_older_queue_table_gains_its_missing_columns():
    path = default_index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, position REAL, label TEXT, workflow TEXT, "
                 "device TEXT, state TEXT, run_dir TEXT, owner TEXT, added TEXT, started TEXT, finished TEXT)")
    conn.execute("INSERT INTO queue (position, label, workflow, device, state, run_dir, owner, added, started, "
                 "finished) VALUES (1, 'kept', ?, 'cpu', 'queued', NULL, '', '', '', '')",
                 (json.dumps(tiny().to_json()),))
    conn.commit()
    conn.close()
    queue = RunQueue()
    assert labels(queue) == ["kept"] and queue.get(1).message == "" and not queue.get(1).stop
    assert queue.take_next(new_owner()).label == "kept"


def test_a_damaged_row_is_skipped_with_a_warning():
    queue = RunQueue()
    good = queue.add(tiny(), "good", device="cpu")
    conn = sqlite3.connect(default_index_path())
    conn.execute("INSERT INTO queue (position, label, workflow, device, state) VALUES (0, 'torn', '{\"nod', 'cpu', "
                 "'queued')")
    conn.execute("INSERT INTO queue (position, label, workflow, device, state) VALUES (0.5, 'odd', ?, 'cpu', 'later')",
                 (json.dumps(tiny().to_json()),))
    conn.commit()
    conn.close()
    assert labels(queue) == ["good"]
    assert any("was skipped: its workflow is not JSON" in w for w in queue.warnings)
    assert any("its state 'later' is not one Loom writes" in w for w in queue.warnings)
    assert queue.take_next(new_owner()).id == good.id  # the damaged rows never run


def test_a_healed_index_keeps_the_queue(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # healing salvages run folders from ./runs too: none here
    queue = RunQueue()
    queue.add(tiny(), "survivor", device="cpu")
    path = default_index_path()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE runs")
    conn.execute("CREATE TABLE runs (something TEXT)")  # not the layout Loom writes: the index heals
    conn.commit()
    conn.close()
    index = RunIndex()
    assert index.list() == []
    assert "kept 1 queue entry" in index.warnings[0]
    assert [e.label for e in RunQueue(index).list()] == ["survivor"]
    assert list(Path(path).parent.glob("runs.sqlite.broken-*"))


def test_a_locked_index_is_a_warning_not_a_crash(monkeypatch):
    queue = RunQueue()
    queue.add(tiny(), "a")
    holder = sqlite3.connect(default_index_path())
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: sqlite3.Connection(*a, **{**k, "timeout": 0.05}))
    try:
        fresh = RunQueue(RunIndex())
        assert fresh.take_next(new_owner()) is None
        assert any("could not take the next queue entry" in w and "locked" in w for w in fresh.warnings)
    finally:
        holder.rollback()
        holder.close()
