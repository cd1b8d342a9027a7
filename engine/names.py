"""Typed names: the states and policies that used to be bare strings.

Each is a ``str`` enum, so it compares equal to, prints as and serialises to
its value ("running", "disk"): run.json, workflow files and events keep the
same text, while code gets one definition per meaning.  Python 3.10 has no
``enum.StrEnum``; :class:`TextEnum` is that, written once.
"""

from __future__ import annotations

from enum import Enum


class TextEnum(str, Enum):
    """A ``str`` enum that prints and formats as its value on every Python."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class NodeStatus(TextEnum):
    """Where one node of a run is, in the order a node normally passes through them."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"
    STOPPED = "stopped"


class RunStatus(TextEnum):
    """How a whole run stands (run.json's ``status``)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


class CachePolicy(TextEnum):
    """Where the runner may keep a step's outputs between runs."""

    DISK = "disk"  # survives between processes; outputs offer to_state/from_state
    MEMORY = "memory"  # reused within one session (the app)
    NONE = "none"  # always recomputed (exports, evaluations: they write files)
