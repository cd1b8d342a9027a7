"""*Open best as workflow*: the workflow a study searched, with its best trial's settings, as a new document.

The base workflow is the one this session started the study with, else the
one a trial's run folder recorded (``workflow.json``), else the canvas's: a
study started by ``loom sweep`` in a terminal opens just as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui.experiments.sweep_api import api


def study_workflow(view: Any, config: Any = None) -> Any:
    """The workflow ``view``'s study searched (None when nothing says): ``config``'s, else a trial folder's."""
    from gui.past_runs import workflow_of

    if config is not None and config.study_name == view.name:
        return config.workflow
    for trial in sorted(view.trials, key=lambda t: t.state != "complete"):
        if trial.run_dir:
            found = workflow_of(Path(trial.run_dir))
            if found is not None:
                return found
    return None


def open_best(window: Any, view: Any, config: Any = None) -> bool:
    """Load the best trial's workflow into ``window`` as a new untitled document (like the Runs panel's Reuse)."""
    from engine.errors import UserInputError

    base = study_workflow(view, config) or window.doc.workflow
    try:
        best = api().best_workflow(view, base)
    except UserInputError as exc:
        window.show_error("Cannot open the best trial", str(exc))
        return False
    if not window.maybe_save():
        return False
    window.load_workflow(best)
    window.doc.path = None  # a new document: Save asks where
    window.doc.path_changed.emit()
    window.statusBar().showMessage(f"Best trial {view.best.number} of study '{view.name}' opened as a new document",
                                   8000)
    return True
