"""Running a sweep: ask Optuna for settings, run them as an ordinary run, report each epoch, prune, tell.

One :class:`~engine.runner.Engine` serves the whole sweep, so the nodes a
trial does not change (data, preprocessing) come from its node cache.  The
metric's points are reported to Optuna as they arrive, on the engine's worker
thread (a few storage writes per epoch), so a pruned trial stops before its
next batch whatever the training speed; this thread keeps the heartbeat and
answers a stop.  Before each new trial the study is counted again (finished plus
running trials, whoever runs them), and a trial asked for in the same moment
as another process's last one is set aside (failed and marked surplus,
hidden from the rows), so processes sharing a study never run more than
``trials`` between them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine import events as ev
from engine.context import USER_STOP
from engine.errors import UserInputError
from engine.names import RunStatus
from engine.sweep.metrics import EPOCH, FINAL, MetricSource, metric_source
from engine.sweep.space import FLOAT, INT, SweepParam, apply_params
from engine.sweep.study import (
    HEARTBEAT_S,
    PRUNERS,
    SAMPLERS,
    SweepConfig,
    beat,
    claim,
    fail_stale_trials,
    grid_size,
    open_study,
    tell,
)
from engine.sweep.view import (
    EPOCHS_ATTR,
    MESSAGE_ATTR,
    RUN_DIR_ATTR,
    SAME_AS_ATTR,
    SURPLUS_ATTR,
    VALUE_ATTR,
    StudyView,
    TrialRow,
    trial_row,
    view_of,
)

if TYPE_CHECKING:
    import optuna

    from engine.runner import Engine

MAX_FAILURES_IN_A_ROW = 3


def check_config(config: SweepConfig) -> MetricSource:
    """Everything that can be known wrong before a study is touched; UserInputError in one line."""
    if not config.params:
        raise UserInputError("nothing to search — give at least one --param NODE.PARAM=SPEC")
    keys = [p.key for p in config.params]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice:
        raise UserInputError(f"--param {twice} is given twice — give each parameter once")
    if config.trials < 1:
        raise UserInputError(f"--trials {config.trials}: give 1 or more")
    if config.sampler not in SAMPLERS:
        raise UserInputError(f"--sampler {config.sampler}: use one of {', '.join(SAMPLERS)}")
    if config.prune not in PRUNERS:
        raise UserInputError(f"--prune {config.prune}: use one of {', '.join(PRUNERS)}")
    if config.sampler == "grid":
        loose = next((p for p in config.params if p.grid_values() is None), None)
        if loose is not None:
            raise UserInputError(f"--sampler grid: {loose.key}={loose.spec()} is not a finite list — give it a "
                                 "list of values (or a small whole-number range), or use --sampler tpe or random")
    return metric_source(config.workflow, config.metric)


def _epochs(workflow: Any, node_id: str) -> int:
    """The epochs the metric's node trains for (its value, else its declared default; 1 for evaluate steps)."""
    from engine.steps.registry import get_step

    node = workflow.node(node_id)
    step = get_step(node.type) if node is not None else None
    decl = step.param("epochs") if step is not None else None
    value = node.params.get("epochs", decl.default if decl is not None else 1) if node is not None else 1
    return int(value) if isinstance(value, (int, float)) else 1


def _distribution(p: SweepParam) -> optuna.distributions.BaseDistribution:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if p.kind == FLOAT:
        return FloatDistribution(float(p.low), float(p.high), log=p.log)
    if p.kind == INT:
        return IntDistribution(int(p.low), int(p.high), log=p.log)
    return CategoricalDistribution(list(p.choices))


