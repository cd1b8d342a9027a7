"""*Find learning rate…*: the range test of a train step, its curve, and the suggestion to apply or not.

The test runs in the background (:func:`engine.lr_finder.find_lr` through
:func:`gui.tasks.run_blocking`) on a copy of the workflow as it was when the
dialog opened, with the app's node cache, so data a run prepared is reused.
The dialog shows the smoothed loss against the learning rate (log axis),
the suggestion as a labelled vertical line and the node's current rate as a
dashed one, because a suggestion read off a curve can be wrong and the
analyst should see the curve before trusting it.  The value is editable;
*Apply* sets it as one undoable edit (its own step on the undo stack, never
merged with typing in the inspector).  Nothing changes before *Apply*.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.context import RunControl
from engine.errors import RunStopped, UserInputError
from gui import tasks
from gui.commands import Macro, SetParam
from gui.theme import colors

log = logging.getLogger(__name__)
PARAM = "lr"
SUGGESTION_COLOR = "#e8590c"
CURVE_COLOR = "#2f80ed"


class LrFinderDialog(QDialog):
    """Busy while the test runs; then the curve, the suggestion in an editable field, *Apply* and *Cancel*."""

    def __init__(self, doc: Any, node_id: str, runs: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc, self.node_id, self.runs = doc, node_id, runs
        self.workflow = doc.workflow.copy()  # what the test measures, whatever is edited meanwhile
        self.control = RunControl()  # Cancel stops the test at its next batch
        self.fraction = [0.0]  # written by the worker (a plain list outlives the dialog), read by the timer
        self.result: Any = None  # engine.lr_finder.LrFinderResult
        self.state = "running"  # running | done | failed | cancelled
        self.plot: Any = None
        self.suggestion_line: Any = None
        self.setWindowTitle(f"Find learning rate for {node_id} — Loom")
        self.setAttribute(Qt.WA_DeleteOnClose)  # the test's task ends with the dialog
        self.resize(720, 560)

        self.intro = QLabel(
            f"Training a throw-away copy of <b>{node_id}</b>'s model for up to 100 batches while its learning rate "
            "grows from 1e-7 to 10, and measuring the loss. Nothing in the workflow changes until you press Apply.")
        self.intro.setWordWrap(True)
        self.busy_label = QLabel("Preparing the data…")
        self.busy_label.setObjectName("lr_finder_status")
        self.busy_label.setWordWrap(True)
        self.busy_label.setAlignment(Qt.AlignCenter)
        self.busy_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        busy = QWidget()
        busy_layout = QVBoxLayout(busy)
        busy_layout.addStretch(1)
        busy_layout.addWidget(self.busy_label)
        busy_layout.addWidget(self.progress)
        busy_layout.addStretch(1)
        self.plot_host = QWidget()
        self.plot_layout = QVBoxLayout(self.plot_host)
        self.plot_layout.setContentsMargins(0, 0, 0, 0)
        self.pages = QStackedWidget()
        self.pages.addWidget(busy)
        self.pages.addWidget(self.plot_host)
        self.message = QLabel()
        self.message.setObjectName("lr_finder_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.value = QLineEdit()
        self.value.setObjectName("lr_finder_value")
        self.value.setMinimumWidth(140)
        self.value.setEnabled(False)
        self.value.setToolTip("The learning rate Apply sets; edit it if the curve suggests another.")
        self.value.textEdited.connect(lambda _text: self._check_value())
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldsStayAtSizeHint)
        form.addRow(f"Learning rate for {node_id}.{PARAM}:", self.value)

        self.buttons = QDialogButtonBox()
        self.apply_button: QPushButton = self.buttons.addButton("Apply", QDialogButtonBox.AcceptRole)
        self.cancel_button: QPushButton = self.buttons.addButton(QDialogButtonBox.Cancel)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._show_progress)
        self.timer.start(100)
        self.task = tasks.launch(self._find(), owner=self, on_error=self._failed)

    # -- the test ---------------------------------------------------------------------------------------------------
    async def _find(self) -> None:
        self.result = await tasks.run_blocking(run_test, self.workflow, self.node_id, self.runs, self.control,
                                               self.fraction)
        self._show_result()

    def _show_progress(self) -> None:
        if self.state != "running":
            self.timer.stop()
            return
        if self.fraction[0] > 0:
            self.busy_label.setText("Testing learning rates…")
            self.progress.setRange(0, 100)
            self.progress.setValue(int(self.fraction[0] * 100))

    def _show_result(self) -> None:
        result = self.result
        self.state = "done"
        self.timer.stop()
        self._draw(result)
        self.pages.setCurrentWidget(self.plot_host)
        self.message.setText(_sentence(result))
        self.value.setText(f"{result.suggestion:g}")
        self.value.setEnabled(True)
        self.apply_button.setEnabled(True)
        self.apply_button.setDefault(True)

    def _failed(self, exc: BaseException) -> None:
        self.timer.stop()
        if isinstance(exc, RunStopped):
            self.state = "cancelled"
            return
        self.state = "failed"
        if not isinstance(exc, UserInputError):
            log.warning("the learning-rate finder failed", exc_info=exc)
        self.progress.hide()
        self.busy_label.setText(_failure(exc))  # in the middle, where the curve would be
        self.message.setText("Fix this, then press Find learning rate again.")
        self.cancel_button.setText("Close")

    # -- the curve --------------------------------------------------------------------------------------------------
    def _draw(self, result: Any) -> None:
        import pyqtgraph as pg

        c = colors()
        plot = pg.PlotWidget(background=c.plot_bg)
        plot.setObjectName("lr_finder_plot")
        plot.setLogMode(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("bottom", "learning rate")
        plot.setLabel("left", "training loss")
        legend = plot.addLegend(offset=(10, -10))  # bottom left: the curve starts high there, so it is free
        legend.setLabelTextColor(c.plot_fg)
        for axis in ("bottom", "left"):
            plot.getAxis(axis).setTextPen(c.plot_fg)
            plot.getAxis(axis).setPen(c.plot_fg)
        plot.plot(result.lrs, result.losses, pen=pg.mkPen("#56606e" if c.dark else "#c5ccd6", width=1),
                  name="loss of each batch")
        plot.plot(result.lrs, result.smoothed, pen=pg.mkPen(CURVE_COLOR, width=2), name="smoothed")
        label_opts = {"position": 0.92, "color": SUGGESTION_COLOR, "fill": c.plot_bg, "movable": False}
        self.suggestion_line = pg.InfiniteLine(
            pos=math.log10(result.suggestion), angle=90, pen=pg.mkPen(SUGGESTION_COLOR, width=2),
            label=f"suggested {result.suggestion:g}", labelOpts=label_opts)
        plot.addItem(self.suggestion_line)
        if result.current > 0:
            current = pg.InfiniteLine(
                pos=math.log10(result.current), angle=90, pen=pg.mkPen(c.plot_fg, width=1, style=Qt.DashLine),
                label=f"now {result.current:g}",
                labelOpts={"position": 0.1, "color": c.plot_fg, "fill": c.plot_bg, "movable": False})
            plot.addItem(current)
        low, high = _y_range(result.losses, result.smoothed)
        plot.setYRange(low, high, padding=0.05)
        plot.setXRange(math.log10(result.lrs[0]), math.log10(result.lrs[-1]), padding=0.02)
        self.plot_layout.addWidget(plot)
        self.plot = plot

    # -- the answer -------------------------------------------------------------------------------------------------
    def _check_value(self) -> float | None:
        """The field's rate when the step accepts it; else None, with why under the curve."""
        node = self.doc.workflow.node(self.node_id)
        spec = self.doc.catalog.get(node.type) if node is not None else None
        decl = spec.param(PARAM) if spec is not None else None
        if decl is None:
            self.message.setText(f"The step '{self.node_id}' is gone or has no learning rate: nothing to apply.")
            self.apply_button.setEnabled(False)
            return None
        try:
            value = float(decl.parse(self.value.text()))
        except ValueError as exc:  # ParamError is a ValueError
            self.message.setText(f"{self.node_id}.{PARAM}: {exc}")
            self.apply_button.setEnabled(False)
            return None
        self.apply_button.setEnabled(True)
        if self.result is not None:
            self.message.setText(_sentence(self.result))
        return value

    def apply(self) -> None:
        """Set the rate as one undoable edit, then close."""
        value = self._check_value()
        if value is None or self.state != "done":
            return
        macro = Macro(f"Set {self.node_id}.{PARAM} to {value:g} (learning-rate finder)")
        macro.add(SetParam(self.doc, self.node_id, PARAM, value))
        self.doc.undo_stack.push(macro)
        self.accept()

    def done(self, code: int) -> None:  # noqa: D401 - Qt's name; every way out (Apply, Cancel, Esc, close) ends here
        if self.state == "running":
            self.state = "cancelled"
            self.control.stop()  # the worker ends at its next batch (or before its first)
            self.task.cancel()
        self.timer.stop()
        super().done(code)


