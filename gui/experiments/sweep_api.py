"""The engine's sweep API (``engine.sweep``), reached lazily so opening the window never imports it.

``engine.sweep`` imports Optuna only inside its functions, but it pulls in the
runner; the panel asks for it when it first reads a study or starts a sweep.
"""

from __future__ import annotations

from types import ModuleType


def api() -> ModuleType:
    """The ``engine.sweep`` package (the contract of issue 14: read_study, run_sweep, SweepConfig, ...)."""
    import engine.sweep as sweep

    return sweep


def default_storage() -> str:
    """Where studies live unless told otherwise: ``sqlite:///$LOOM_HOME/sweeps.db`` (shared with ``loom sweep``)."""
    from engine.sweep.study import default_storage as storage

    return storage()


def study_name_for(workflow) -> str:  # noqa: ANN001 - engine.workflow.Workflow
    """The study a workflow's sweep goes to by default: the same name ``loom sweep`` gives it."""
    from engine.sweep.study import slug

    return slug(getattr(workflow, "name", "") or "sweep")
