"""The format of a run's ``log.txt``: written by the run store, read back by the dashboard.

One line per log event: ``HH:MM:SS LEVEL   [node] message``.  A message of
several lines (a traceback) continues on the following lines, which do not
start with a time stamp; :func:`parse_log` folds them back into their entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LOG_NAME = "log.txt"
LEVELS = ("debug", "info", "warning", "error")
_LINE = re.compile(r"^(\d\d:\d\d:\d\d) (DEBUG|INFO|WARNING|ERROR)\s+(?:\[([^\]]+)\] )?(.*)$")


class LogClock:
    """Turns a log line's ``HH:MM:SS`` back into a time, on the run's start date (a run may pass midnight).

    ``started`` is run.json's ISO start time; without one, :meth:`at` gives None.
    """

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


@dataclass(frozen=True)
class LogEntry:
    stamp: str  # HH:MM:SS, local time
    level: str  # one of LEVELS
    node_id: str
    message: str


def format_line(when: float, level: str, node_id: str, message: str) -> str:
    """The text written for one log event (with its trailing newline)."""
    stamp = dt.datetime.fromtimestamp(when).strftime("%H:%M:%S")
    prefix = f"[{node_id}] " if node_id else ""
    return f"{stamp} {level.upper():7s} {prefix}{message}\n"


def parse_log(lines: Iterable[str]) -> list[LogEntry]:
    """Entries of a log file; continuation lines join the entry above them."""
    entries: list[LogEntry] = []
    for raw in lines:
        line = raw.rstrip("\n")
        m = _LINE.match(line)
        if m:
            entries.append(LogEntry(m.group(1), m.group(2).lower(), m.group(3) or "", m.group(4)))
        elif entries and line:
            last = entries[-1]
            entries[-1] = LogEntry(last.stamp, last.level, last.node_id, f"{last.message}\n{line}")
    return entries


def read_complete_lines(path: Path, offset: int | None = None, limit: int = 16 * 1024 * 1024) -> tuple[list[str], int]:
    """The whole lines of ``path`` from byte ``offset``, and the offset just after the last one.

    A log still being written may end in half a line: it is left for the next
    read, so a follower never shows a cut message.  A file that shrank (a new
    log in its place) is read again from the start.  At most ``limit`` bytes
    are read at once; the next call goes on from where this one stopped.
    Without ``offset``, the file's last ``limit`` bytes are read (from a line's start).
    """
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        skip_partial = offset is None and size > limit
        if offset is None:
            offset = max(0, size - limit - 1)  # one byte before: is the tail's first byte a line's start?
        elif size < offset:
            offset = 0
        f.seek(offset)
        data = f.read(min(limit + skip_partial, size - offset))
    if skip_partial:  # the tail of a long log starts mid-line: begin at the next whole line
        cut = data.find(b"\n") + 1
        data, offset = data[cut:], offset + cut
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    text = data[: end + 1].decode("utf-8", errors="replace")
    return text.splitlines(), offset + end + 1