def run_test(workflow: Any, node_id: str, runs: Any, control: RunControl, fraction: list[float]) -> Any:
    """On a worker thread: the engine's range test, with the app's node cache when there is one."""
    from engine.lr_finder import find_lr
    from gui.run_control import leave_a_core_for_the_ui

    leave_a_core_for_the_ui()  # as a run does: the window keeps a core while torch trains
    cache = runs.engine.cache if runs is not None else None

    def progress(value: float) -> None:
        fraction[0] = value

    return find_lr(workflow, node_id, cache=cache, control=control, on_progress=progress)


def _sentence(result: Any) -> str:
    """What the curve says, for the analyst."""
    how = ("where the smoothed loss falls fastest" if result.method == "steepest"
           else "a tenth of the rate with the lowest loss (the loss never fell steeply)")
    end = (f"The loss blew up at {result.diverged_at:.2g}, so the test stopped there."
           if result.diverged_at is not None else f"The range ended at {result.lrs[-1]:.2g} without the loss blowing up.")
    return (f"Suggested: {result.suggestion:g}, {how}. The smoothed loss was lowest at {result.min_loss_lr:.2g}. "
            f"{end} Now: {result.current:g}.")


def _failure(exc: BaseException) -> str:
    if isinstance(exc, UserInputError):
        lines = str(exc).splitlines()
        return "The test could not start: " + " ".join(lines[:4]) + (" …" if len(lines) > 4 else "")
    text = " ".join(str(exc).split())
    return f"The test failed ({type(exc).__name__}{': ' + text[:200] if text else ''})."


