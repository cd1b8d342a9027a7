"""Wiring the welcome screen, the wizards and the results page into the main window.

Everything goes through the main window's public API (``load_workflow``,
``start_run``, ``add_page``/``show_page``, ``open_file``, ``doc``,
``dashboard``, ``runs``), so the wizards stay a guest in the window: they
build an ordinary workflow, put it on the canvas and press Run like a person.
What comes after a run (Export model, Generate more) opens a dialog that
works from the run's saved model: nothing is added to the canvas or run again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction

from engine.names import RunStatus
from engine.workflow import Endpoint, Workflow
from gui.export_dialog import ExportDialog, open_export_dialog
from gui.generate_dialog import GenerateDialog, open_generate_dialog
from gui.results import ResultsPage
from gui.welcome import WelcomeScreen
from gui.wizards.base import LoomWizard

log = logging.getLogger(__name__)

REQUIRED = ("load_workflow", "start_run", "add_page", "show_page", "open_file", "doc", "dashboard",
            "dashboard_dock", "runs", "settings", "menuBar")


def wizard_class(kind: str) -> type[LoomWizard]:
    if kind == "classify":
        from gui.wizards.classify import ClassifyWizard

        return ClassifyWizard
    if kind == "generate":
        from gui.wizards.generate import GenerateWizard

        return GenerateWizard
    if kind == "finetune":
        from gui.wizards.finetune import FinetuneWizard

        return FinetuneWizard
    if kind == "classify_text":
        from gui.wizards.text_classify import TextClassifyWizard

        return TextClassifyWizard
    if kind == "write":
        from gui.wizards.write import WriteWizard

        return WriteWizard
    raise ValueError(f"unknown wizard {kind!r}")


def export_step_for(workflow: Workflow) -> tuple[str, Endpoint, str] | None:
    """(export step type, the trained output to feed it, its input port) for this workflow, if Loom has one."""
    from engine.ports import accepts
    from engine.steps.registry import all_steps, get_step

    exports = [s for s in all_steps() if s.category == "export" and s.inputs]
    for node in workflow.nodes:
        spec = get_step(node.type)
        if spec is None or spec.category != "train":
            continue
        for out in spec.outputs:
            for exp in exports:
                port = next((p for p in exp.inputs if accepts(p.type, out.type)), None)
                if port is not None:
                    return exp.type, Endpoint(node.id, out.name), port.name
    return None


def is_generator_workflow(workflow: Workflow) -> bool:
    return any(n.type == "generate" for n in workflow.nodes)


def is_writer_workflow(workflow: Workflow) -> bool:
    """A language model that writes (its results show text, its "generate more" asks for new text)."""
    return any(n.type == "generate_text" for n in workflow.nodes)


class WizardsController(QObject):
    """Owns the welcome and results pages and the open wizard for one main window."""

    def __init__(self, window: Any) -> None:
        missing = [name for name in REQUIRED if not hasattr(window, name)]
        if missing:
            raise RuntimeError(f"install_wizards: the main window lacks {', '.join(missing)}; "
                               "the wizards need this public API (see gui/wizards/install.py)")
        super().__init__(window)
        self.window = window
        self.wizard: LoomWizard | None = None
        self.wizard_kind = ""
        self.wizard_runs: dict[str, str] = {}  # run folder -> the wizard kind that built its workflow
        self.last_run_dir: Path | None = None
        self.welcome = WelcomeScreen()
        self.results = ResultsPage()
        window.add_page("welcome", self.welcome)
        window.add_page("results", self.results)
        self._build_menu()
        self.welcome.wizard_requested.connect(self.open_wizard)
        self.welcome.example_requested.connect(self._open_path)
        self.welcome.recent_requested.connect(self._open_path)
        self.welcome.canvas_requested.connect(lambda: window.start_empty_canvas())
        self.results.back_requested.connect(lambda: window.show_page("canvas"))
        self.results.train_again_requested.connect(self.train_again)
        self.results.export_requested.connect(self.export_model)
        self.results.generate_more_requested.connect(self.generate_more)
        self.results.continue_requested.connect(self.continue_training)
        # after load_workflow has finished (it shows the canvas once the document is replaced)
        window.doc.reset.connect(lambda: QTimer.singleShot(0, self._document_replaced))
        window.runs.finished.connect(self._run_finished)
        window.runs.events.connect(self._follow_samples)
        self.samples_node = ""  # while set: switch the preview to this node's samples when they appear
        QTimer.singleShot(0, self._document_replaced)  # first launch: an empty canvas shows the welcome

    # -- pages ---------------------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Start")
        self.actions: dict[str, QAction] = {}
        for key, text in (("welcome", "&Welcome Screen"), ("classify", "&Classify Images…"),
                          ("generate", "&Generate Images…"), ("finetune", "&Fine-tune a Pretrained Model…"),
                          ("classify_text", "Classify &Text…"), ("write", "&Write Like My Text…")):
            action = QAction(text, self.window)
            if key == "welcome":
                action.triggered.connect(lambda _c=False: self.show_welcome())
            else:
                action.triggered.connect(lambda _c=False, k=key: self.open_wizard(k))
            menu.addAction(action)
            self.actions[key] = action
        self.menu = menu

    def show_welcome(self) -> None:
        from gui.paths import examples_dir

        folder = examples_dir()
        self.welcome.set_examples(sorted(folder.glob("*.json")) if folder.is_dir() else [])
        self.welcome.set_recent(self.window.settings.recent_files())
        self.window.show_page("welcome")

    def _document_replaced(self) -> None:
        if not self.window.doc.workflow.nodes:
            self.show_welcome()

    def _open_path(self, path: Path) -> None:
        if self.window.maybe_save() if hasattr(self.window, "maybe_save") else True:
            self.window.open_file(path)

    # -- wizards -----------------------------------------------------------------------------------------------
    def open_wizard(self, kind: str, choices: Any = None) -> LoomWizard:
        """Open a wizard (window-modal, non-blocking); its Finish builds and starts the workflow."""
        if self.wizard is not None:
            self.wizard.close()
        wizard = wizard_class(kind)(self.window, choices=choices)
        wizard.workflow_ready.connect(lambda wf, start, k=kind: self._workflow_ready(k, wf, start))
        self.wizard, self.wizard_kind = wizard, kind
        wizard.open()
        return wizard

    def _workflow_ready(self, kind: str, workflow: Workflow, start: bool) -> None:
        w = self.window
        w.load_workflow(workflow)  # shows the canvas
        if not start:
            return
        handle = w.start_run()
        if handle is None:
            return
        self.wizard_runs[str(handle.run_dir)] = kind
        if is_generator_workflow(workflow):
            w.dashboard.tabs.setCurrentWidget(w.dashboard.preview)  # the dashboard opens on the samples
            self.samples_node = "train"
        elif is_writer_workflow(workflow):
            w.dashboard.tabs.setCurrentWidget(w.dashboard.texts)  # the samples it writes as it learns
        w.dashboard_dock.show()
        w.dashboard_dock.raise_()

    def _follow_samples(self, _events: list) -> None:
        """Show the training samples, not the data preview that arrives first (once; then the analyst decides)."""
        if not self.samples_node:
            return
        preview = self.window.dashboard.preview
        stream = next((s for s in preview.streams if s.split(":", 1)[0] == self.samples_node), "")
        if stream:
            self.samples_node = ""
            preview.stream_box.setCurrentText(stream)

    def train_again(self) -> None:
        kind = self.wizard_runs.get(str(self.last_run_dir), "")
        if kind:
            self.open_wizard(kind)  # remembered choices: the analyst changes only what they want
        else:
            self.window.show_page("canvas")

    # -- after a run ---------------------------------------------------------------------------------------------
    def _run_finished(self, status: str, _message: str) -> None:
        """A wizard's run that succeeded, or was stopped (it can be continued from there), shows its results."""
        run_dir = getattr(self.window.runs, "run_dir", None)
        if run_dir is None or str(run_dir) not in self.wizard_runs:
            return
        if status in (RunStatus.SUCCEEDED, RunStatus.STOPPED):
            self.show_results(run_dir)

    def show_results(self, run_dir: str | Path) -> bool:
        """The results page for any run folder, judged by the workflow it ran (not whatever the canvas shows)."""
        from gui.past_runs import workflow_of

        self.last_run_dir = Path(run_dir)
        workflow = workflow_of(self.last_run_dir) or self.window.doc.workflow
        try:
            self.results.show_run(run_dir, can_export=export_step_for(workflow) is not None,
                                  is_generator=is_generator_workflow(workflow) or is_writer_workflow(workflow),
                                  is_writer=is_writer_workflow(workflow))
        except Exception as exc:  # a half-written run folder must not break the window
            log.warning("cannot show the results of %s: %s", run_dir, exc)
            self.window.statusBar().showMessage(f"Cannot show the results of {Path(run_dir).name}: {exc}", 8000)
            return False
        self.window.show_page("results")
        return True

    def continue_training(self) -> None:
        """The results page's Continue training: the run goes on from its checkpoints, on the canvas."""
        if self.last_run_dir is not None:
            self.window.continue_run(self.last_run_dir)  # shows the canvas and its dashboard when it starts

    def export_model(self) -> ExportDialog | None:
        """The Export dialog for the run on the results page: files from its saved weights, no new run."""
        if self.last_run_dir is None:
            return None
        return open_export_dialog(self.window, self.last_run_dir)

    def generate_more(self) -> GenerateDialog | None:
        """The Generate more dialog for the run on the results page: new images or texts, no new run."""
        if self.last_run_dir is None:
            return None
        return open_generate_dialog(self.window, self.last_run_dir)


def install_wizards(main_window: Any) -> WizardsController:
    """Add the welcome screen, the Start menu with the wizards and the results page to ``main_window``."""
    controller = WizardsController(main_window)
    main_window.wizards = controller
    return controller
