"""The run queue: workflows lined up to run one after another, kept in the run index (SQLite).

An entry holds the workflow *as data* (its JSON, validated when added: a file
path could change before the entry runs), a label, the device, its place in
the line, its state and, once started, its run folder.  The queue lives in the
``queue`` table of ``$LOOM_HOME/runs.sqlite`` (see :mod:`engine.run_index`,
which creates and migrates it), so it survives the app closing or crashing.

Rules:

- :meth:`RunQueue.take_next` is atomic (one ``BEGIN IMMEDIATE`` transaction):
  two app windows or processes never start the same entry, and an entry is
  never taken while another entry runs on the same device.
- An entry whose owner is gone (the process died, or the runner that took it
  was dropped) and whose run folder nobody writes (its lock is free) was
  *interrupted*: :meth:`RunQueue.recover` puts it back in line with its run
  folder, so the next start resumes it from its checkpoint (``resume_from``),
  never restarts it.  A run that had ended before its owner died gets the
  state its run.json says.
- A row that is not what Loom writes is skipped with a warning, never a crash;
  nothing here raises on a locked or unwritable index either: the operations
  return nothing and :attr:`RunQueue.warnings` says why.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.fileio import MAX_JSON_DEPTH, json_depth
from engine.names import RunStatus, TextEnum
from engine.queue.owners import being_written, device_slot, owner_alive
from engine.refusal import WorkflowInvalid
from engine.run_index import QUEUE_COLUMNS, RunIndex


class QueueState(TextEnum):
    QUEUED = "queued"  # waiting its turn (with a run folder: it resumes there)
    RUNNING = "running"
    PAUSED = "paused"  # held back: skipped until continued
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


WAITING = (QueueState.QUEUED, QueueState.PAUSED)
ENDED = (QueueState.DONE, QueueState.FAILED, QueueState.CANCELLED)
_COLUMNS = tuple(QUEUE_COLUMNS)
@dataclass(frozen=True)
class QueueEntry:
    id: int
    position: float
    label: str
    workflow: dict[str, Any]
    device: str
    state: QueueState
    run_dir: str | None
    owner: str
    added: str
    started: str
    finished: str
    message: str
    stop: bool

    @property
    def resumes(self) -> bool:
        """Its next start continues its run folder from the checkpoint (it was interrupted or stopped)."""
        return bool(self.run_dir) and self.state in WAITING


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def check_workflow(data: Any) -> dict[str, Any]:
    """The workflow JSON an entry may hold; WorkflowInvalid / UserInputError naming every problem otherwise."""
    from engine.validation import Problem, validate
    from engine.workflow import Workflow

    workflow = data if isinstance(data, Workflow) else Workflow.from_json(data, "the queued workflow")
    problems = [Problem(nid, "id", why) for nid, why in workflow.id_problems()] + validate(workflow)
    if problems:
        raise WorkflowInvalid(problems)
    return workflow.to_json()


def _entry(row: tuple) -> QueueEntry:
    """One row as an entry; ValueError saying what is wrong when it is not what Loom writes."""
    item = dict(zip(_COLUMNS, row, strict=True))
    if not isinstance(item["id"], int):
        raise ValueError("it has no id")
    try:
        state = QueueState(item["state"])
    except ValueError:
        raise ValueError(f"its state {str(item['state'])[:40]!r} is not one Loom writes") from None
    for key in ("label", "device", "owner", "added", "started", "finished", "message"):
        if not isinstance(item[key], str):
            raise ValueError(f"its {key} is not text")
    if item["run_dir"] is not None and not isinstance(item["run_dir"], str):
        raise ValueError("its run folder is not text")
    if not isinstance(item["position"], (int, float)):
        raise ValueError("its position is not a number")
    try:
        workflow = json.loads(item["workflow"])
    except (TypeError, ValueError, RecursionError):
        raise ValueError("its workflow is not JSON") from None
    if not isinstance(workflow, dict) or json_depth(workflow) > MAX_JSON_DEPTH or "nodes" not in workflow:
        raise ValueError("its workflow is not a workflow")
    item.update(workflow=workflow, state=state, stop=bool(item["stop"]))
    return QueueEntry(**item)


class RunQueue:
    """The queue in ``index`` (the default run index: ``$LOOM_HOME/runs.sqlite``).  Safe from any thread."""

    def __init__(self, index: RunIndex | None = None) -> None:
        self.index = index or RunIndex()

    @property
    def warnings(self) -> list[str]:
        """What went wrong, in words (a locked index, a damaged row skipped), newest last."""
        return self.index.warnings

    def _warn(self, text: str) -> None:
        if text not in self.index.warnings:
            self.index.warnings.append(text)

    # -- reading ------------------------------------------------------------------------------------------------
    def list(self, ended: bool = True) -> list[QueueEntry]:
        """Entries in line order (finished ones too, unless ``ended`` is False); damaged rows are skipped."""
        rows = self.index.use(lambda c: c.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM queue ORDER BY position, id").fetchall(), [], "read the queue")
        return [e for e in self._entries(rows) if ended or e.state not in ENDED]

    def get(self, entry_id: int) -> QueueEntry | None:
        return next((e for e in self.list() if e.id == entry_id), None)

    def _entries(self, rows: list[tuple]) -> list[QueueEntry]:
        entries = []
        for row in rows:
            try:
                entries.append(_entry(row))
            except (ValueError, TypeError) as exc:
                self._warn(f"queue entry {row[0]!r} in {self.index.path} was skipped: {exc} — it was not written by "
                           "Loom or was damaged; add its workflow to the queue again")
        return entries

    @property
    def paused(self) -> bool:
        """The whole queue is held: nothing new starts (a running entry runs on)."""
        return self.index.use(_queue_paused, False, "read the queue")

    # -- changing ------------------------------------------------------------------------------------------------
    def add(self, workflow: Any, label: str = "", device: str = "auto") -> QueueEntry | None:
        """Queue ``workflow`` (a Workflow or its JSON) at the end; WorkflowInvalid when it has problems.

        None (and a warning) when the index cannot be written.
        """
        data = check_workflow(workflow)
        label = label.strip() or str(data.get("name") or "workflow")

        def insert(conn: sqlite3.Connection) -> int:
            with conn:
                last = conn.execute("SELECT COALESCE(MAX(position), 0) FROM queue").fetchone()[0]
                cursor = conn.execute("INSERT INTO queue (position, label, workflow, device, state, added) "
                                      "VALUES (?, ?, ?, ?, ?, ?)",
                                      (float(last) + 1, label, json.dumps(data), device, QueueState.QUEUED, _now()))
                return int(cursor.lastrowid)

        entry_id = self.index.use(insert, None, "add to the queue")
        return None if entry_id is None else self.get(entry_id)

    def reorder(self, ids: list[int]) -> bool:
        """Put the entries ``ids`` first, in that order (the rest keep theirs, after them)."""
        def write(conn: sqlite3.Connection) -> bool:
            with conn:
                rest = [r[0] for r in conn.execute("SELECT id FROM queue ORDER BY position, id") if r[0] not in ids]
                for n, entry_id in enumerate([*ids, *rest], start=1):
                    conn.execute("UPDATE queue SET position = ? WHERE id = ?", (float(n), entry_id))
            return True

        return self.index.use(write, False, "reorder the queue")

    def move(self, entry_id: int, to: int) -> bool:
        """Move an entry to place ``to`` (0 = first) among all entries."""
        ids = [e.id for e in self.list()]
        if entry_id not in ids:
            return False
        ids.remove(entry_id)
        ids.insert(max(0, min(to, len(ids))), entry_id)
        return self.reorder(ids)

    def _set(self, entry_id: int, only_from: tuple[QueueState, ...], doing: str, **values: Any) -> bool:
        """Update an entry when its state is one of ``only_from`` (checked in the same statement)."""
        names = ", ".join(f"{k} = ?" for k in values)
        marks = ", ".join("?" * len(only_from))

        def write(conn: sqlite3.Connection) -> bool:
            with conn:
                cursor = conn.execute(f"UPDATE queue SET {names} WHERE id = ? AND state IN ({marks})",
                                      (*values.values(), entry_id, *only_from))
                return cursor.rowcount == 1

        return self.index.use(write, False, doing)

    def pause(self, entry_id: int) -> bool:
        """Hold a waiting entry back (it keeps its place); a running one is paused by its window."""
        return self._set(entry_id, (QueueState.QUEUED,), "pause a queue entry", state=QueueState.PAUSED)

    def unpause(self, entry_id: int) -> bool:
        return self._set(entry_id, (QueueState.PAUSED,), "continue a queue entry", state=QueueState.QUEUED)

    def retry(self, entry_id: int) -> bool:
        """Line up a failed or cancelled entry again (it resumes its run folder when it has one)."""
        return self._set(entry_id, (QueueState.FAILED, QueueState.CANCELLED), "retry a queue entry",
                         state=QueueState.QUEUED, message="", stop=0)

    def cancel(self, entry_id: int) -> QueueState | None:
        """Cancel a waiting entry, or ask the runner of a running one to stop it; the state after, or None."""
        if self._set(entry_id, WAITING, "cancel a queue entry", state=QueueState.CANCELLED, finished=_now()):
            return QueueState.CANCELLED
        if self._set(entry_id, (QueueState.RUNNING,), "cancel a queue entry", stop=1):
            return QueueState.RUNNING  # its runner sees ``stop`` and stops the run; it ends *cancelled*
        return None

    def remove(self, entry_id: int) -> bool:
        """Forget an entry that is not running (its run folder, if any, stays)."""
        def write(conn: sqlite3.Connection) -> bool:
            with conn:
                return conn.execute("DELETE FROM queue WHERE id = ? AND state != ?",
                                    (entry_id, QueueState.RUNNING)).rowcount == 1

        return self.index.use(write, False, "remove a queue entry")

    def set_paused(self, paused: bool) -> bool:
        """Hold the whole queue (nothing new starts) or let it go on."""
        def write(conn: sqlite3.Connection) -> bool:
            with conn:
                conn.execute("INSERT OR REPLACE INTO loom_meta VALUES ('queue_paused', ?)", ("1" if paused else "0",))
            return True

        return self.index.use(write, False, "pause the queue")

    # -- running -------------------------------------------------------------------------------------------------
    def take_next(self, owner: str, can_run: Any = None) -> QueueEntry | None:
        """Atomically mark the next runnable entry *running* for ``owner`` and return it (None: nothing to run).

        Runnable: queued, the queue not held, and no live entry already running
        on the same device.  ``can_run(entry)`` may refuse entries this runner
        cannot start (another device); they keep their place.
        """
        def take(conn: sqlite3.Connection) -> QueueEntry | None:
            if _queue_paused(conn):
                return None
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM queue WHERE state IN (?, ?) "
                                "ORDER BY position, id", (QueueState.QUEUED, QueueState.RUNNING)).fetchall()
            entries = self._entries(rows)
            busy = {device_slot(e.device) for e in entries if e.state == QueueState.RUNNING and owner_alive(e.owner)}
            for e in entries:
                if e.state != QueueState.QUEUED or device_slot(e.device) in busy:
                    continue
                if can_run is not None and not can_run(e):
                    continue
                conn.execute("UPDATE queue SET state = ?, owner = ?, started = ?, stop = 0 WHERE id = ?",
                             (QueueState.RUNNING, owner, _now(), e.id))
                return _entry(conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM queue WHERE id = ?",
                                           (e.id,)).fetchone())
            return None

        device_slot("auto")  # what "auto" means here is found out (torch imported) before the write lock is taken
        return self.index.use(lambda conn: _immediate(conn, take), None, "take the next queue entry")

    def started(self, entry_id: int, run_dir: str | Path) -> bool:
        """The entry's run has its folder (a resume keeps it)."""
        return self._set(entry_id, (QueueState.RUNNING,), "record a queued run's folder",
                         run_dir=str(Path(run_dir).resolve()))

    def finish(self, entry_id: int, state: QueueState, message: str = "") -> bool:
        """The entry's run ended: ``state`` is where it goes (see :func:`state_after`)."""
        return self._set(entry_id, (QueueState.RUNNING,), "record a queued run's end", state=state,
                         message=message, owner="", stop=0, finished=_now() if state in ENDED else "")

    def give_back(self, entry_id: int, message: str = "") -> bool:
        """The runner took the entry but could not start it now: back in line, as it was."""
        return self._set(entry_id, (QueueState.RUNNING,), "put a queue entry back", state=QueueState.QUEUED,
                         owner="", message=message)

    def stop_requested(self, entry_id: int) -> bool:
        entry = self.get(entry_id)
        return entry is not None and entry.stop

    def recover(self) -> list[QueueEntry]:
        """Put interrupted entries back in line (to resume from their checkpoint); the entries changed."""
        def fix(conn: sqlite3.Connection) -> list[int]:
            changed = []
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM queue WHERE state = ?",
                                (QueueState.RUNNING,)).fetchall()
            for e in self._entries(rows):
                if owner_alive(e.owner) or being_written(e.run_dir):
                    continue
                state, run_dir, message = _after_interruption(e)
                conn.execute("UPDATE queue SET state = ?, run_dir = ?, message = ?, owner = '', stop = 0, "
                             "finished = ? WHERE id = ?",
                             (state, run_dir, message, _now() if state in ENDED else "", e.id))
                changed.append(e.id)
            return changed

        ids = self.index.use(lambda conn: _immediate(conn, fix), [], "recover interrupted queue entries")
        return [e for e in self.list() if e.id in ids]