def _y_range(losses: list[float], smoothed: list[float]) -> tuple[float, float]:
    """From the lowest loss to a little above where the curve started: the climb after divergence runs off the top."""
    low = min(min(losses), min(smoothed))
    start = max(smoothed[: max(1, len(smoothed) // 10)])
    high = max(start * 1.15, low * 1.5)
    return low * 0.9, high


def finder_button(inspector: Any, node_id: str, spec: Any) -> QWidget | None:
    """The inspector's *Find learning rate…* button, for the train steps the finder supports."""
    from engine.lr_finder import SUPPORTED

    if spec.type not in SUPPORTED or spec.param(PARAM) is None:
        return None
    button = QPushButton("Find learning rate…")
    button.setObjectName("find_lr_button")
    button.setToolTip("Train a copy of the model briefly at growing learning rates, see the loss curve and apply "
                      "a suggested rate (nothing changes until you apply it)")
    button.clicked.connect(lambda: open_lr_finder(inspector, node_id))
    return button


def open_lr_finder(inspector: Any, node_id: str) -> LrFinderDialog:
    window = inspector.window()
    dialog = LrFinderDialog(inspector.doc, node_id, getattr(window, "runs", None), window)
    inspector.lr_finder = dialog  # for tests and screenshots
    dialog.open()
    return dialog
