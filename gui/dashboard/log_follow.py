"""A reopened run's log, at its own time stamps.

``log.txt`` stores only ``HH:MM:SS``; :class:`~engine.logfile.LogClock` puts
each line back on the run's date, so a reopened log shows when things
happened, not when it was reopened.  (A run still being written is followed
whole, log included, by :mod:`gui.follow`.)
"""

from __future__ import annotations

from engine.logfile import LogClock, parse_log
from gui.dashboard.console import LogConsole

__all__ = ["LogClock", "show_lines"]


def show_lines(console: LogConsole, lines: list[str], clock: LogClock) -> None:
    """Log lines, as written, into ``console`` at their original times."""
    for entry in parse_log(lines):
        console.append(entry.level, entry.message, entry.node_id, clock.at(entry.stamp))
