"""Pages shared by the wizards (the budget and the review) and their common frame.

The data page lives in :mod:`gui.wizards.datapage`.

Every page validates in :meth:`validatePage` and, when it refuses, says why
in plain words in its red message line (Next stays clickable so the reason is
one click away, never a silently greyed button).  Pages write into the
wizard's choices dataclass only when they are left with Next, so Back keeps
whatever the analyst typed.  Background work of a page (folder scans,
timings) goes through :mod:`gui.tasks`, owned by the page: it is cancelled
when the wizard closes (see ``LoomWizard.done``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from gui.wizards.recipes import Budget, RecipeError, has_param

if TYPE_CHECKING:
    from gui.wizards.base import LoomWizard


def message_label() -> QLabel:
    """The red line where a page says why it cannot go on."""
    label = QLabel()
    label.setObjectName("wizardMessage")
    label.setWordWrap(True)
    label.setStyleSheet("color: #c92a2a; font-weight: 600;")
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def help_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def pixmap_of(pixels: Any, max_side: int = 260) -> QPixmap:
    from gui.dashboard.images import to_qimage

    pix = QPixmap.fromImage(to_qimage(pixels))
    if max(pix.width(), pix.height()) > max_side:
        pix = pix.scaled(max_side, max_side, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    elif max(pix.width(), pix.height()) < max_side // 2 and pix.width() > 0:
        factor = max(1, (max_side // 2) // max(pix.width(), pix.height()))
        pix = pix.scaled(pix.width() * factor, pix.height() * factor, Qt.KeepAspectRatio, Qt.FastTransformation)
    return pix


class LoomPage(QWizardPage):
    """A page with a help text at the top and a red message line at the bottom."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.body = QVBoxLayout()
        self.message = message_label()
        outer = QVBoxLayout(self)
        outer.addLayout(self.body, 1)
        outer.addWidget(self.message)

    @property
    def loom_wizard(self) -> LoomWizard:
        return self.wizard()  # type: ignore[return-value]

    def refuse(self, text: str) -> bool:
        self.message.setText(text)
        return not text


# -- budget ----------------------------------------------------------------------------------------------
class BudgetPage(LoomPage):
    """Epochs or minutes, and early stopping (on by default where the training step supports it)."""

    def __init__(self, budget: Budget, *, train_type: str, early_stopping: bool, estimate: Callable[[Budget], str] | None = None) -> None:
        super().__init__(
            "How long to train",
            "An epoch is one pass over all your training images. More epochs usually help, up to a point.",
        )
        self.budget = budget
        self.estimate = estimate
        self.epochs_radio = QRadioButton("A number of epochs:")
        self.minutes_radio = QRadioButton("A time limit, in minutes:")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(int(budget.epochs))
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.5, 10080)
        self.minutes.setDecimals(1)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(float(budget.minutes))
        grid = QGridLayout()
        grid.addWidget(self.epochs_radio, 0, 0)
        grid.addWidget(self.epochs, 0, 1)
        grid.addWidget(self.minutes_radio, 1, 0)
        grid.addWidget(self.minutes, 1, 1)
        grid.setColumnStretch(2, 1)
        self.body.addLayout(grid)
        self.minutes_supported = has_param(train_type, "time_budget")
        if not self.minutes_supported:
            self.minutes_radio.setEnabled(False)
            self.minutes.setEnabled(False)
            self.minutes_radio.setToolTip("This training step has no time limit setting yet: choose epochs.")
        self.minutes_radio.setChecked(budget.kind == "minutes" and self.minutes_supported)
        self.epochs_radio.setChecked(not self.minutes_radio.isChecked())
        self.body.addWidget(help_label(
            "With a time limit, training stops gracefully when the time is up and keeps the best model so far."
            if self.minutes_supported else
            "This kind of training has no time limit setting yet: choose a number of epochs "
            "(you can press Stop at any time and keep what was learned)."))
        self.early = QCheckBox("Stop early when the model stops improving on held-out images (recommended)")
        self.early.setChecked(budget.early_stopping)
        self.early_offered = early_stopping and has_param(train_type, "patience")
        self.early.setVisible(self.early_offered)
        self.body.addWidget(self.early)
        self.estimate_label = QLabel()
        self.estimate_label.setWordWrap(True)
        self.body.addWidget(self.estimate_label)
        self.body.addStretch(1)
        for signal in (self.epochs.valueChanged, self.minutes.valueChanged, self.epochs_radio.toggled):
            signal.connect(lambda *_: self._update_estimate())

    def current(self) -> Budget:
        return Budget(
            kind="minutes" if self.minutes_radio.isChecked() else "epochs",
            epochs=self.epochs.value(), minutes=self.minutes.value(),
            early_stopping=self.early_offered and self.early.isChecked(),
            patience=self.budget.patience,
        )

    def initializePage(self) -> None:  # noqa: N802
        self._update_estimate()

    def _update_estimate(self) -> None:
        if self.estimate is not None:
            self.estimate_label.setText(self.estimate(self.current()))

    def validatePage(self) -> bool:  # noqa: N802
        b = self.current()
        if b.kind == "minutes" and b.minutes <= 0:
            return self.refuse("Give a time limit above zero minutes.")
        self.budget.kind, self.budget.epochs, self.budget.minutes = b.kind, b.epochs, b.minutes
        self.budget.early_stopping = b.early_stopping
        return self.refuse("")


# -- review -----------------------------------------------------------------------------------------------
class ReviewPage(LoomPage):
    """What will be built, in words, with the workflow it becomes; Finish builds it and starts the run."""

    def __init__(self) -> None:
        super().__init__("Review",
                         "This is the workflow the wizard will put on the canvas. You can open and change any "
                         "step there later.")
        self.text = QLabel()
        self.text.setObjectName("review")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.body.addWidget(self.text, 1)
        self.start = QCheckBox("Start training as soon as the workflow is on the canvas")
        self.start.setChecked(True)
        self.body.addWidget(self.start)
        self.workflow = None

    def initializePage(self) -> None:  # noqa: N802
        self.message.clear()
        try:
            self.workflow = self.loom_wizard.build_workflow()
        except RecipeError as exc:
            self.workflow = None
            self.text.setText("")
            self.message.setText(str(exc))
            return
        self.text.setText(describe(self.workflow))

    def validatePage(self) -> bool:  # noqa: N802
        if self.workflow is None:
            return self.refuse(self.message.text() or "The workflow could not be built.")
        return True


def describe(workflow) -> str:
    """The workflow in plain words: one line per step with the settings the wizard chose."""
    from engine.steps.registry import get_step

    rows = [f"<p><b>{workflow.name}</b></p><ol>"]
    for node in workflow.nodes:
        spec = get_step(node.type)
        title = spec.title if spec else node.type
        settings = []
        for name, value in node.params.items():
            param = spec.param(name) if spec else None
            unit = f" {param.unit}" if param is not None and getattr(param, "unit", "") else ""
            shown = value if not isinstance(value, str) or len(value) < 48 else "…" + value[-45:]
            settings.append(f"{name} = {shown}{unit}")
        inputs = ", ".join(sorted({lk.source.node for lk in workflow.links_into(node.id)}))
        feed = f" ← {inputs}" if inputs else ""
        rows.append(f"<li><code>{node.id}</code>: {title}{feed}<br><small>{'; '.join(settings) or 'defaults'}</small></li>")
    rows.append("</ol>")
    return "".join(rows)
