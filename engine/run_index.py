"""A small SQLite index of runs, for the history panel and `loom runs`.

The run folders are the truth; the index only makes listing them fast.  So
the index heals itself: a file that is garbage, truncated, of another
layout, a folder in its place or holding a row that is not what Loom wrote
is moved aside as ``runs.sqlite.broken-<YYYYmmdd-HHMMSS>`` (kept, never
deleted) and rebuilt from the run folders it listed plus the default runs
folders, with one warning in :attr:`RunIndex.warnings`.  Nothing here ever
raises into a run or a command: at worst a run is missing from the list.

The run queue (:mod:`engine.queue`) keeps its entries in a ``queue`` table of
the same file, versioned in ``loom_meta``: an older index gains the table (or
its missing columns) when first opened, and a heal carries over the queue rows
it can still read, since the queue, unlike the run list, has no other copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from engine.errors import UserInputError
from engine.fileio import MAX_JSON_DEPTH, describe_os_error, json_depth

log = logging.getLogger(__name__)
T = TypeVar("T")

COLUMNS = ("run_dir", "run_id", "workflow", "status", "device", "started", "finished", "duration_s", "summary")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_dir TEXT PRIMARY KEY,
    run_id TEXT, workflow TEXT, status TEXT, device TEXT,
    started TEXT, finished TEXT, duration_s REAL, summary TEXT
)
"""
_SIDECARS = ("-journal", "-wal", "-shm")  # SQLite's own files next to the database

# The run queue (engine/queue.py) lives in the same file: one table, its version in ``loom_meta``.
# Migration adds the columns an older file lacks; columns a newer Loom added are left alone.
QUEUE_SCHEMA_VERSION = 1
QUEUE_COLUMNS = {  # name -> declaration (a column added later needs a default old rows can take)
    "id": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "position": "REAL NOT NULL DEFAULT 0",
    "label": "TEXT NOT NULL DEFAULT ''",
    "workflow": "TEXT NOT NULL DEFAULT '{}'",
    "device": "TEXT NOT NULL DEFAULT 'auto'",
    "state": "TEXT NOT NULL DEFAULT 'queued'",
    "run_dir": "TEXT",
    "owner": "TEXT NOT NULL DEFAULT ''",
    "added": "TEXT NOT NULL DEFAULT ''",
    "started": "TEXT NOT NULL DEFAULT ''",
    "finished": "TEXT NOT NULL DEFAULT ''",
    "message": "TEXT NOT NULL DEFAULT ''",
    "stop": "INTEGER NOT NULL DEFAULT 0",
}
_META_SCHEMA = "CREATE TABLE IF NOT EXISTS loom_meta (key TEXT PRIMARY KEY, value TEXT)"


def loom_home() -> Path:
    """``$LOOM_HOME``, else ``$XDG_DATA_HOME/loom`` or ``~/.local/share/loom`` (the app uses the same)."""
    env = os.environ.get("LOOM_HOME")
    return Path(env) if env else Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "loom"


def default_index_path() -> Path:
    return loom_home() / "runs.sqlite"


def default_runs_roots() -> list[Path]:
    """Where runs are made when no ``--out`` is given: ``./runs`` (the CLI) and the app's runs folder."""
    roots = [loom_home() / "runs"]
    with contextlib.suppress(OSError):  # the current folder may have been deleted under us
        roots.insert(0, Path.cwd() / "runs")
    return roots


class IndexDamaged(Exception):
    """The index file is not a sound Loom index (the message says how)."""


class IndexUnusable(Exception):
    """Damaged and could not be healed; the warning is already in ``RunIndex.warnings``."""


