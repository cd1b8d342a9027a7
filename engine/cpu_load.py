"""How many of this process's cores other programs are using right now.

A thread count measured fastest on a quiet machine is the slowest on a busy
one: torch's intra-op workers wait on each other at every op, and a core
taken by another program stalls them all (a small CNN measured 8x slower per
epoch on two threads than on one while another program kept a core busy).
So the CLI looks at the cores before it trains: two readings of the kernel's
CPU counters (``/proc/stat``) around the ~1 s torch import, less this
process's own CPU time, give the cores other programs kept busy in that
window.  Linux only; elsewhere (or when the window is too short to tell)
nothing is known and nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
MIN_WINDOW_S = 0.2  # the kernel counts in 10 ms ticks: a shorter window says too little


@dataclass(frozen=True)
class CpuSample:
    """One reading: busy and total ticks over this process's CPUs, its own CPU seconds, the wall clock."""

    busy: int
    total: int
    cpus: int
    own_s: float
    wall_s: float


def _allowed_cpus() -> set[int] | None:
    with contextlib.suppress(AttributeError, OSError):
        return set(os.sched_getaffinity(0))
    return None


def sample(stat: Path = PROC_STAT) -> CpuSample | None:
    """The counters of the CPUs this process may run on, now; None where the OS has no /proc/stat."""
    try:
        lines = stat.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return None
    allowed = _allowed_cpus()
    busy = total = cpus = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu" or not name[3:].isdigit():
            continue
        if allowed is not None and int(name[3:]) not in allowed:
            continue
        fields = [int(v) for v in rest.split()[:8]]  # user nice system idle iowait irq softirq steal
        if len(fields) < 5:
            continue
        idle = fields[3] + fields[4]
        busy += sum(fields) - idle
        total += sum(fields)
        cpus += 1
    if cpus == 0:
        return None
    return CpuSample(busy, total, cpus, time.process_time(), time.monotonic())


def busy_elsewhere(start: CpuSample | None, end: CpuSample | None) -> float | None:
    """Cores other programs kept busy between two samples (ours subtracted); None when it cannot be told."""
    if start is None or end is None or end.cpus != start.cpus:
        return None
    wall = end.wall_s - start.wall_s
    ticks = end.total - start.total
    if wall < MIN_WINDOW_S or ticks <= 0:
        return None
    busy_cores = (end.busy - start.busy) / ticks * end.cpus
    own_cores = (end.own_s - start.own_s) / wall
    return max(0.0, busy_cores - own_cores)


def fit_threads(threads: int, cores: int, busy: float | None) -> int:
    """``threads``, fewer when other programs hold cores: the cores left (a half-busy core counts as taken), >= 1."""
    if busy is None:
        return threads
    return max(1, min(threads, cores - int(busy + 0.5)))
