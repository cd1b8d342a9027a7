"""Training time: across resumes, without pauses, against an optional budget.

The clock reads time through the module-level :func:`now`, so a test can
replace it (``monkeypatch.setattr(engine.training.clock, "now", fake)``) and
check time-dependent behaviour — budgets, ETA — without racing a real clock.
"""

from __future__ import annotations

import time


def now() -> float:
    """Seconds from an arbitrary origin; the one time source of training loops."""
    return time.perf_counter()


class TrainingClock:
    """``already_s`` is the training time spent before the checkpoint a run resumed from."""

    def __init__(self, budget_min: float = 0.0, already_s: float = 0.0) -> None:
        self.budget_s = max(0.0, float(budget_min)) * 60.0
        self._already_s = float(already_s)
        self._session_start = now()
        self._excluded = 0.0

    def session_seconds(self) -> float:
        """Training time in this process (pauses excluded)."""
        return now() - self._session_start - self._excluded

    def elapsed(self) -> float:
        """Training time of the whole run, earlier sessions included."""
        return self._already_s + self.session_seconds()

    def exclude(self, seconds: float) -> None:
        """Do not count ``seconds`` (a pause) as training time."""
        self._excluded += max(0.0, seconds)

    def spent(self) -> bool:
        """True once a time budget is set and used up."""
        return self.budget_s > 0 and self.elapsed() >= self.budget_s

    def left(self) -> float | None:
        return max(0.0, self.budget_s - self.elapsed()) if self.budget_s else None
