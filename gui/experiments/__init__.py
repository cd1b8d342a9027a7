"""The Experiments panel: sweeps of a workflow's settings (Optuna studies run by ``engine.sweep``), in the app.

* :mod:`gui.experiments.panel` – the dock: study picker, Start / Pause / Continue, the trials and their plots
* :mod:`gui.experiments.table` – the trials table (sortable, best highlighted, pruned marked)
* :mod:`gui.experiments.plots` – parallel coordinates and parameter importance
* :mod:`gui.experiments.curves` – the selected trials' curves overlaid
* :mod:`gui.experiments.draft` – *Sweep this…* from the inspector: one parameter's range, checked in words
* :mod:`gui.experiments.best` – *Open best as workflow*
* :mod:`gui.experiments.new_sweep` – *New sweep…*: trials, sampler, pruning, metric, study name
* :mod:`gui.experiments.sweeping` – ``run_sweep`` in the background, its trials and events back on the GUI thread
* :mod:`gui.experiments.sweep_api` – the engine's sweep API (``engine.sweep``), reached lazily
"""

from __future__ import annotations

from gui.experiments.panel import ExperimentsPanel

__all__ = ["ExperimentsPanel"]
