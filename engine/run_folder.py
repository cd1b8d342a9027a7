"""Claiming a run folder: never an earlier run's, never one another process is writing.

Rules (a contract; see the README):

- a new run gets a new folder: ``--out DIR`` must not exist yet or be empty;
- an existing, non-empty ``DIR`` is refused, or with ``force`` moved aside to
  ``DIR.old-<YYYYmmdd-HHMMSS>`` (renamed, never deleted or overwritten);
- no run folder inside another run's folder;
- a run folder being written by a live Loom process (its lock is held) is
  neither resumed nor moved.

The lock is an OS file lock on ``RUN/.loom.lock``: the operating system drops
it when the process ends, however it ends, so a killed run can be resumed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from pathlib import Path
from typing import IO

from engine.fileio import describe_os_error, disk_full_message, is_disk_full
from engine.logfile import LOG_NAME
from engine.refusal import RunRefused
from engine.run_files import RUN_JSON

LOCK_NAME = ".loom.lock"


class RunLock:
    """An exclusive, non-blocking lock on one run folder, held for a run's lifetime."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another process (or run) holds it."""
        f = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115
        try:
            _lock(f)
        except OSError:
            f.close()
            return False
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f
        return True

    def acquire_and_release(self) -> bool:
        """Whether the lock is free (nobody is writing the folder)."""
        try:
            taken = self.acquire()
        except OSError:
            return False
        if taken:
            self.release()
        return taken

    def holder(self) -> str:
        """The pid written by the holder, for messages ('' when unknown)."""
        try:
            return self.path.read_text(encoding="utf-8").strip()[:20]
        except OSError:
            return ""

    def release(self) -> None:
        if self._file is not None:
            try:
                _unlock(self._file)
            finally:
                self._file.close()
                self._file = None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(f: IO[str]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(f: IO[str]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def lock_run(run_dir: Path, doing: str) -> RunLock:
    """The run folder's lock, or RunRefused when a live Loom process holds it."""
    lock = RunLock(run_dir)
    try:
        taken = lock.acquire()
    except OSError as exc:
        raise refused_folder(run_dir, exc) from None
    if not taken:
        pid = lock.holder()
        who = f" (process {pid})" if pid else ""
        raise RunRefused([f"{run_dir}: another Loom run is writing this folder{who} — wait for it to end "
                          f"or stop it before you {doing}"])
    return lock


def enclosing_run(path: Path) -> Path | None:
    """The run folder that ``path`` lies inside, if any (a run inside a run would mix their files)."""
    for parent in Path(path).resolve().parents:
        if (parent / RUN_JSON).is_file():
            return parent
    return None


def links_out_of(run_dir: Path, limit: int = 100_000) -> list[Path]:
    """Symlinks inside ``run_dir`` that lead outside it (writing through one would write elsewhere)."""
    root = Path(run_dir).resolve()
    found: list[Path] = []
    for i, (folder, dirs, files) in enumerate(os.walk(run_dir)):
        if i > limit:
            break
        for name in (*dirs, *files):
            path = Path(folder) / name
            if path.is_symlink():
                target = path.resolve()
                if target != root and root not in target.parents:
                    found.append(path)
    return found


def move_aside(path: Path) -> Path:
    """Rename ``path`` to a free ``NAME.old-<time>`` sibling and return the new name."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target, n = path.with_name(f"{path.name}.old-{stamp}"), 2
    while target.exists():
        target, n = path.with_name(f"{path.name}.old-{stamp}-{n}"), n + 1
    os.rename(path, target)
    return target


def claim_out_dir(out_dir: Path, force: bool) -> tuple[Path, Path | None]:
    """Make ``out_dir`` an empty folder for a new run; returns it and where an old one was moved.

    Raises RunRefused (nothing touched) when it holds something and ``force``
    is off, lies inside another run, or cannot be created.
    """
    out_dir = Path(out_dir).expanduser()
    inside = enclosing_run(out_dir)
    if inside is not None:
        raise RunRefused([f"{out_dir}: is inside the run folder {inside} — pick a folder outside it"])
    moved = None
    if out_dir.exists() or out_dir.is_symlink():
        try:
            unused = out_dir.is_dir() and not out_dir.is_symlink() and is_unused(out_dir)
        except OSError as exc:
            raise refused_folder(out_dir, exc) from None
        if unused:
            return out_dir, None
        what = ("is a link to another place" if out_dir.is_symlink()
                else "already holds a run" if (out_dir / RUN_JSON).exists()
                else "is a file" if out_dir.is_file() else "already exists and is not empty")
        if not force:
            raise RunRefused([f"--out {out_dir}: {what} — pick a new folder, continue that run with "
                              f"`--resume {out_dir}`, or add --force to move it aside (nothing is deleted)"])
        if out_dir.is_dir() and not out_dir.is_symlink():
            lock_run(out_dir, "move it aside").release()
        try:
            moved = move_aside(out_dir)
        except OSError as exc:
            raise RunRefused([f"--out {out_dir}: cannot move it aside ({describe_os_error(exc)}) — pick a new "
                              "folder instead"]) from None
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise refused_folder(out_dir, exc) from None
    return out_dir, moved


def is_unused(folder: Path) -> bool:
    """Empty, or holding only what a refused start left (its free lock, an empty log)."""
    for entry in folder.iterdir():
        if entry.name == LOCK_NAME and RunLock(folder).acquire_and_release():
            continue
        if entry.name == LOG_NAME and entry.is_file() and entry.stat().st_size == 0:
            continue
        return False
    return True


def discard_claim(run_dir: Path, created: bool) -> None:
    """Undo what a refused start left in a folder it had just claimed (never anything else).

    The folder itself goes only if this start ``created`` it and it is empty again.
    """
    for name in (LOCK_NAME, LOG_NAME):
        path = run_dir / name
        with contextlib.suppress(OSError):
            if path.is_file() and (name == LOCK_NAME or path.stat().st_size == 0):
                path.unlink()
    if created:
        with contextlib.suppress(OSError):
            run_dir.rmdir()  # fails, harmlessly, unless empty


def refused_folder(run_dir: Path, exc: OSError, fix: str = "pick a writable folder with --out") -> RunRefused:
    """One line for a run folder that cannot be created or written, ending with what to do (``fix``)."""
    if is_disk_full(exc):
        return RunRefused([f"{run_dir}: {disk_full_message(Path(run_dir).parent)}"])
    return RunRefused([f"{run_dir}: cannot write the run folder ({describe_os_error(exc)}) — {fix}"])