def run_sweep(config: SweepConfig, on_trial: Callable[[TrialRow], None] | None = None,
              on_event: Callable[[ev.Event], None] | None = None,
              stop: threading.Event | None = None) -> StudyView:
    """Run trials until the study has ``config.trials`` finished (complete + pruned) trials; see the module doc.

    ``stop.set()`` stops the current trial's run cleanly (its folder says
    *stopped*); that trial is failed in the study, so a later sweep runs
    another in its place.  ``on_trial`` hears each trial as it starts
    (state *running*) and as it ends.
    """
    from engine.run_index import RunIndex
    from engine.runner import Engine

    source = check_config(config)
    target = config.trials
    if config.sampler == "grid":
        target = min(target, grid_size(config.params))  # a grid has no more trials than combinations
    study = open_study(config, _epochs(config.workflow, source.node))
    distributions = {p.key: _distribution(p) for p in config.params}
    engine = Engine(index=RunIndex(), disk_cache=config.disk_cache)
    stop = stop or threading.Event()
    failures = 0
    while not stop.is_set():
        fail_stale_trials(study)  # a process that died while this one ran must not hold its trial forever
        if _taken(study) >= target:
            break
        trial = study.ask(distributions)
        if _surplus(study, trial.number, target):
            trial.set_user_attr(SURPLUS_ATTR, True)
            tell(study, trial, state=_states().FAIL)
            break
        claim(trial)
        run = _TrialRun(config, source, study, trial, on_event, stop)
        row = run.run(engine, on_trial)
        if on_trial is not None:
            on_trial(row)
        failures = failures + 1 if row.state == "failed" and not stop.is_set() else 0
        if failures >= MAX_FAILURES_IN_A_ROW:
            raise SweepFailed(f"{failures} trials in a row failed, the last with: {row.message} — "
                                   "fix that, then run the same command again to continue the study")
    return view_of(study, config.storage_url)


class SweepFailed(Exception):
    """The sweep gave up: trials keep failing (the message says with what); the CLI exits 1."""


def _states() -> Any:
    from optuna.trial import TrialState

    return TrialState


def _taken(study: optuna.Study) -> int:
    """Trials finished or being run (by any process): what counts toward the study's size (queued ones do not)."""
    s = _states()
    return len(study.get_trials(deepcopy=False, states=(s.COMPLETE, s.PRUNED, s.RUNNING)))


def _surplus(study: optuna.Study, number: int, target: int) -> bool:
    """Whether trials asked for before ``number`` (finished or running) already make up the study."""
    s = _states()
    earlier = [t for t in study.get_trials(deepcopy=False, states=(s.COMPLETE, s.PRUNED, s.RUNNING))
               if t.number < number and not t.user_attrs.get(SURPLUS_ATTR)]
    return len(earlier) >= target


