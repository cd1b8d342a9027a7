"""*New sweep…*: the drafted parameters and how to search them (trials, sampler, pruning, metric, study name).

The dialog builds the contract's ``SweepConfig`` for the canvas's workflow; it
refuses to start with nothing to search or without a study name, in words.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.experiments.draft import SweepDraft, describe
from gui.experiments.sweep_api import api, study_name_for

SAMPLERS = (("tpe", "TPE (Bayesian: learns from earlier trials)"), ("random", "Random"),
            ("grid", "Grid (every combination: choices and small integer ranges)"))
PRUNING = (("median", "Median (stop trials behind the median of earlier ones)"), ("none", "None (every trial runs to the end)"))


def metrics_of(workflow: Any) -> list[str]:
    """The metrics the workflow reports (the engine knows which step reports what), per-epoch validation first."""
    names = list(api().reported_metrics(workflow))
    return sorted(names, key=lambda n: (not n.startswith("val_"), n))


class NewSweepDialog(QDialog):
    """Edit the draft and the search settings; :meth:`config` is the SweepConfig once accepted."""

    def __init__(self, draft: SweepDraft, workflow: Any, parent: QWidget | None = None, study: str = "",
                 trials: int = 20) -> None:
        super().__init__(parent)
        self.draft, self.workflow = draft, workflow
        self.setWindowTitle("New sweep")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Parameters to search (right-click a setting in the inspector → <i>Sweep this…</i>):"))
        self.list = QListWidget()
        self.list.setMaximumHeight(120)
        layout.addWidget(self.list)
        remove = QPushButton("Remove selected")
        remove.clicked.connect(self._remove)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(remove)
        layout.addLayout(row)
        form = QFormLayout()
        self.trials = QSpinBox(minimum=1, maximum=10000, value=trials)
        self.trials.setToolTip("The study ends when this many trials have finished (complete or pruned)")
        self.sampler = QComboBox()
        for value, text in SAMPLERS:
            self.sampler.addItem(text, value)
        self.prune = QComboBox()
        for value, text in PRUNING:
            self.prune.addItem(text, value)
        self.metric_box = QComboBox()
        self.metric_box.setToolTip("The per-epoch metric each trial is judged (and pruned) by")
        self.direction = QComboBox()
        self.direction.addItems(["maximize", "minimize"])
        self.metric_box.currentTextChanged.connect(
            lambda t: self.direction.setCurrentText("maximize" if api().default_maximize(t) else "minimize"))
        self.metric_box.addItems(metrics_of(workflow))
        self.study = QLineEdit(study or study_name_for(workflow))
        for label, widget in (("Trials", self.trials), ("Sampler", self.sampler), ("Pruning", self.prune),
                              ("Metric", self.metric_box), ("Goal", self.direction), ("Study name", self.study)):
            form.addRow(label, widget)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setStyleSheet("color: #e03131;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Start sweep")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        draft.changed.connect(self._fill)
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        for param in self.draft.params:
            item = QListWidgetItem(describe(param))
            item.setData(256, param.key)
            self.list.addItem(item)
        if not self.draft.params:
            self.list.addItem("(nothing yet)")

    def _remove(self) -> None:
        for item in self.list.selectedItems():
            if item.data(256):
                self.draft.remove(item.data(256))

    def config(self) -> Any:
        """The SweepConfig the dialog describes; ValueError in words when it cannot start."""
        if not self.draft.params:
            raise ValueError("Nothing to search yet: right-click a setting in the inspector and choose Sweep this….")
        name = self.study.text().strip()
        if not name:
            raise ValueError("Give the study a name: running it again later continues it.")
        metric = self.metric_box.currentText().strip()
        if not metric:
            raise ValueError("This workflow reports no metric a sweep could judge trials by (add a train step).")
        from gui.paths import runs_root

        return api().SweepConfig(workflow=self.workflow.copy(), params=list(self.draft.params),
                                 trials=self.trials.value(), sampler=self.sampler.currentData(),
                                 prune=self.prune.currentData(), metric=metric,
                                 maximize=self.direction.currentText() == "maximize", study=name,
                                 runs_root=str(runs_root()))

    def accept(self) -> None:
        try:
            self.result_config = self.config()
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        super().accept()