class RunIndex:
    """The run list.  ``roots`` are the folders a rebuild scans for run folders."""

    def __init__(self, path: Path | None = None, roots: Iterable[Path] | None = None) -> None:
        self.path = Path(path) if path is not None else default_index_path()
        self._roots = list(roots) if roots is not None else None
        self.warnings: list[str] = []
        self._lock = threading.RLock()
        self._checked = False
        self._queue_ready = False

    @property
    def roots(self) -> list[Path]:
        """The folders a rebuild scans (looked up when needed: the current folder may change)."""
        return self._roots if self._roots is not None else default_runs_roots()

    # -- the public operations (none of them raises) ----------------------------------------------------------
    def record(self, run_dir: Path, info: dict[str, Any]) -> None:
        """Add or update one run; a failure becomes a warning (the folder is the record)."""
        try:
            with self._lock:
                self._insert(self._open(), [_row(run_dir, info)])
        except IndexUnusable:
            pass
        except (sqlite3.Error, OSError, IndexDamaged) as exc:
            self._warn(f"the run index {self.path} was not updated ({_reason(exc)}) — the run folder is complete; "
                       "`loom runs` will not list this run")

    def list(self, limit: int = 200) -> list[dict[str, Any]]:
        """Runs, newest first, each with ``summary`` (dict) and ``exists``; [] when the index cannot be read."""
        for attempt in (1, 2):
            try:
                with self._lock:
                    conn = self._open()
                    try:
                        rows = conn.execute(
                            f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY started DESC LIMIT ?", (limit,)
                        ).fetchall()
                    finally:
                        conn.close()
                    return [_item(row) for row in rows]
            except IndexUnusable:
                break
            except (IndexDamaged, sqlite3.DatabaseError) as exc:
                if attempt == 1 and _damage(exc) and self._heal(_reason(exc)):
                    continue
                self._warn(f"the run index {self.path} cannot be read ({_reason(exc)})")
                break
            except OSError as exc:
                self._warn(f"the run index {self.path} cannot be read ({_reason(exc)})")
                break
        return []

    def use(self, job: Callable[[sqlite3.Connection], T], default: T, doing: str) -> T:
        """Run ``job`` on an open connection (the queue's way in); ``default`` and a warning when it cannot.

        A damaged file is healed once, as for :meth:`list`; an error of ``job``'s own
        (:class:`sqlite3.Error`) is a warning that says what was being done.
        """
        for attempt in (1, 2):
            try:
                with self._lock:
                    conn = self._open()
                    try:
                        return job(conn)
                    finally:
                        conn.close()
            except IndexUnusable:
                break
            except (IndexDamaged, sqlite3.DatabaseError) as exc:
                if attempt == 1 and _damage(exc) and self._heal(_reason(exc)):
                    continue
                self._warn(f"the run index {self.path}: could not {doing} ({_reason(exc)})")
                break
            except OSError as exc:
                self._warn(f"the run index {self.path}: could not {doing} ({_reason(exc)})")
                break
        return default

    def forget(self, run_dir: Path) -> None:
        try:
            with self._lock:
                conn = self._open()
                with conn:
                    conn.execute("DELETE FROM runs WHERE run_dir = ?", (str(Path(run_dir).resolve()),))
                conn.close()
        except IndexUnusable:
            pass
        except (sqlite3.Error, OSError, IndexDamaged) as exc:
            self._warn(f"the run index {self.path} was not updated ({_reason(exc)})")

    def rebuild(self, run_dirs: Iterable[Path] = ()) -> int:
        """Index every run folder under :attr:`roots` plus ``run_dirs``; returns how many were indexed."""
        from engine.run_files import RECORD_KEYS, read_run

        found: dict[str, tuple[Path, dict[str, Any]]] = {}
        candidates = list(run_dirs)
        for root in self.roots:
            with contextlib.suppress(OSError):
                candidates += [p for p in Path(root).iterdir() if p.is_dir()]
        for run_dir in candidates:
            try:
                found[str(Path(run_dir).resolve())] = (run_dir, read_run(run_dir, RECORD_KEYS))
            except (UserInputError, OSError):
                continue  # gone or damaged: not listed (commands reading it say what is wrong)
        if found:
            self._insert(self._open(), [_row(d, info) for d, info in found.values()])
        return len(found)

    # -- opening, checking and healing ------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if not self._checked:
            try:
                self._check()
            except (IndexDamaged, sqlite3.DatabaseError) as exc:
                if not _damage(exc):
                    raise  # locked, busy, no permission: not the file's fault, never healed over
                if not self._heal(_reason(exc)):
                    raise IndexUnusable(_reason(exc)) from None
            self._checked = True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5)
        conn.execute(_SCHEMA)
        if not self._queue_ready:
            ensure_queue_table(conn)
            self._queue_ready = True
        return conn

    def _check(self) -> None:
        """Raise IndexDamaged / sqlite3.DatabaseError unless the file is a sound index (or absent)."""
        if self.path.is_dir():
            raise IndexDamaged("a folder is in its place")
        if not self.path.exists():
            return
        conn = sqlite3.connect(_read_only_uri(self.path), uri=True, timeout=5)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()
            if not verdict or verdict[0] != "ok":
                raise IndexDamaged(f"it failed SQLite's check: {verdict[0] if verdict else 'no answer'}")
            columns = tuple(r[1] for r in conn.execute("PRAGMA table_info(runs)"))
            if columns and columns != COLUMNS:
                raise IndexDamaged("its table is not the layout Loom writes")
            queue = {r[1]: r for r in conn.execute("PRAGMA table_info(queue)")}
            if queue and ("id" not in queue or not queue["id"][5]):
                raise IndexDamaged("its queue table is not the layout Loom writes")
        finally:
            conn.close()

    def _heal(self, why: str) -> bool:
        """Move the damaged index aside and rebuild it; False when even that is impossible."""
        known = self._salvage_run_dirs()
        queued = salvage_queue_rows(self.path) if self.path.is_file() else []
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        n = 2
        while aside.exists():
            aside = self.path.with_name(f"{self.path.name}.broken-{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, aside)
            for suffix in _SIDECARS:  # a stale journal must not be replayed into the new index
                sidecar = self.path.with_name(self.path.name + suffix)
                if sidecar.exists():
                    os.replace(sidecar, aside.with_name(aside.name + suffix))
        except FileNotFoundError:
            pass  # another process healed it first
        except OSError as exc:
            self._warn(f"the run index {self.path} is damaged ({why}) and cannot be moved aside "
                       f"({describe_os_error(exc)}) — move or delete it yourself; the run folders are intact")
            return False
        self._checked = True
        self._queue_ready = False  # the new file has no queue table yet
        try:
            count = self.rebuild(known)
            if queued:
                self._restore_queue(queued)
        except (sqlite3.Error, OSError) as exc:
            self._warn(f"the run index {self.path} was damaged ({why}); set it aside as {aside.name} but could not "
                       f"rebuild it ({_reason(exc)})")
            return False
        kept = f" and kept {len(queued)} queue entr{'y' if len(queued) == 1 else 'ies'}" if queued else ""
        self._warn(f"the run index {self.path} was damaged ({why}); set it aside as {aside.name} and rebuilt it "
                   f"from {count} run folder(s){kept}")
        return True

    def _restore_queue(self, rows: list[dict[str, Any]]) -> None:
        """Put the queue rows read from a damaged file into the rebuilt one (the queue has no other copy)."""
        conn = self._open()
        try:
            with conn:
                for row in rows:
                    names = [n for n in row if n in QUEUE_COLUMNS]
                    conn.execute(f"INSERT OR REPLACE INTO queue ({', '.join(names)}) VALUES "
                                 f"({', '.join('?' * len(names))})", [row[n] for n in names])
        finally:
            conn.close()

    def _salvage_run_dirs(self) -> list[Path]:
        """Run folders the damaged index still names, when any of it is readable."""
        if not self.path.is_file():
            return []
        try:
            conn = sqlite3.connect(_read_only_uri(self.path), uri=True, timeout=1)
            try:
                return [Path(r[0]) for r in conn.execute("SELECT run_dir FROM runs") if isinstance(r[0], str)]
            finally:
                conn.close()
        except sqlite3.Error:
            return []

    def _insert(self, conn: sqlite3.Connection, rows: list[tuple]) -> None:
        try:
            with conn:
                conn.executemany(f"INSERT OR REPLACE INTO runs VALUES ({','.join('?' * len(COLUMNS))})", rows)
        finally:
            conn.close()

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            log.info(message)


def ensure_queue_table(conn: sqlite3.Connection) -> None:
    """Create the queue table, or bring an older one up to :data:`QUEUE_SCHEMA_VERSION` (never drops anything)."""
    with conn:
        conn.execute(_META_SCHEMA)
        have = {r[1] for r in conn.execute("PRAGMA table_info(queue)")}
        if not have:
            declared = ", ".join(f"{name} {decl}" for name, decl in QUEUE_COLUMNS.items())
            conn.execute(f"CREATE TABLE IF NOT EXISTS queue ({declared})")
        else:
            for name, decl in QUEUE_COLUMNS.items():
                if name not in have and name != "id":
                    conn.execute(f"ALTER TABLE queue ADD COLUMN {name} {decl}")
        row = conn.execute("SELECT value FROM loom_meta WHERE key = 'queue_schema'").fetchone()
        written = int(row[0]) if row and str(row[0]).isdigit() else 0
        if written < QUEUE_SCHEMA_VERSION:  # a newer Loom's number stays: its extra columns are its own
            conn.execute("INSERT OR REPLACE INTO loom_meta VALUES ('queue_schema', ?)", (str(QUEUE_SCHEMA_VERSION),))


def salvage_queue_rows(path: Path) -> list[dict[str, Any]]:
    """The queue rows a damaged index still holds, as dicts ([] when none can be read)."""
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True, timeout=1)
        try:
            cursor = conn.execute("SELECT * FROM queue")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall() if "id" in names]
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def _row(run_dir: Path, info: dict[str, Any]) -> tuple:
    nodes = info.get("nodes") if isinstance(info.get("nodes"), dict) else {}
    summary = {node: data["report"] for node, data in nodes.items()
               if isinstance(data, dict) and isinstance(data.get("report"), dict) and data["report"]}
    text = json.dumps(summary, default=str)
    if len(text) > 20000:
        text = "{}"  # cut JSON is not JSON: better no headline than a damaged row
    duration = info.get("duration_s")

    def word(key: str) -> str | None:
        value = info.get(key)
        return value if isinstance(value, str) else None

    return (str(Path(run_dir).resolve()), word("run_id"), word("workflow"), word("status"), word("device"),
            word("started"), word("finished"),
            duration if isinstance(duration, (int, float)) and not isinstance(duration, bool) else None, text)


