"""The engine's sweep API as the Experiments panel uses it: ``engine.sweep`` when present, else a reader stand-in.

The panel codes against the contract of issue 14 (``engine/sweep/__init__.py``).
While that package is being built on another branch, :func:`api` falls back to
this module's read-only stand-in: it reads an Optuna study from SQLite the way
the contract describes (trial params keyed ``node.param``, the run folder in the
trial's ``run_dir`` user attribute) so the panel can be built and tested.  It
cannot run a sweep: :func:`run_sweep` says so in words.  Nothing here trains.
Optuna is imported inside the functions: the window shows before it loads.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from engine.errors import UserInputError


def api() -> ModuleType:
    """``engine.sweep`` when it exists, else this module (same names, reading only)."""
    try:
        import engine.sweep as sweep  # noqa: PLC0415 - optional until the sweep branch lands
    except ImportError:
        import sys

        return sys.modules[__name__]
    return sweep


def default_storage() -> str:
    from engine.run_index import loom_home

    return f"sqlite:///{loom_home() / 'sweeps.db'}"


@dataclass(frozen=True)
class SweepParam:
    node: str
    param: str
    kind: str  # "float" | "int" | "choice"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    @property
    def key(self) -> str:
        return f"{self.node}.{self.param}"


@dataclass
class SweepConfig:
    workflow: Any
    params: list[SweepParam]
    trials: int = 20
    sampler: str = "tpe"
    prune: str = "median"
    metric: str = "val_accuracy"
    maximize: bool = True
    study: str = ""
    storage: str = ""
    device: str = "auto"
    disk_cache: bool = True


@dataclass
class TrialRow:
    number: int
    state: str  # "running" | "complete" | "pruned" | "failed"
    params: dict[str, Any]
    value: float | None
    run_dir: str | None
    epochs: int = 0


@dataclass
class StudyView:
    name: str
    storage: str
    metric: str
    maximize: bool
    params: list[SweepParam]
    trials: list[TrialRow] = field(default_factory=list)

    @property
    def best(self) -> TrialRow | None:
        done = [t for t in self.trials if t.state == "complete" and t.value is not None]
        if not done:
            return None
        return (max if self.maximize else min)(done, key=lambda t: t.value)


_STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "running"}


def _param_of(key: str, dist: Any) -> SweepParam:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    node, _, param = key.partition(".")
    if isinstance(dist, CategoricalDistribution):
        return SweepParam(node, param, "choice", choices=tuple(dist.choices))
    kind = "int" if isinstance(dist, IntDistribution) else "float"
    return SweepParam(node, param, kind, low=dist.low, high=dist.high, log=bool(dist.log))


def _best_of(values: dict[int, float], maximize: bool) -> float | None:
    finite = [v for v in values.values() if v is not None and math.isfinite(v)]
    return (max if maximize else min)(finite) if finite else None


def read_study(study: str, storage: str = "") -> StudyView:
    import optuna

    storage = storage or default_storage()
    if study not in list_studies(storage):
        raise UserInputError(f"there is no study named '{study}' in {storage}; pick one from the list or start a sweep")
    s = optuna.load_study(study_name=study, storage=storage)
    maximize = s.direction == optuna.study.StudyDirection.MAXIMIZE
    params: dict[str, SweepParam] = {}
    rows = []
    for t in s.get_trials(deepcopy=False):
        for key, dist in t.distributions.items():
            params.setdefault(key, _param_of(key, dist))
        state = _STATES.get(t.state.name, t.state.name.lower())
        value = t.value if state == "complete" else _best_of(t.intermediate_values, maximize)
        if state == "pruned" and t.value is not None:
            value = t.value
        rows.append(TrialRow(t.number, state, dict(t.params), value, t.user_attrs.get("run_dir"),
                             len(t.intermediate_values)))
    return StudyView(study, storage, str(s.user_attrs.get("metric", "value")), maximize, list(params.values()), rows)


def list_studies(storage: str = "") -> list[str]:
    storage = storage or default_storage()
    path = re.sub(r"^sqlite:///", "", storage)
    if storage.startswith("sqlite:///") and not Path(path).exists():
        return []  # never create an empty database just to list nothing
    import optuna

    return sorted(optuna.get_all_study_names(storage))


def param_importances(view: StudyView) -> dict[str, float]:
    if sum(t.state == "complete" for t in view.trials) < 2:
        return {}
    import optuna

    study = optuna.load_study(study_name=view.name, storage=view.storage)
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (ValueError, RuntimeError):
        return {}


def best_workflow(view: StudyView, workflow: Any) -> Any:
    best = view.best
    if best is None:
        raise UserInputError(f"study '{view.name}' has no complete trial yet: there is no best setting to open")
    out = workflow.copy()
    for key, value in best.params.items():
        node_id, _, param = key.partition(".")
        node = out.node(node_id)
        if node is None:
            raise UserInputError(f"the workflow has no node '{node_id}' (the study searched {key})")
        node.params[param] = value
    return out


def parse_sweep_param(text: str, workflow: Any) -> SweepParam:  # noqa: ARG001 - the engine's does the real parsing
    raise UserInputError("parsing sweep ranges needs engine.sweep (not installed in this build)")


def run_sweep(config: SweepConfig, on_trial: Callable[[TrialRow], None] | None = None,
              on_event: Callable[[Any], None] | None = None, stop: threading.Event | None = None) -> StudyView:
    raise UserInputError("running sweeps needs engine.sweep (not installed in this build)")
