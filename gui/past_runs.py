"""Past runs, in one place: the Runs panel's list, open, compare, reuse, move to trash, and what comes after.

The Runs panel (:class:`gui.history.RunHistory`) and the File menu only say
what the analyst wants; this controller does it for its window.  Everything
that reads or moves many files — the index query, a comparison reading every
run's metrics, moving folders to the trash — runs in the background
(:mod:`gui.tasks`), so a long history or a slow disk never freezes the
window.  Questions go through the window's ``ask`` and handled errors
through its ``show_error``, like every other prompt.  A run's right-click
menu (:meth:`PastRuns.menu_for`) offers what its run.json says it can do:
its results page, Try it for a classifier, Export, Generate more for a
generator or language model, Continue training for a run that ended early,
and Add to Queue (its workflow, as it ran, lined up in the Queue panel).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from engine.names import RunStatus
from gui import tasks
from gui.history import RunHistory

if TYPE_CHECKING:
    from gui.compare import CompareDialog
    from gui.main_window import MainWindow


ENDED_EARLY = (RunStatus.STOPPED, RunStatus.FAILED, RunStatus.RUNNING)  # RUNNING, when not ours: it crashed


@dataclass(frozen=True)
class RunOffers:
    """What one past run can do next, from its run.json (a few kB: read when its menu opens)."""

    classifier: bool = False  # it left a classifier card: Try it, Export
    images: bool = False  # it left an image generator: Generate more images
    texts: bool = False  # it left a language model: Generate more text
    ended_early: bool = False  # stopped, failed or crashed: Continue training


def run_offers(run_dir: str | Path, status: str = "") -> RunOffers:
    """Read ``run_dir``'s run.json for :class:`RunOffers` (an unreadable one offers nothing but Continue)."""
    from engine.errors import UserInputError
    from engine.store import read_run

    try:
        info = read_run(Path(run_dir))
    except (UserInputError, OSError, ValueError):
        return RunOffers(ended_early=status in ENDED_EARLY)
    kinds = {str(art.get("kind")) for art in info.get("artifacts", [])}
    return RunOffers(classifier=bool(kinds & {"model_card", "classifier"}), images="generator" in kinds,
                     texts="language_model" in kinds, ended_early=(info.get("status") or status) in ENDED_EARLY)


def list_runs() -> list[dict[str, Any]]:
    """The index's runs, newest first (in the executor: SQLite and a stat per run folder)."""
    from engine.run_index import RunIndex

    return RunIndex().list()


def move_to_trash(run_dirs: list[str]) -> tuple[int, list[str]]:
    """Move run folders to the system trash and forget them in the index; (moved, the ones that could not go)."""
    from PySide6.QtCore import QFile

    from engine.run_index import RunIndex

    moved, failed = 0, []
    index = RunIndex()
    for run_dir in run_dirs:
        if QFile.moveToTrash(str(run_dir)):
            index.forget(Path(run_dir))
            moved += 1
        else:
            failed.append(str(run_dir))
    return moved, failed


