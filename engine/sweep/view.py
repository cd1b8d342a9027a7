"""Reading a study back: its trials as plain rows, the best one, parameter importance, the best workflow.

Everything here only reads the storage, so the app can refresh a table while
another process runs the trials.  A trial's value is its best epoch's metric
(what the sweep told Optuna for a complete trial; for a pruned, running or
failed one, the best of the per-epoch values it reported so far), never
its last epoch's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import UserInputError
from engine.sweep.space import SweepParam, apply_params
from engine.sweep.study import METRIC_ATTR, SPACE_ATTR, sqlite_path, storage
from engine.workflow import Workflow

if TYPE_CHECKING:
    import optuna

RUN_DIR_ATTR, EPOCHS_ATTR, VALUE_ATTR, MESSAGE_ATTR, SURPLUS_ATTR, SAME_AS_ATTR = (
    "loom_run_dir", "loom_epochs", "loom_value", "loom_message", "loom_surplus", "loom_same_as")
RUNNING, COMPLETE, PRUNED, FAILED = "running", "complete", "pruned", "failed"


@dataclass
class TrialRow:
    number: int
    state: str  # RUNNING | COMPLETE | PRUNED | FAILED
    params: dict[str, Any]  # {"train.lr": 0.003, ...}
    value: float | None  # the trial's best-epoch metric (not its last)
    run_dir: str | None
    epochs: int = 0
    message: str = ""  # why a failed trial failed


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
        """The complete trial with the best value (pruned trials were stopped for being worse)."""
        done = [t for t in self.trials if t.state == COMPLETE and t.value is not None]
        if not done:
            return None
        return (max if self.maximize else min)(done, key=lambda t: t.value)

    def finished(self) -> int:
        return sum(t.state in (COMPLETE, PRUNED) for t in self.trials)


def _state(trial: optuna.trial.FrozenTrial) -> str:
    from optuna.trial import TrialState

    return {TrialState.COMPLETE: COMPLETE, TrialState.PRUNED: PRUNED, TrialState.FAIL: FAILED}.get(
        trial.state, RUNNING)


def trial_row(trial: optuna.trial.FrozenTrial, maximize: bool) -> TrialRow:
    attrs = trial.user_attrs
    state = _state(trial)
    value: float | None = trial.value if state == COMPLETE else attrs.get(VALUE_ATTR)
    if value is None and trial.intermediate_values:
        value = (max if maximize else min)(trial.intermediate_values.values())
    return TrialRow(trial.number, state, dict(trial.params), value, attrs.get(RUN_DIR_ATTR),
                    int(attrs.get(EPOCHS_ATTR, len(trial.intermediate_values))), str(attrs.get(MESSAGE_ATTR, "")))


def view_of(study: optuna.Study, url: str) -> StudyView:
    from optuna.study import StudyDirection

    maximize = study.direction == StudyDirection.MAXIMIZE
    attrs = study.user_attrs
    params = [SweepParam.from_json(d) for d in attrs.get(SPACE_ATTR, [])]
    from optuna.trial import TrialState

    rows = [trial_row(t, maximize) for t in study.get_trials(deepcopy=False)  # queued ones have not started
            if t.state != TrialState.WAITING and not t.user_attrs.get(SURPLUS_ATTR)]
    return StudyView(study.study_name, url, str(attrs.get(METRIC_ATTR, "")), maximize, params, rows)


def _load(study: str, url: str) -> optuna.Study:
    import optuna

    store = storage(url, create=False)
    try:
        return optuna.load_study(study_name=study, storage=store)
    except KeyError:
        names = ", ".join(optuna.get_all_study_names(store)) or "none yet"
        raise UserInputError(f"no study '{study}' in {sqlite_path(url) or url} — the studies there: {names}") from None


def read_study(study: str, storage: str = "") -> StudyView:
    """The study's trials as rows; UserInputError when there is no such study."""
    from engine.sweep.study import default_storage

    url = storage or default_storage()
    return view_of(_load(study, url), url)


def list_studies(storage: str = "") -> list[str]:
    """The names of the studies in the storage; [] when it does not exist yet."""
    import optuna

    from engine.sweep.study import default_storage
    from engine.sweep.study import storage as open_storage

    url = storage or default_storage()
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return []
    return sorted(optuna.get_all_study_names(open_storage(url)))


def param_importances(view: StudyView) -> dict[str, float]:
    """Optuna's default importance evaluator over the complete trials; {} with fewer than 2 (or no spread)."""
    import optuna

    if sum(t.state == COMPLETE for t in view.trials) < 2:
        return {}
    study = _load(view.name, view.storage)
    try:
        with warnings.catch_warnings():  # "importances will be equal" on few trials: the numbers say so already
            warnings.simplefilter("ignore")
            return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError, ZeroDivisionError):  # e.g. every complete trial had the same params
        return {}


def best_workflow(view: StudyView, workflow: Workflow) -> Workflow:
    """``workflow`` with the best trial's settings; UserInputError when no trial has completed."""
    best = view.best
    if best is None:
        raise UserInputError(f"study '{view.name}' has no complete trial yet — run more trials first")
    return apply_params(workflow, best.params)


def rerun_command(workflow_path: str, best: TrialRow, overrides: list[str] = ()) -> str:
    """The `loom run` line that re-runs ``best`` exactly (its values in full precision)."""
    import shlex

    sets = [*overrides, *(f"{k}={_exact(v)}" for k, v in best.params.items())]
    return " ".join(["loom", "run", shlex.quote(workflow_path), *(f"--set {shlex.quote(s)}" for s in sets)])


def _exact(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)
