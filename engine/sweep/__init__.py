"""Sweeps: search a workflow's settings with Optuna, each trial an ordinary run.

The shared API (the GUI's Experiments panel and ``loom sweep`` both use it)::

    SweepParam, parse_sweep_param   one searched parameter, from "train.lr=log:1e-4..1e-1"
    SweepConfig, run_sweep          run trials until the study has `trials` finished ones
    TrialRow, StudyView             a study read back as plain rows
    read_study, list_studies        reading the storage (never writes)
    param_importances, best_workflow

Additions to the contract (additive, existing calls unchanged):
``SweepConfig.runs_root`` (where trial run folders go, default "runs" like
``loom run``), ``TrialRow.message`` (why a failed trial failed),
``StudyView.finished()``, and :class:`SweepFailed` (raised by ``run_sweep``
after several trials in a row failed).  ``on_trial`` hears a trial when its
run starts (state "running", with its run folder) and when it ends.

Optuna is imported inside the functions only: importing this package is cheap.
"""

from engine.sweep.metrics import MetricSource, default_maximize, reported_metrics
from engine.sweep.space import SweepParam, parse_sweep_param
from engine.sweep.study import PRUNERS, SAMPLERS, SweepConfig
from engine.sweep.trials import SweepFailed, run_sweep
from engine.sweep.view import StudyView, TrialRow, best_workflow, list_studies, param_importances, read_study

__all__ = [
    "PRUNERS", "SAMPLERS", "MetricSource", "StudyView", "SweepConfig", "SweepFailed", "SweepParam", "TrialRow",
    "best_workflow", "default_maximize", "list_studies", "param_importances", "parse_sweep_param", "read_study",
    "reported_metrics", "run_sweep",
]
