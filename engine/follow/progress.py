"""Where a followed training step is: the Progress event a live loop would send, rebuilt from its files.

A run folder holds no progress bar, but it holds what one is made of: the
loop's opening log line (``..., 20 epochs x 28 steps, ...``), the step and
epoch of every metrics.csv row with its wall time, and the node's batch size
in workflow.json.  From those, :class:`Pace` gives the fraction, the
position, the speed and the ETA.  Steps come from the rows, which a loop
writes every ``log_every`` steps, so the figures move in those jumps.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from engine import events as ev

PLAN = re.compile(r"\b(\d+) epochs x (\d+) steps\b")  # the training loop's opening log line
WINDOW = 30  # recent (time, step) pairs the speed is measured over


@dataclass
class Pace:
    """One training node's position and speed, from its rows."""

    node_id: str
    total_epochs: int = 0
    steps_per_epoch: int = 0
    samples_per_step: int = 0
    step: int = 0
    epoch: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=WINDOW))  # (time, step), one per step

    @classmethod
    def for_node(cls, node_id: str, params: dict[str, Any]) -> Pace:
        """Planned epochs and samples per step from the node's params, where it has them."""
        def whole(name: str, default: int = 0) -> int:
            value = params.get(name, default)
            return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default

        batch = whole("batch_size")
        return cls(node_id, total_epochs=whole("epochs"), samples_per_step=batch * whole("d_steps", 1))

    def plan(self, message: str) -> bool:
        """Read ``E epochs x S steps`` from a log line of this node; True when it said so."""
        m = PLAN.search(message)
        if m is None:
            return False
        self.total_epochs, self.steps_per_epoch = int(m.group(1)), int(m.group(2))
        return True

    def row(self, step: int, epoch: int, when: float) -> None:
        if step > self.step or not self.recent:
            self.recent.append((when, step))
        self.step, self.epoch = max(self.step, step), max(self.epoch, epoch)

    def restart(self) -> None:
        """The node's rows were rewound (a resume): measure again from its next rows."""
        self.step = self.epoch = 0
        self.recent.clear()

    @property
    def total_steps(self) -> int:
        return self.total_epochs * self.steps_per_epoch

    def rate(self) -> float:
        """Steps per second over the recent rows (0 until two rows are apart in time)."""
        if len(self.recent) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self.recent[0], self.recent[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def progress(self) -> ev.Progress:
        total = self.total_steps
        if total:
            fraction = self.step / total
        elif self.total_epochs:
            fraction = (self.epoch - 1) / self.total_epochs  # the epoch under way is not counted
        else:
            fraction = 0.0
        rate = self.rate()
        eta = (total - self.step) / rate if total and rate > 0 else None
        return ev.Progress(node_id=self.node_id, fraction=min(max(fraction, 0.0), 1.0), step=self.step,
                           total_steps=total, epoch=min(self.epoch, self.total_epochs) if self.total_epochs else self.epoch,
                           total_epochs=self.total_epochs, samples_per_s=rate * self.samples_per_step,
                           eta_s=max(eta, 0.0) if eta is not None else None)
