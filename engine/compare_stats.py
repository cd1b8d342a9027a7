"""The statistics of a comparison: differences from a baseline run, and runs grouped by seed.

Kept apart from :mod:`engine.compare` (which reads the run folders) because
this part is pure arithmetic on what was read: a baseline's deltas are
coloured by which way a score is better (:mod:`engine.metric_direction`),
and repeats of one experiment with different seeds are summarised as
mean ± sample standard deviation, the way results are reported.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.metric_direction import NEITHER, direction, is_fraction

if TYPE_CHECKING:
    from engine.compare import RunSummary

MISSING = "—"


def text_of(value: Any) -> str:
    """A setting or score as the comparison prints it (4 significant digits, — when missing)."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def is_seed(key: str) -> bool:
    """A ``node.seed`` setting: runs that differ only in these are repeats of one experiment."""
    return key.rsplit(".", 1)[-1] == "seed"


@dataclass(frozen=True)
class ScoreDelta:
    """One score against the baseline's: the difference, its text and whether it is an improvement."""

    delta: float
    text: str  # "+1.2 pts" for a fraction (accuracy, F1...), else "-0.03"
    better: bool | None  # None: equal, or a score with no better direction (a GAN's losses)


def score_delta(key: str, value: Any, baseline: Any) -> ScoreDelta | None:
    """``value`` minus ``baseline`` for score ``key``; None unless both are numbers."""
    v, b = _number(value), _number(baseline)
    if v is None or b is None:
        return None
    delta = v - b
    text = f"{delta * 100:+.1f} pts" if is_fraction(key) else f"{delta:+.3g}"
    if text.lstrip("+-").split(" ")[0].strip("0.") == "":
        return ScoreDelta(delta, "±0", None)
    way = direction(key)
    return ScoreDelta(delta, text, None if way == NEITHER or delta == 0 else (delta > 0) == (way > 0))


def baseline_deltas(keys: list[str], columns: list[dict[str, Any]], baseline: int) -> dict[str, list[ScoreDelta | None]]:
    """``{score: one delta per column}`` against column ``baseline`` (whose own entries are None)."""
    base = columns[baseline]
    return {key: [None if i == baseline else score_delta(key, col.get(key), base.get(key))
                  for i, col in enumerate(columns)] for key in keys}


@dataclass
class SeedGroup:
    """Runs whose settings are equal except their seeds, with the mean and spread of each score."""

    runs: list[RunSummary]
    settings: dict[str, Any]  # every setting but the seeds
    stats: dict[str, tuple[float, float | None, int]] = field(default_factory=dict)  # key -> (mean, std, n)

    @property
    def label(self) -> str:
        first = self.runs[0].label
        return first if len(self.runs) == 1 else f"{first} +{len(self.runs) - 1}"

    @property
    def seeds(self) -> list[str]:
        return [", ".join(text_of(v) for k, v in sorted(r.params.items()) if is_seed(k)) or MISSING for r in self.runs]

    @property
    def means(self) -> dict[str, float]:
        return {key: mean for key, (mean, _std, _n) in self.stats.items()}

    def text(self, key: str) -> str:
        """``"0.9123 ± 0.0041"`` (sample std over the runs that have the score); one run: its value."""
        if key not in self.stats:
            values = {text_of(r.scores.get(key)) for r in self.runs}
            return values.pop() if len(values) == 1 else MISSING
        mean, std, _n = self.stats[key]
        return text_of(mean) if std is None else f"{text_of(mean)} ± {text_of(std)}"


def group_by_seed(runs: list[RunSummary], score_keys: list[str]) -> list[SeedGroup]:
    """Runs grouped by their settings without the seeds, in order of each group's first run."""
    groups: dict[str, SeedGroup] = {}
    for run in runs:
        settings = {k: v for k, v in run.params.items() if not is_seed(k)}
        key = repr(sorted(settings.items()))
        groups.setdefault(key, SeedGroup([], settings)).runs.append(run)
    for group in groups.values():
        for key in score_keys:
            values = [v for v in (_number(r.scores.get(key)) for r in group.runs) if v is not None]
            if values:
                std = statistics.stdev(values) if len(values) > 1 else None
                group.stats[key] = (statistics.fmean(values), std, len(values))
    return list(groups.values())
