"""*Run ▸ Run Settings…*: how many processes train a run here, and the command lines for a cluster.

Runs in the app train on this computer.  With more than one process the app
starts ``loom run --nproc N`` (PyTorch's own launcher, DDP) and follows its run
folder in the dashboard, like any run.  A cluster is driven from its own
terminals or scheduler, so for more machines the dialog writes the command
for each, ready to copy, and says what the world size does to the batch
size and the learning rate.  The GPU count comes from the driver, read in
the background: the dialog neither waits nor imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.launch_command import DEFAULT_PORT, PLACEHOLDER_HOST, DistributedPlan, cluster_commands
from gui import tasks

PROCESSES_KEY = "run/processes"
MAX_MACHINES = 256
UNSAVED = "FLOW.json"


def saved_processes(settings: Any) -> int:
    """The remembered number of processes on this computer (1 when unset or unreadable)."""
    try:
        return max(1, int(settings.q.value(PROCESSES_KEY, 1)))
    except (TypeError, ValueError):
        return 1


def local_process_limit(gpus: int) -> int:
    """One process per GPU where there are several; on a CPU the cores (more processes only share them)."""
    return gpus if gpus > 1 else max(1, os.cpu_count() or 1)


def batch_note(world_size: int) -> str:
    """What the world size does to the optimisation, in the analyst's words."""
    if world_size <= 1:
        return "One process: batches, learning rate and results are those of a plain run."
    return (f"{world_size} processes each train on their own 1/{world_size} of every epoch, so one step sees "
            f"batch_size × {world_size} samples and an epoch has 1/{world_size} of the steps. To learn as much per "
            f"epoch, raise the learning rate with the batch (up to {world_size}×, with warm-up), or divide batch_size "
            f"by {world_size} to keep a single process's optimisation.")


def _count_gpus() -> int:
    """The driver's GPU count: the dialog never imports torch for it (see engine.device_probe)."""
    from engine.device_probe import nvidia_gpus

    return len(nvidia_gpus())


class RunSettingsDialog(QDialog):
    """Processes on this computer (remembered), and the cluster command lines for the open workflow."""

    def __init__(self, settings: Any, workflow_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.workflow = str(workflow_path) if workflow_path else UNSAVED
        self.setWindowTitle("Run Settings — Loom")
        self.setMinimumWidth(760)
        layout = QVBoxLayout(self)

        here = QGroupBox("This computer")
        form = QFormLayout(here)
        self.processes = QSpinBox()
        self.processes.setRange(1, local_process_limit(0))
        self.processes.setValue(min(saved_processes(settings), self.processes.maximum()))
        self.processes.setToolTip("Worker processes that train the run together (DDP): one per GPU where there are "
                                  "several. On a CPU they share the same cores, which is rarely faster.")
        form.addRow("Processes on this computer:", self.processes)
        self.hardware = QLabel("Counting GPUs…", wordWrap=True)
        form.addRow("", self.hardware)
        layout.addWidget(here)

        cluster = QGroupBox("On a cluster")
        form = QFormLayout(cluster)
        self.machines = QSpinBox()
        self.machines.setRange(1, MAX_MACHINES)
        form.addRow("Machines:", self.machines)
        self.endpoint = QLineEdit(f"{PLACEHOLDER_HOST}:{DEFAULT_PORT}")
        self.endpoint.setToolTip("The first machine's name or address and a free port; every machine must reach it.")
        form.addRow("Rendezvous (host:port):", self.endpoint)
        self.commands = QPlainTextEdit(readOnly=True)
        self.commands.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.commands.setMinimumHeight(130)
        self.commands.setLineWrapMode(QPlainTextEdit.NoWrap)  # one command per line, as it will be pasted
        form.addRow(self.commands)
        self.copy = QPushButton("Copy commands")
        self.copy.clicked.connect(self.copy_commands)
        form.addRow("", self.copy)
        layout.addWidget(cluster)

        self.note = QLabel(wordWrap=True)
        self.problem = QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #c0392b")
        layout.addWidget(self.note)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.Ok)
        layout.addWidget(buttons)

        for spin in (self.processes, self.machines):
            spin.valueChanged.connect(self.refresh)
        self.endpoint.textChanged.connect(self.refresh)
        self.refresh()
        tasks.launch(self._learn_hardware(), owner=self)

    def plan(self) -> DistributedPlan:
        return DistributedPlan(self.workflow, self.processes.value(), self.machines.value(),
                               self.endpoint.text().strip())

    def refresh(self) -> None:
        plan = self.plan()
        problems = plan.problems()
        self.commands.setPlainText("\n".join(cluster_commands(plan)))
        saved = "" if self.workflow != UNSAVED else " Save the workflow to get its file name in the commands."
        self.note.setText(batch_note(plan.world_size) + saved)
        self.problem.setText("\n".join(problems))
        self.copy.setEnabled(not problems)

    def copy_commands(self) -> None:
        QGuiApplication.clipboard().setText(self.commands.toPlainText())

    def accept(self) -> None:
        self.settings.q.setValue(PROCESSES_KEY, self.processes.value())
        super().accept()

    async def _learn_hardware(self) -> None:
        try:
            gpus = await tasks.run_blocking(_count_gpus)
        except Exception:  # noqa: BLE001 - a broken CUDA install must not break a settings dialog
            gpus = 0
        self.processes.setMaximum(max(local_process_limit(gpus), self.processes.value()))
        cores = os.cpu_count() or 1
        self.hardware.setText(f"{gpus} CUDA GPUs: one process per GPU." if gpus > 1 else
                              f"{'1 CUDA GPU' if gpus == 1 else 'No CUDA GPU'}, {cores} CPU cores: several processes "
                              "share them (gloo), useful to try a cluster set-up before moving it.")
