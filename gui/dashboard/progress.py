"""Progress of the running node: bar, epoch, step, ETA, samples/s and accelerator memory.

Only a moving run has an ETA and a speed.  Paused, the bar says "paused at
step N"; ended (stopped, failed), it says where the run got to and drops the
ETA and samples/s, which no longer describe anything.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from engine import events as ev
from engine.context import USER_STOP
from engine.names import RunStatus


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class RunProgress(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setFormat("idle")
        self.bar.setValue(0)
        self.details = QLabel("")
        self.memory = QLabel("")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.details, 3)
        layout.addWidget(self.memory)
        self.last: ev.Progress | None = None
        self.paused = False
        self.ended = False
        self.latest_step = 0

    def update_progress(self, p: ev.Progress) -> None:
        self.last = p
        self.bar.setValue(int(p.fraction * 1000))
        if self.paused:  # a last event that was under way when Pause was pressed
            self._show_still("paused")
            return
        self.bar.setFormat(f"{p.node_id}: {p.fraction * 100:.0f}%")
        parts = self._position(p)
        parts.append(f"ETA {format_eta(p.eta_s)}")
        if p.samples_per_s:
            parts.append(f"{p.samples_per_s:,.0f} samples/s")
        self.details.setText(" · ".join(parts))
        self.memory.setText(f"GPU memory {p.memory_mb:,.0f} MB" if p.memory_mb is not None else "")

    @staticmethod
    def _position(p: ev.Progress, step: int | None = None) -> list[str]:
        parts = []
        if p.total_epochs:
            parts.append(f"epoch {p.epoch}/{p.total_epochs}")
        if p.total_steps:
            parts.append(f"step {step or p.step}/{p.total_steps}")
        return parts

    def note_step(self, step: int) -> None:
        """A step the run has reached (its curve points): fresher than the throttled Progress events."""
        self.latest_step = max(self.latest_step, int(step))

    def rewound(self, step: int) -> None:
        self.latest_step = min(self.latest_step, int(step))

    def refresh_still(self) -> None:
        """After a batch of events while paused: the bar follows the step the run really stopped at."""
        if self.paused and not self.ended:
            self._show_still("paused")

    def set_paused(self, paused: bool) -> None:
        """Pause shown on the bar itself; resuming shows the live figures again."""
        self.paused = paused
        if self.ended:
            return
        if paused:
            self._show_still("paused")
        elif self.last is not None:
            self.update_progress(self.last)

    def set_ended(self, status: str, message: str = "", step: int | None = None) -> None:
        """The run ended: where it got to, without an ETA or a speed (a succeeded run fills the bar)."""
        self.ended, self.paused = True, False
        if status == RunStatus.SUCCEEDED:
            self.bar.setValue(1000)
            self.bar.setFormat(str(status))
            self.details.setText(" · ".join(self._position(self.last, step or self.latest_step)) if self.last else "")
        else:
            self._show_still(status, step)
            if message and message != USER_STOP:
                self.details.setText(" · ".join(filter(None, [self.details.text(), message])))
        self.memory.setText("")

    def _show_still(self, word: str, step: int | None = None) -> None:
        """``word at step N`` on the bar, the position (no ETA, no speed) beside it."""
        p = self.last
        if step is None:
            step = max(self.latest_step, p.step if p is not None else 0) or None
        where = f" at step {step}" if step else ""
        self.bar.setFormat(f"{p.node_id + ': ' if p is not None else ''}{word}{where}")
        self.details.setText(" · ".join(self._position(p, step)) if p is not None else "")

    def begin(self, text: str) -> None:
        """A run (or a continued one) is under way again."""
        self.paused = self.ended = False
        self.set_status(text, 0.0)

    def set_status(self, text: str, fraction: float | None = None) -> None:
        self.bar.setFormat(text)
        if fraction is not None:
            self.bar.setValue(int(fraction * 1000))

    def reset(self) -> None:
        self.last = None
        self.paused = self.ended = False
        self.latest_step = 0
        self.bar.setValue(0)
        self.bar.setFormat("idle")
        self.details.setText("")
        self.memory.setText("")
