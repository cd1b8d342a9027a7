"""A small SQLite index of runs, for the history panel and `loom runs`.

The run folders are the truth; the index only makes listing them fast.  A
missing or damaged index is rebuilt from nothing without losing a run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any


def default_index_path() -> Path:
    env = os.environ.get("LOOM_HOME")
    base = Path(env) if env else Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "loom"
    return base / "runs.sqlite"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_dir TEXT PRIMARY KEY,
    run_id TEXT, workflow TEXT, status TEXT, device TEXT,
    started TEXT, finished TEXT, duration_s REAL, summary TEXT
)
"""


class RunIndex:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_index_path()
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=5)
        conn.execute(_SCHEMA)
        return conn

    def record(self, run_dir: Path, info: dict[str, Any]) -> None:
        summary = {
            node: data.get("report", {})
            for node, data in info.get("nodes", {}).items()
            if data.get("report")
        }
        row = (
            str(Path(run_dir).resolve()),
            info.get("run_id"),
            info.get("workflow"),
            info.get("status"),
            info.get("device"),
            info.get("started"),
            info.get("finished"),
            info.get("duration_s"),
            json.dumps(summary, default=str)[:20000],
        )
        try:
            with self._lock, self._connect() as conn:
                conn.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?)", row)
        except sqlite3.Error:
            pass  # the folder is the record; the index is a convenience

    def list(self, limit: int = 200) -> list[dict[str, Any]]:
        try:
            with self._lock, self._connect() as conn:
                conn.row_factory = sqlite3.Row
                rows = conn.execute("SELECT * FROM runs ORDER BY started DESC LIMIT ?", (limit,)).fetchall()
        except sqlite3.Error:
            return []
        out = []
        for r in rows:
            item = dict(r)
            item["summary"] = json.loads(item.get("summary") or "{}")
            item["exists"] = Path(item["run_dir"]).exists()
            out.append(item)
        return out

    def forget(self, run_dir: Path) -> None:
        with self._lock, self._connect() as conn:
            conn.execute("DELETE FROM runs WHERE run_dir = ?", (str(Path(run_dir).resolve()),))
