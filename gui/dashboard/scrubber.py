"""Streams of frames over training steps, with a stream picker and a step scrubber.

The image preview (sample grids) and the text samples (a language model's
writing) are the same thing to the analyst: "what the model made at step N",
one stream per node and name, the newest shown until the slider is moved
back.  This base keeps the frames and the controls; a subclass only says
how a frame is shown, cleared and reloaded from its file.

Only the newest :data:`KEEP_IN_MEMORY` frames of a stream keep their payload;
older ones are reloaded from the file the engine saved, so a long run does
not grow the app's memory without bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

KEEP_IN_MEMORY = 16


@dataclass
class Frame:
    step: int
    payload: Any  # what the subclass shows (a QImage, a str); None once evicted to its file
    path: str = ""


class SteppedStreams(QWidget):
    """Frames per stream (``"node: name"``); shows one, newest first unless the analyst scrubs back."""

    frame_shown = Signal(str, int)  # stream, step
    empty_text = "nothing yet"
    stream_tip = "Which stream to show (node: name)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.streams: dict[str, list[Frame]] = {}
        self.current_stream = ""
        self.follow_latest = True
        self.auto_stream = True
        self.shown_step = 0
        self.shown_index = -1
        self.stream_box = QComboBox()
        self.stream_box.setToolTip(self.stream_tip)
        self.stream_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.stream_box.setMinimumContentsLength(10)  # it stretches; a narrow dock still fits the buttons beside it
        self.stream_box.activated.connect(lambda i: self._stream_chosen(self.stream_box.itemText(i)))
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Drag to see what was made at earlier steps")
        self.slider.valueChanged.connect(self._scrubbed)
        self.step_label = QLabel(self.empty_text)
        self.top = QHBoxLayout()
        self.top.addWidget(self.stream_box, 1)

    def finish_layout(self, display: QWidget) -> None:
        """Stream picker (plus the subclass's buttons) above, ``display`` in the middle, the scrubber below."""
        bottom = QHBoxLayout()
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.step_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self.top)
        layout.addWidget(display, 1)
        layout.addLayout(bottom)

    # -- what a subclass provides ---------------------------------------------------------------------
    def display(self, payload: Any) -> None:
        raise NotImplementedError

    def blank(self) -> None:
        raise NotImplementedError

    def load_file(self, path: str) -> Any:
        raise NotImplementedError

    # -- feeding ------------------------------------------------------------------------------------------
    def add_frame(self, stream: str, step: int, payload: Any, path: str = "") -> None:
        frames = self.streams.setdefault(stream, [])
        frames.append(Frame(step, payload, path))
        if len(frames) > KEEP_IN_MEMORY and frames[-KEEP_IN_MEMORY - 1].path:
            frames[-KEEP_IN_MEMORY - 1].payload = None  # reloaded from its file if scrubbed back to
        if self.stream_box.findText(stream) < 0:
            self.stream_box.addItem(stream)
        if not self.current_stream or (self.auto_stream and stream != self.current_stream):
            self._switch(stream)  # follow whatever is producing, until the user picks a stream
        if stream == self.current_stream:
            at_end = self.follow_latest or self.slider.value() == self.slider.maximum()
            self.slider.blockSignals(True)
            self.slider.setMaximum(len(frames) - 1)
            self.slider.blockSignals(False)
            if at_end:
                self.show_index(len(frames) - 1)

    def clear(self) -> None:
        self.streams.clear()
        self.current_stream = ""
        self.stream_box.clear()
        self.slider.setRange(0, 0)
        self.step_label.setText(self.empty_text)
        self.follow_latest = True
        self.auto_stream = True
        self.shown_step, self.shown_index = 0, -1
        self.blank()

    # -- showing ------------------------------------------------------------------------------------------
    def frames(self) -> list[Frame]:
        return self.streams.get(self.current_stream, [])

    def payload_of(self, frame: Frame) -> Any:
        return frame.payload if frame.payload is not None else self.load_file(frame.path)

    def shown_payload(self) -> Any:
        frames = self.frames()
        return self.payload_of(frames[self.shown_index]) if frames and self.shown_index >= 0 else None

    def show_index(self, index: int) -> None:
        frames = self.frames()
        if not frames:
            return
        index = max(0, min(index, len(frames) - 1))
        frame = frames[index]
        self.display(self.payload_of(frame))
        self.shown_step, self.shown_index = frame.step, index
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.step_label.setText(f"step {frame.step}  ({index + 1}/{len(frames)})")
        self.frame_shown.emit(self.current_stream, frame.step)

    def select_stream(self, stream: str) -> None:
        """Show ``stream`` and stay on it (as if the analyst had picked it)."""
        if stream in self.streams:
            self._stream_chosen(stream)

    def _scrubbed(self, index: int) -> None:
        self.follow_latest = index == self.slider.maximum()
        self.show_index(index)

    def _stream_chosen(self, stream: str) -> None:
        self.auto_stream = False
        self._switch(stream)

    def _switch(self, stream: str) -> None:
        if not stream:
            return
        self.current_stream = stream
        self.stream_box.setCurrentText(stream)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self.frames()) - 1, 0))
        self.slider.blockSignals(False)
        self.show_index(len(self.frames()) - 1)
