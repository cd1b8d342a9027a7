"""Side-by-side measurement for the benches: A and B alternate A B B A over rounds.

Alternating cancels slow drifts of a shared machine (another process starting,
thermal throttling) that would favour whichever side runs second.  Every
round's ratio is printed with the load average, then the median: a figure
another run can reproduce, never a best-of.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R", float, tuple[float, ...])


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load {one:.2f} {five:.2f} {fifteen:.2f}"
    except OSError:  # not on this platform
        return "load n/a"


def first(result: float | tuple[float, ...]) -> float:
    return result[0] if isinstance(result, tuple) else result


def abba(measure_a: Callable[[], R], measure_b: Callable[[], R], rounds: int,
         label: str = "round", show: Callable[[float], str] | None = None) -> list[tuple[R, R]]:
    """``rounds`` pairs (A's result, B's result); a round runs A then B, the next B then A.

    A result is a rate (higher is better) or a tuple of rates; the first is printed per round,
    through ``show`` when given (e.g. ``lambda r: f"{1 / r:.1f} s"`` for rates that are 1/seconds).
    """
    show = show or (lambda rate: f"{rate:,.2f}")
    pairs = []
    for r in range(rounds):
        if r % 2 == 0:
            a = measure_a()
            b = measure_b()
        else:
            b = measure_b()
            a = measure_a()
        pairs.append((a, b))
        print(f"  {label} {r + 1}: A {show(first(a))}  B {show(first(b))}  ratio {first(a) / first(b):.3f}  "
              f"({load_average()})", flush=True)
    return pairs


def ratios(pairs: list[tuple[R, R]], index: int = 0) -> list[float]:
    """Per-round A/B ratios of the ``index``-th rate."""
    pick = (lambda r: r[index]) if index else first  # noqa: E731
    return [pick(a) / pick(b) for a, b in pairs]


def summary(name: str, per_round: list[float], target: float | None = None) -> str:
    spread = f"{min(per_round):.3f}..{max(per_round):.3f}"
    goal = f" (target >= {target})" if target is not None else ""
    return (f"{name}: median ratio {statistics.median(per_round):.3f}{goal}, per-round {spread}, "
            f"{len(per_round)} rounds, {load_average()}")
