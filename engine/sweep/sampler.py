"""A sampler seeded by trial number: reproducible in one process, different settings in parallel ones.

A seeded Optuna sampler keeps one random stream per process, so two
``loom sweep`` processes started on one study would draw the same settings
for their first trials (each running a copy of the other's trial).  Here
every trial gets a fresh sampler seeded with ``seed + trial number``: a
single process still draws the same settings on every run of the same
command, and processes sharing a study draw different ones, because no two
of their trials share a number.  The samplers wrapped (TPE, random) keep
nothing between trials but that random stream: they read the history from
the study each time.  Imported only when a sweep starts (it imports Optuna).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState


class SeededPerTrial(BaseSampler):
    """Delegates to ``make(seed + trial.number)``, made afresh as each trial starts."""

    def __init__(self, make: Callable[[int], BaseSampler], seed: int) -> None:
        self._make = make
        self._seed = seed
        self._inner = make(seed)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._inner = self._make(self._seed + trial.number)
        self._inner.before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self._inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._inner.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._inner.reseed_rng()


def seeded(name: str, seed: int, space: dict[str, list[Any]], startup: int) -> BaseSampler:
    """TPE or random seeded per trial; grid as Optuna makes it, with one seed for every process.

    The grid sampler needs no wrapping and must not have it: its seed fixes
    the order of the grid's points, which must be the same in every process,
    and it already gives trial number n the n-th point.
    """
    if name == "grid":
        return optuna.samplers.GridSampler(space, seed=seed)
    makers: dict[str, Callable[[int], BaseSampler]] = {
        "tpe": lambda s: optuna.samplers.TPESampler(seed=s, n_startup_trials=startup),
        "random": lambda s: optuna.samplers.RandomSampler(seed=s),
    }
    return SeededPerTrial(makers[name], seed)
