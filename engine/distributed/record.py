"""Closing the record of a distributed run whose rank 0 died.

Rank 0 writes the run folder; when it is killed it cannot write how the run ended, and run.json
would say *running* forever (in the app's history too).  Rank 0 leaves its run folder's path in the
launcher's temp folder as it starts (:func:`announce`); when the launcher finds rank 0 dead it ends
the record for it (:func:`close_dead_run`): status *failed* with the launcher's message, in
run.json, log.txt and the index.  Only a record still marked *running* whose lock nobody holds is
touched, so a folder another process writes is never changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from pathlib import Path

ANNOUNCE_NAME = "rank0-run-dir.txt"


def announce(run_dir: Path) -> None:
    """Rank 0: tell the launcher (through its temp folder, when there is one) where the run is written."""
    root = os.environ.get("LOOM_SCRATCH_ROOT")
    if root:
        with contextlib.suppress(OSError):
            (Path(root) / ANNOUNCE_NAME).write_text(str(Path(run_dir).resolve()), encoding="utf-8")


def announced(root: Path) -> Path | None:
    """The run folder rank 0 announced in ``root``, if any."""
    with contextlib.suppress(OSError):
        return Path((root / ANNOUNCE_NAME).read_text(encoding="utf-8").strip())
    return None


def close_dead_run(run_dir: Path, message: str) -> bool:
    """Mark a run whose writer died as failed with ``message``; True when the record was changed."""
    from engine.errors import UserInputError
    from engine.fileio import atomic_write_json
    from engine.logfile import format_line
    from engine.run_files import RUN_JSON, read_run
    from engine.run_folder import RunLock
    from engine.run_index import RunIndex

    try:
        info = read_run(run_dir)
    except UserInputError:
        return False
    if info.get("status") != "running" or not RunLock(run_dir).acquire_and_release():
        return False
    now = time.time()
    info.update(status="failed", message=message,
                finished=dt.datetime.fromtimestamp(now, dt.timezone.utc).isoformat(timespec="seconds"))
    try:
        atomic_write_json(run_dir / RUN_JSON, info)
        with open(run_dir / "log.txt", "a", encoding="utf-8") as f:
            f.write(format_line(now, "error", "", message))
    except OSError:
        return False
    RunIndex().record(run_dir, info)
    return True