def _item(row: tuple) -> dict[str, Any]:
    """One listed run; IndexDamaged when the row is not what Loom writes."""
    item = dict(zip(COLUMNS, row, strict=True))
    if not isinstance(item["run_dir"], str) or not item["run_dir"]:
        raise IndexDamaged("a row has no run folder")
    for key in ("run_id", "workflow", "status", "device", "started", "finished"):
        if item[key] is not None and not isinstance(item[key], str):
            raise IndexDamaged(f"the {key} of {item['run_dir']} is not text")
    if item["duration_s"] is not None and not isinstance(item["duration_s"], (int, float)):
        raise IndexDamaged(f"the duration of {item['run_dir']} is not a number")
    try:
        summary = json.loads(item["summary"] or "{}")
    except (TypeError, ValueError, RecursionError):
        raise IndexDamaged(f"the summary of {item['run_dir']} is not JSON") from None
    if not isinstance(summary, dict) or json_depth(summary) > MAX_JSON_DEPTH:
        raise IndexDamaged(f"the summary of {item['run_dir']} is not a JSON object")
    item["summary"] = summary
    try:
        item["exists"] = Path(item["run_dir"]).is_dir()
    except (OSError, ValueError):
        item["exists"] = False
    return item


def _damage(exc: BaseException) -> bool:
    """Whether an error means the file itself is bad (heal it) rather than locked, busy or unwritable."""
    if isinstance(exc, IndexDamaged):
        return True
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _read_only_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    return str(exc) or type(exc).__name__
