"""A step's warnings, kept with its cached outputs, so a cache hit says them again.

A data step that reads a Windows-1252 CSV, skips a binary file or cuts long
texts warns once, when it computes; the next run reuses its result from the
cache and would otherwise never mention it.  The warnings ride in the
outputs' ``report`` (datasets have one), which the cache already keeps.
"""

from __future__ import annotations

from typing import Any

from engine import events as ev


class WarningCollector:
    """The warnings one node logs while it runs (an event subscriber)."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.lines: list[str] = []

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.LogLine) and event.level == "warning" and event.node_id == self.node_id:
            self.lines.append(event.message)


WARNINGS_KEY = "warnings"  # in an output's report: what its step warned about, said again on a cache hit


def keep_warnings(result: dict[str, Any], warned: list[str]) -> None:
    """Keep a step's warnings with its outputs' reports (datasets have one), so a cached result still says them."""
    if not warned:
        return
    for value in result.values():
        report = getattr(value, "report", None)
        if isinstance(report, dict):
            report[WARNINGS_KEY] = list(warned)


def cached_warnings(cached: dict[str, Any]) -> list[str]:
    for value in cached.values():
        report = getattr(value, "report", None)
        if isinstance(report, dict) and isinstance(report.get(WARNINGS_KEY), list):
            return [str(w) for w in report[WARNINGS_KEY]]
    return []
