"""A reopened run's log: its own time stamps, and new lines as a still-running run writes them.

``log.txt`` stores only ``HH:MM:SS``; :class:`LogClock` puts each line back on
the run's date, so a reopened log shows when things happened, not when it was
reopened.  :class:`LogFollower` polls the file about once a second and reads
the appended bytes in the background (:mod:`gui.tasks`), whole lines only: a
half-written last line waits for the next poll.  It stops once run.json says
the run has ended (after one last read) or when the dashboard shows another run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from engine.logfile import parse_log, read_complete_lines
from gui import tasks
from gui.dashboard.console import LogConsole

POLL_MS = 1000


class LogClock:
    """Turns a log line's ``HH:MM:SS`` back into a time, on the run's start date (a run may pass midnight)."""

    def __init__(self, started: str | None) -> None:
        try:
            self.day = dt.datetime.fromisoformat(started).astimezone() if started else None
        except (TypeError, ValueError):
            self.day = None
        self.last: float | None = None

    def at(self, stamp: str) -> float | None:
        if self.day is None:
            return None
        try:
            clock = dt.time.fromisoformat(stamp)
        except ValueError:
            return self.last
        when = self.day.replace(hour=clock.hour, minute=clock.minute, second=clock.second, microsecond=0)
        if self.last is not None and when.timestamp() < self.last - 3600:  # past midnight
            self.day += dt.timedelta(days=1)
            when += dt.timedelta(days=1)
        self.last = when.timestamp()
        return self.last


def show_lines(console: LogConsole, lines: list[str], clock: LogClock) -> None:
    """Log lines, as written, into ``console`` at their original times."""
    for entry in parse_log(lines):
        console.append(entry.level, entry.message, entry.node_id, clock.at(entry.stamp))


def poll(log_path: Path, offset: int, run_json: Path) -> tuple[list[str], int, bool]:
    """In the executor: the new whole lines, the next offset, and whether the run is still going."""
    try:
        lines, offset = read_complete_lines(log_path, offset)
    except OSError:
        lines = []
    try:
        going = json.loads(run_json.read_text(encoding="utf-8")).get("status") == "running"
    except (OSError, ValueError, AttributeError):
        going = True  # a run.json being replaced: ask again next time
    return lines, offset, going


class LogFollower(QObject):
    """Appends the lines another process adds to a reopened run's log."""

    def __init__(self, console: LogConsole, run_dir: Path, log_path: Path, offset: int, clock: LogClock,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.console, self.log_path, self.offset, self.clock = console, log_path, offset, clock
        self.run_json = run_dir / "run.json"
        self._task: asyncio.Task | None = None
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    @property
    def following(self) -> bool:
        return self.timer.isActive()

    def stop(self) -> None:
        self.timer.stop()
        if self._task is not None:
            self._task.cancel()

    def _tick(self) -> None:
        if self._task is None or self._task.done():
            self._task = tasks.launch(self._read(), owner=self)

    async def _read(self) -> None:
        lines, self.offset, going = await tasks.run_blocking(poll, self.log_path, self.offset, self.run_json)
        if not self.timer.isActive():
            return  # stopped while reading: the dashboard shows something else now
        show_lines(self.console, lines, self.clock)
        if not going:
            lines, self.offset, _ = await tasks.run_blocking(poll, self.log_path, self.offset, self.run_json)
            if self.timer.isActive():
                show_lines(self.console, lines, self.clock)
                self.timer.stop()
