"""A sweep's study in Optuna's SQLite storage: what to search, opened or continued, and its stale trials.

The storage is the truth shared between processes (and machines, with a
server URL).  A study remembers the space, metric and workflow it was made
for, so a second command with a different space is refused instead of
mixing incomparable trials.  A trial left *running* by a process that died
(SIGKILL, power cut) is marked failed when the next sweep opens the study:
a trial whose process on this host is gone at once, any other once its
heartbeat (written every few seconds while it runs) is older than
:data:`STALE_AFTER_S`.  Optuna is imported lazily, inside the functions.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import UserInputError
from engine.sweep.space import SweepParam
from engine.workflow import Workflow

if TYPE_CHECKING:
    import optuna

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "none")
STALE_AFTER_S = 120.0  # a running trial whose heartbeat is older than this is dead
HEARTBEAT_S = 10.0
SAMPLER_SEED = 0
SPACE_ATTR, METRIC_ATTR, WORKFLOW_ATTR = "loom_space", "loom_metric", "loom_workflow"
OWNER_ATTR, BEAT_ATTR = "loom_owner", "loom_heartbeat"


@dataclass
class SweepConfig:
    """What a sweep runs: the workflow, its searched params, how many trials, how to sample and prune."""

    workflow: Workflow
    params: list[SweepParam]
    trials: int = 20
    sampler: str = "tpe"
    prune: str = "median"
    metric: str = "val_accuracy"
    maximize: bool = True
    study: str = ""  # default: the workflow's name (slug)
    storage: str = ""  # default: sqlite:///<LOOM_HOME>/sweeps.db
    device: str = "auto"
    disk_cache: bool = True
    runs_root: str = "runs"  # where trial run folders go, like `loom run` (an addition to the shared contract)

    @property
    def study_name(self) -> str:
        return self.study or slug(self.workflow.name)

    @property
    def storage_url(self) -> str:
        return self.storage or default_storage()


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:60] or "sweep"


def default_storage() -> str:
    from engine.run_index import loom_home

    return f"sqlite:///{loom_home() / 'sweeps.db'}"


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for other storages and in-memory SQLite)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):]
    return Path(path) if path and path != ":memory:" else None


def storage(url: str, create: bool = True) -> optuna.storages.RDBStorage:
    """Optuna's storage for ``url`` (folder made for SQLite); UserInputError when it cannot be opened."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = sqlite_path(url)
    if path is not None:
        if not create and not path.is_file():
            raise UserInputError(f"no sweeps yet: {path} does not exist — start one with `loom sweep`")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserInputError(f"--storage {url}: cannot make its folder ({exc.strerror or exc})") from None
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    last: Exception | None = None
    for attempt in range(5):  # two processes creating the tables at once: the loser retries
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy's errors are many; the line below names the cause
            last = exc
            time.sleep(0.2 * (attempt + 1))
    first = str(last).strip().splitlines()[0] if str(last).strip() else type(last).__name__
    raise UserInputError(f"--storage {url}: cannot open it ({first}) — give a sqlite:///PATH you can write")


def make_sampler(name: str, params: list[SweepParam], trials: int) -> optuna.samplers.BaseSampler:
    """A sampler seeded per trial (engine/sweep/sampler.py); grid only when every param has a finite list."""
    from engine.sweep.sampler import seeded

    if name not in SAMPLERS:
        raise UserInputError(f"--sampler {name}: use one of {', '.join(SAMPLERS)}")
    space = {}
    if name == "grid":
        for p in params:
            values = p.grid_values()
            if values is None:
                raise UserInputError(f"--sampler grid: {p.key}={p.spec()} is not a finite list — give it a list of "
                                     "values (or a small whole-number range), or use --sampler tpe or random")
            space[p.key] = values
    startup = max(3, min(10, trials // 3))  # TPE: a short study gets to the model-based part before it ends
    return seeded(name, SAMPLER_SEED, space, startup)


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """Median pruning after 3 finished trials, never before a quarter of the epochs; ``none`` never prunes."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=max(1, epochs // 4))
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UserInputError(f"--prune {name}: use one of {', '.join(PRUNERS)}")


def grid_size(params: list[SweepParam]) -> int:
    size = 1
    for p in params:
        size *= len(p.grid_values() or [])
    return size


def open_study(config: SweepConfig, epochs: int) -> optuna.Study:
    """Create the study or continue it; refused when the stored one searches something else."""
    import optuna

    store = storage(config.storage_url)
    direction = "maximize" if config.maximize else "minimize"
    sampler = make_sampler(config.sampler, config.params, config.trials)
    pruner = make_pruner(config.prune, epochs)
    name = config.study_name
    space = [p.to_json() for p in config.params]
    try:
        study = optuna.create_study(storage=store, study_name=name, sampler=sampler, pruner=pruner,
                                    direction=direction, load_if_exists=True)
    except ValueError:  # optuna: the stored study has another direction
        raise UserInputError(f"--study {name}: the stored study does not {direction} {config.metric} — use "
                             "another --study name") from None
    if SPACE_ATTR not in study.user_attrs:
        # the space goes last: a process starting the same study beside this one takes a stored space as
        # the sign that the metric is stored too (each attribute is a write of its own)
        study.set_user_attr(METRIC_ATTR, config.metric)
        study.set_user_attr(WORKFLOW_ATTR, config.workflow.name)
        study.set_user_attr(SPACE_ATTR, space)
    attrs = study.user_attrs  # read back: of two processes that created it at once, the last writer's
    if attrs.get(SPACE_ATTR) != space or attrs.get(METRIC_ATTR) != config.metric:
        stored = ", ".join(f"{p.key}={p.spec()}" for p in (SweepParam.from_json(d) for d in attrs[SPACE_ATTR]))
        raise UserInputError(f"--study {name}: the stored study searches {stored} for "
                             f"{attrs.get(METRIC_ATTR)} — repeat those exact --param and --metric values to "
                             "continue it, or start another with --study NEW_NAME")
    fail_stale_trials(study)
    return study


def tell(study: optuna.Study, trial: Any, *args: Any, **kwargs: Any) -> None:
    """``study.tell``, minus the grid sampler's ``Study.stop`` call when the grid is used up.

    That call only works inside ``study.optimize``; outside it raises
    RuntimeError *after* the trial's result is stored, so it is safe to drop
    (the sweep counts its trials itself).
    """
    try:
        study.tell(trial, *args, **kwargs)
    except RuntimeError as exc:
        if "Study.stop" not in str(exc):
            raise


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(trial: optuna.Trial) -> None:
    """Say which process runs ``trial`` and that it is alive (called again every HEARTBEAT_S)."""
    trial.set_user_attr(OWNER_ATTR, owner())
    beat(trial)


def beat(trial: optuna.Trial) -> None:
    trial.set_user_attr(BEAT_ATTR, time.time())


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Mark failed the running trials whose process is gone; returns their numbers."""
    from optuna.trial import TrialState

    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if _is_stale(t.user_attrs, t.datetime_start.timestamp() if t.datetime_start else 0.0):
            tell(study, t.number, state=TrialState.FAIL, skip_if_finished=True)
            failed.append(t.number)
    return failed


def _is_stale(attrs: dict[str, Any], started: float) -> bool:
    host, _, pid = str(attrs.get(OWNER_ATTR, "")).rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
        return True
    last = attrs.get(BEAT_ATTR, started)
    return not isinstance(last, (int, float)) or time.time() - last > STALE_AFTER_S


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