class PastRuns(QObject):
    """Open, compare, reuse and trash finished runs for ``window``; keeps ``panel`` listing them."""

    def __init__(self, window: MainWindow, panel: RunHistory) -> None:
        super().__init__(window)
        self.window = window
        self.panel = panel
        self._refreshing: asyncio.Task | None = None
        self.listed: list[dict[str, Any]] = []  # the index's rows as last shown, newest first
        panel.open_run.connect(self.open)
        panel.compare_runs.connect(self.compare)
        panel.reuse_run.connect(self.reuse)
        panel.trash_runs.connect(self.trash)
        panel.refresh_requested.connect(self.refresh)
        panel.menu_requested.connect(lambda dirs, pos: self.menu_for(dirs).popup(pos))

    # -- the list -----------------------------------------------------------------------------------
    def refresh(self) -> asyncio.Task:
        """Re-read the index in the background; the newest request wins.

        The window calls it when it is first shown and whenever a run starts or
        ends (the engine lists a run as *running* when it starts), so the list is
        never stale; the panel's Refresh button only re-reads what other
        processes (``loom run`` in a terminal) added.
        """
        if self._refreshing is not None:
            self._refreshing.cancel()
        self._refreshing = tasks.launch(self._refresh(), owner=self.panel)
        return self._refreshing

    async def _refresh(self) -> list[dict[str, Any]]:
        runs = await tasks.run_blocking(list_runs)
        self.listed = runs
        self.panel.show_runs(runs)
        return runs

    def last_unfinished(self) -> str | None:
        """The newest listed run that ended early (stopped, failed, or crashed while *running*), if any."""
        active = str(self.window.runs.run_dir) if self.window.runs.active else None
        for run in self.listed:
            if run.get("exists") and run.get("status") in (RunStatus.STOPPED, RunStatus.FAILED, RunStatus.RUNNING) and run["run_dir"] != active:
                return str(run["run_dir"])
        return None

    # -- open -----------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, "Open run folder", str(Path.home()))
        if path:
            self.open(path)

    def open(self, run_dir: str | Path) -> bool:
        """A run's dashboard, and its node states on the canvas when the canvas shows its workflow.

        A run still *running* (another process writes it) is followed: curves, pictures, log, states and
        progress move as its folder grows, until its final status (:mod:`gui.follow`).

        An empty canvas gets the run's workflow (as a new untitled document, as Reuse does); a canvas holding
        another workflow is left alone: painting this run's states on someone else's nodes would mislead.
        """
        from engine.errors import UserInputError

        w = self.window
        ran = workflow_of(Path(run_dir))
        if ran is not None and not w.doc.workflow.nodes:
            w.load_workflow(ran)  # resets the dashboard: before the run is loaded into it
        try:
            info = w.dashboard.load_run(run_dir)
        except UserInputError as exc:
            w.show_error("Cannot open run", str(exc))
            return False
        same = ran is not None and same_nodes(ran) == same_nodes(w.doc.workflow)
        if w.dashboard.follower is not None:  # still running in another process: followed, states as they change
            from gui.follow import attach

            attach(w, w.dashboard.follower, paint=same)
        elif same:
            for node_id, node in info.get("nodes", {}).items():
                w.scene.set_node_state(node_id, node.get("state", ""), node.get("message", ""))
        w.show_page("canvas")  # the dashboard is a dock of the canvas page
        w.dashboard_dock.raise_()
        note = "" if same else " — the canvas shows another workflow; Reuse opens this run's"
        w.statusBar().showMessage(f"Run {info.get('run_id')}: {info.get('status')}{note}", 8000)
        return True

    # -- a run's menu: what comes after it --------------------------------------------------------------------
    def menu_for(self, run_dirs: list[str]) -> QMenu:
        """The right-click menu for the selected runs: entries a run cannot do are shown disabled, not hidden."""
        w = self.window
        menu = QMenu(self.panel)
        one = len(run_dirs) == 1
        run_dir = run_dirs[0] if one else ""
        active = w.runs.active and str(w.runs.run_dir) == run_dir
        offers = run_offers(run_dir, self.panel.status_of(run_dir)) if one else RunOffers()

        def add(text: str, slot: Callable[[], object], enabled: bool, tip: str = "") -> None:
            action = menu.addAction(text)
            action.setEnabled(enabled)
            action.setToolTip(tip)
            action.triggered.connect(lambda _checked=False: slot())

        add("Open dashboard", lambda: self.open(run_dir), one)
        add("Show results", lambda: self.results(run_dir), one and not active)
        menu.addSeparator()
        add("Try it…", lambda: self.try_it(run_dir), offers.classifier, "Drop images or type text and see its guesses")
        add("Export model…", lambda: self.export(run_dir), offers.classifier and not active)
        add("Generate more text…" if offers.texts else "Generate more images…", lambda: self.generate(run_dir),
            (offers.images or offers.texts) and not active)
        add("Continue training", lambda: w.continue_run(run_dir), offers.ended_early and not active and not w.runs.active,
            "Go on from the run's last checkpoint, in its own folder")
        menu.addSeparator()
        add("Compare", lambda: self.compare(run_dirs), len(run_dirs) >= 2)
        add("Reuse", lambda: self.reuse(run_dir), one)
        add("Add to Queue", lambda: w.queue.add_run(run_dir), one,
            "Line up this run's workflow, as it ran, to run again when the queue reaches it")
        add("Move to trash", lambda: self.trash(run_dirs), bool(run_dirs) and not active)
        menu.setToolTipsVisible(True)
        return menu

    def results(self, run_dir: str | Path) -> bool:
        """The run's results page (scores, confusion matrix, Try it, Export, Continue)."""
        wizards = getattr(self.window, "wizards", None)
        if wizards is None:
            return self.open(run_dir)
        return wizards.show_results(run_dir)

    def try_it(self, run_dir: str | Path):  # noqa: ANN201 - QDialog
        from gui.try_panel import open_try_dialog

        return open_try_dialog(self.window, run_dir)

    def export(self, run_dir: str | Path):  # noqa: ANN201 - ExportDialog
        from gui.export_dialog import open_export_dialog

        return open_export_dialog(self.window, run_dir)

    def generate(self, run_dir: str | Path):  # noqa: ANN201 - GenerateDialog
        from gui.generate_dialog import open_generate_dialog

        return open_generate_dialog(self.window, run_dir)

    # -- compare ----------------------------------------------------------------------------------------
    def compare(self, run_dirs: list[str]) -> asyncio.Task:
        """Read the runs in the background, then open a comparison (non-modal: several can stay open).

        The task's result is the dialog, or None when the runs could not be compared (the window says why).
        """
        return tasks.launch(self._compare([str(d) for d in run_dirs]), owner=self)

    async def _compare(self, run_dirs: list[str]) -> CompareDialog | None:
        from engine.compare import Comparison
        from engine.errors import UserInputError
        from gui.compare import CompareDialog

        try:
            comparison = await tasks.run_blocking(Comparison.of, run_dirs)
        except UserInputError as exc:
            self.window.show_error("Cannot compare runs", str(exc))
            return None
        dialog = CompareDialog(comparison, self.window)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- reuse ---------------------------------------------------------------------------------------------
    def reuse(self, run_dir: str | Path) -> bool:
        """The run's workflow, as it ran, as a new untitled document: edit a setting and run again."""
        w = self.window
        if not w.maybe_save() or not w.open_file(Path(run_dir) / "workflow.json"):
            return False
        w.doc.path = None  # Save must not write into the run folder
        w.doc.path_changed.emit()
        w.statusBar().showMessage(f"Workflow of run {Path(run_dir).name} opened as a new document", 6000)
        return True

    # -- move to trash ----------------------------------------------------------------------------------------
    def trash(self, run_dirs: list[str]) -> asyncio.Task | None:
        """Ask, then move the run folders to the trash in the background.

        None when the analyst said no; otherwise a task whose result is how many went.
        """
        names = ", ".join(Path(d).name for d in run_dirs[:3]) + (" …" if len(run_dirs) > 3 else "")
        plural = "s" if len(run_dirs) != 1 else ""
        answer = self.window.ask("Move runs to the trash",
                                 f"Move {len(run_dirs)} run folder{plural} ({names}) to the trash? You can restore "
                                 "them from there.", QMessageBox.Yes | QMessageBox.Cancel)
        if answer != QMessageBox.Yes:
            return None
        return tasks.launch(self._trash([str(d) for d in run_dirs]), owner=self)

    async def _trash(self, run_dirs: list[str]) -> int:
        moved, failed = await tasks.run_blocking(move_to_trash, run_dirs)
        self.refresh()
        if failed:
            self.window.show_error("Some runs were not moved",
                                   "This system has no trash Loom can use for:\n" + "\n".join(failed)
                                   + "\nDelete those folders yourself if you no longer need them.")
        return moved


def workflow_of(run_dir: Path):  # noqa: ANN202 - engine.workflow.Workflow | None
    """The workflow a run ran (its ``workflow.json``), or None when it cannot be read."""
    from engine.errors import UserInputError
    from engine.workflow import Workflow

    try:
        return Workflow.load(run_dir / "workflow.json")
    except (UserInputError, OSError, ValueError):
        return None


def same_nodes(workflow) -> set[tuple[str, str]]:  # noqa: ANN001
    """Node ids and types (compare two of these): enough to say a canvas shows the workflow a run ran."""
    return {(node.id, node.type) for node in workflow.nodes}