class _TrialRun:
    """One trial: its run, its per-epoch reports to the pruner, and what the study is told at the end."""

    def __init__(self, config: SweepConfig, source: MetricSource, study: optuna.Study, trial: optuna.Trial,
                 on_event: Callable[[ev.Event], None] | None, stop: threading.Event) -> None:
        self.config, self.source, self.study, self.trial = config, source, study, trial
        self.on_event, self.stop = on_event, stop
        self.lock = threading.Lock()
        self.handle: Any = None
        self.per_epoch: dict[int, float] = {}  # epoch -> the metric's last value in it
        self.reported: set[int] = set()
        self.finals: list[float] = []
        self.pruned = False
        self.prune_reason = ""
        self.epochs = _epochs(config.workflow, source.node)  # never prune the last epoch: nothing left to save

    def _listen(self, event: ev.Event) -> None:
        """On the engine's worker thread: a point of the metric is reported at once.

        So a prune decision stops the run before its next batch, every time,
        whatever the training speed (a handful of storage writes per epoch).
        """
        if (isinstance(event, ev.MetricPoint) and event.node_id == self.source.node
                and event.name == self.source.name):
            with self.lock:
                self._point(event)
        if self.on_event is not None:
            self.on_event(event)

    def run(self, engine: Engine, on_trial: Callable[[TrialRow], None] | None = None) -> TrialRow:
        from engine.refusal import WorkflowInvalid

        trial, params = self.trial, dict(self.trial.params)
        workflow = apply_params(self.config.workflow, params)
        tags = {"sweep": {"study": self.config.study_name, "trial": trial.number, "params": params}}
        try:
            handle = engine.start(workflow, device=self.config.device, on_event=self._listen,
                                  runs_root=self.config.runs_root, tags=tags)
        except WorkflowInvalid as exc:
            trial.set_user_attr(MESSAGE_ATTR, str(exc).splitlines()[0])
            tell(self.study, trial, state=_states().FAIL)
            raise
        with self.lock:
            self.handle = handle
            if self.pruned:  # decided before start() returned
                handle.stop(self.prune_reason)
        trial.set_user_attr(RUN_DIR_ATTR, str(handle.run_dir.resolve()))
        if on_trial is not None:
            on_trial(TrialRow(trial.number, "running", params, None, str(handle.run_dir.resolve())))
        last_beat = time.monotonic()
        stopped_by_user = False
        while True:
            result = handle.wait(0.2)
            if self.stop.is_set() and not stopped_by_user:
                stopped_by_user = True
                handle.stop()
            if result is not None:
                break
            if time.monotonic() - last_beat > HEARTBEAT_S:
                beat(trial)
                last_beat = time.monotonic()
        with self.lock:
            self._close_epoch(None, prune=False)
        return self._tell(result.status, result.message, stopped_by_user and not self.pruned)

    def _point(self, point: ev.MetricPoint) -> None:
        if self.source.when == FINAL:
            self.finals.append(point.value)
            return
        if self.source.when == EPOCH and point.step == 0:
            return  # measured before training (a language model's starting perplexity)
        self._close_epoch(point.epoch)
        self.per_epoch[point.epoch] = point.value
        if self.source.when == EPOCH:
            self._report(point.epoch)

    def _close_epoch(self, current: int | None, prune: bool = True) -> None:
        """Report every earlier epoch not yet reported (a per-step metric's epoch ends when the next begins)."""
        for epoch in sorted(self.per_epoch):
            if epoch not in self.reported and (current is None or epoch < current):
                self._report(epoch, prune)

    def _report(self, epoch: int, prune: bool = True) -> None:
        if epoch in self.reported:
            return
        self.reported.add(epoch)
        self.trial.report(self.per_epoch[epoch], epoch)
        if prune and not self.pruned and epoch < self.epochs and self.trial.should_prune():
            self.pruned = True
            self.prune_reason = (f"pruned by sweep '{self.config.study_name}': {self.source.name} "
                                 f"{self.per_epoch[epoch]:.4g} after epoch {epoch} was worse than the "
                                 "median of earlier trials at that epoch")
            if self.handle is not None:
                self.handle.stop(self.prune_reason)

    def _tell(self, status: RunStatus, message: str, stopped_by_user: bool) -> TrialRow:
        trial, s = self.trial, _states()
        values = self.finals or list(self.per_epoch.values())
        best = (max if self.config.maximize else min)(values) if values else None
        epochs = len(self.per_epoch)
        if best is None and status == RunStatus.SUCCEEDED:
            best, epochs = self._same_as_before()
        trial.set_user_attr(EPOCHS_ATTR, epochs)
        if best is not None:
            trial.set_user_attr(VALUE_ATTR, best)
        if self.pruned:
            trial.set_user_attr(MESSAGE_ATTR, self.prune_reason)
            tell(self.study, trial, state=s.PRUNED)
        elif stopped_by_user:
            trial.set_user_attr(MESSAGE_ATTR, USER_STOP)
            tell(self.study, trial, state=s.FAIL)
        elif status == RunStatus.SUCCEEDED and best is not None:
            tell(self.study, trial, best)
        else:
            why = message or (f"node '{self.source.node}' reported no {self.source.name} (it came from the node "
                              "cache) — run the sweep with --no-cache")
            trial.set_user_attr(MESSAGE_ATTR, why)
            tell(self.study, trial, state=s.FAIL)
        frozen = next(t for t in self.study.get_trials(deepcopy=False) if t.number == trial.number)
        return trial_row(frozen, self.config.maximize)

    def _same_as_before(self) -> tuple[float | None, int]:
        """A trial whose settings an earlier trial already had: its nodes all came from the cache, so
        nothing was reported; it scores what that earlier complete trial scored."""
        s = _states()
        for earlier in self.study.get_trials(deepcopy=False, states=(s.COMPLETE,)):
            if earlier.params == self.trial.params and earlier.value is not None:
                self.trial.set_user_attr(SAME_AS_ATTR, earlier.number)
                return earlier.value, int(earlier.user_attrs.get(EPOCHS_ATTR, 0))
        return None, 0
