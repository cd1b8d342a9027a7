"""Progress of the running node: bar, epoch, step, ETA, samples/s and accelerator memory."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from engine import events as ev


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

    def update_progress(self, p: ev.Progress) -> None:
        self.last = p
        self.bar.setValue(int(p.fraction * 1000))
        self.bar.setFormat(f"{p.node_id}: {p.fraction * 100:.0f}%")
        parts = []
        if p.total_epochs:
            parts.append(f"epoch {p.epoch}/{p.total_epochs}")
        if p.total_steps:
            parts.append(f"step {p.step}/{p.total_steps}")
        parts.append(f"ETA {format_eta(p.eta_s)}")
        if p.samples_per_s:
            parts.append(f"{p.samples_per_s:,.0f} samples/s")
        self.details.setText(" · ".join(parts))
        self.memory.setText(f"GPU memory {p.memory_mb:,.0f} MB" if p.memory_mb is not None else "")

    def set_status(self, text: str, fraction: float | None = None) -> None:
        self.bar.setFormat(text)
        if fraction is not None:
            self.bar.setValue(int(fraction * 1000))

    def reset(self) -> None:
        self.last = None
        self.bar.setValue(0)
        self.bar.setFormat("idle")
        self.details.setText("")
        self.memory.setText("")
