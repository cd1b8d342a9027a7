"""Reading the growing files of a run folder: only whole lines, each exactly once.

A writer appends to ``metrics.csv`` and ``log.txt`` while we read, so the last
line may be half written: it is left for the next read (never parsed, never
lost).  ``metrics.csv`` is also *replaced* (``os.replace``) when a resumed run
rewinds its curves; :class:`MetricsTail` notices (another file, or a shorter
one) and reads the new file from its start, saying so, so the caller can drop
the points it gave before.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from engine.logfile import LogClock, LogEntry, parse_log, read_complete_lines
from engine.run_files import METRIC_FIELDS

CHUNK = 16 * 1024 * 1024  # at most this much is read per poll; the rest comes with the next one


def metric_rows(lines: list[str]) -> list[dict[str, Any]]:
    """The metric rows among whole ``lines`` (the header, a foreign or damaged line: skipped)."""
    rows = []
    for values in csv.reader(lines):
        if len(values) != len(METRIC_FIELDS):
            continue
        try:
            rows.append({"step": int(values[0]), "epoch": int(values[1]), "node": values[2], "name": values[3],
                         "value": float(values[4]), "time": float(values[5])})
        except ValueError:
            continue
    return rows


class MetricsTail:
    """The rows appended to a metrics.csv since the last :meth:`read`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.identity: tuple[int, int] | None = None  # (device, inode) of the file read so far

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """New whole rows, and whether the file was replaced (then the rows are the new file's, from its start)."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())  # the file opened, not whatever the name points at a moment later
                identity = (st.st_dev, st.st_ino)
                replaced = self.identity is not None and (identity != self.identity or st.st_size < self.offset)
                if replaced or self.identity is None:
                    self.offset = 0
                self.identity = identity
                if st.st_size <= self.offset:
                    return [], replaced
                f.seek(self.offset)
                data = f.read(min(CHUNK, st.st_size - self.offset))
        except OSError:  # not written yet, or gone for a moment
            return [], False
        end = data.rfind(b"\n")
        if end < 0:
            return [], replaced  # only half a line so far
        self.offset += end + 1
        text = data[: end + 1].decode("utf-8", errors="replace").replace("\0", "")
        return metric_rows(text.splitlines()), replaced


class LogTail:
    """The entries appended to a log.txt since the last :meth:`read` (the first read: its last ``first`` entries)."""

    def __init__(self, path: Path, clock: LogClock, first: int = 5000) -> None:
        self.path = Path(path)
        self.clock = clock
        self.first = first
        self.offset: int | None = None

    def read(self) -> list[tuple[LogEntry, float | None]]:
        """New entries with the time each was written (None when the run's date is unknown)."""
        try:
            lines, offset = read_complete_lines(self.path, self.offset)
        except OSError:
            return []
        entries = parse_log(lines)
        if self.offset is None:
            entries = entries[-self.first:]
        self.offset = offset
        return [(entry, self.clock.at(entry.stamp)) for entry in entries]