def _queue_paused(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM loom_meta WHERE key = 'queue_paused'").fetchone()
    return bool(row) and row[0] == "1"


def _after_interruption(entry: QueueEntry) -> tuple[QueueState, str | None, str]:
    """Where an interrupted entry goes: its run's own record decides (state, run folder, message)."""
    from engine.run_files import read_run

    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    if not entry.run_dir or not (Path(entry.run_dir) / "run.json").is_file():
        return QueueState.QUEUED, None, f"interrupted before its run began ({when}): it starts again"
    try:
        status = read_run(Path(entry.run_dir)).get("status")
    except (UserInputError, OSError):
        status = RunStatus.RUNNING  # a torn record: the resume's own checks say what is wrong
    if status == RunStatus.SUCCEEDED:
        return QueueState.DONE, entry.run_dir, ""
    if status == RunStatus.FAILED:
        return QueueState.FAILED, entry.run_dir, "the run failed (see its log)"
    return QueueState.QUEUED, entry.run_dir, f"interrupted ({when}): resumes from its last checkpoint"


def state_after(status: str, cancelled: bool, closing: bool = False) -> QueueState:
    """The entry's state once its run ended with ``status``.

    Stopped runs keep their folder: one stopped because the app was closing
    goes back in line (it resumes when the queue restarts), one the analyst
    stopped is paused (Continue resumes it), one cancelled is cancelled.
    """
    if status == RunStatus.SUCCEEDED:
        return QueueState.DONE
    if status == RunStatus.STOPPED:
        if cancelled:
            return QueueState.CANCELLED
        return QueueState.QUEUED if closing else QueueState.PAUSED
    return QueueState.FAILED


def start_kwargs(entry: QueueEntry) -> dict[str, Any]:
    """``Engine.start`` arguments for an entry (the workflow from its JSON; its folder when it resumes)."""
    from engine.workflow import Workflow

    kwargs: dict[str, Any] = {"device": entry.device}
    if entry.run_dir:
        kwargs["resume_from"] = entry.run_dir
    return {"workflow": Workflow.from_json(entry.workflow, f"queue entry {entry.id}"), **kwargs}


def queue_label(entry: QueueEntry) -> str:
    """``#id label`` for messages."""
    return f"#{entry.id} {entry.label}"



def _immediate(conn: sqlite3.Connection, job: Any) -> Any:
    """``job(conn)`` inside one ``BEGIN IMMEDIATE`` transaction: the write lock first, so no one else reads
    the same rows and decides the same thing in between; rolled back when ``job`` fails."""
    conn.isolation_level = None
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = job(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
