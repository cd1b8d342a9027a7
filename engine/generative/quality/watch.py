"""The quality check inside a generator's training loop: when to measure, what to report and keep.

:class:`QualityWatch` is what :class:`engine.training.generation.GeneratorTraining`
holds: every ``every`` steps (and once at the end) it measures the generator
users see (``trained``: the EMA generator when there is one), reports
``quality``, ``confident`` and ``classes`` as metrics, tracks the best quality
for early stopping and "keep the best" (:class:`engine.training.best.BestKeeper`).

**The time share.**  All quality work (the feature fit, the real-image
summary, the checks) stays within ``share`` of the training time so far, in
short runs too: the fit runs in slices between training steps while there is
room, and a due check is *skipped* while the time spent plus its expected cost
(the last check's, or a measured probe before the first) would pass the share,
or while the features are not fitted yet.  A short run so gets fewer points,
or none; the log and run.json say how many checks ran and were skipped, and the
share.  ``share`` >= 1 lifts the limit: every due check runs.

Which checks run then depends on the machine's speed — the training itself
never does (a check touches neither the weights nor the random streams), but
"keep the best" and early stopping choose among the checks that ran.  Exact
resume holds for the weights in any case, and for the kept-best generator too
when every check runs (``share`` >= 1; what the resume tests use).  Time is
read through :func:`engine.training.clock.now`, so tests drive it with a fake
clock.
"""

from __future__ import annotations

from typing import Any

from engine.generative.quality.check import SAMPLES, QualityCheck
from engine.training import clock
from engine.training.best import BestKeeper

METRICS = ("quality", "confident", "classes")
SHARE = 0.05  # the default limit: quality work within this share of the training time


class QualityWatch:
    """Periodic quality checks of one generator training run (``loop`` is its TrainingLoop)."""

    def __init__(self, loop: Any, data: Any, split: str, trained: Any, every: int, patience: int = 0,
                 keep_best: bool = True, samples: int = SAMPLES, share: float = SHARE) -> None:
        self.loop, self.trained, self.every, self.share = loop, trained, every, share
        self.check = QualityCheck(data, data.split(split), loop.config.seed, loop.device, samples)
        self.best = BestKeeper("quality", patience, keep_best)
        self.seconds_before = 0.0  # quality seconds of the sessions before a resume
        self.session_seconds = 0.0  # ... and of this one
        self.last_step = -1  # the step of the last check that ran
        self.last_due = -1  # ... and of the last one due (ran or skipped)
        self.ran = 0  # checks measured, and due checks skipped to stay within the share (whole run)
        self.skipped = 0
        self.expected: float | None = None  # seconds the next check should take (the last one's)

    @property
    def limited(self) -> bool:
        return self.share < 1

    def _timed(self, fn: Any, *args: Any) -> tuple[Any, float]:
        start = clock.now()
        out = fn(*args)
        took = clock.now() - start
        self.session_seconds += took
        return out, took

    def room(self, training_seconds: float | None = None) -> float:
        """Seconds of quality work the share allows now (negative: over it)."""
        if not self.limited:
            return float("inf")
        elapsed = self.loop.clock.elapsed() if training_seconds is None else training_seconds
        return self.share * elapsed - self.seconds

    # -- the run's hooks -------------------------------------------------------------------------
    def start(self) -> None:
        """Nothing up front: the features are fitted in slices between training steps (see :meth:`on_step`)."""

    def on_step(self, step: int) -> None:
        if self.limited and not self.check.fitted:  # fit the features a little, within the share
            room = self.room()
            if room > max(0.0, self.check.fit_pace):  # room for a whole step at least: slices stay within it
                self._timed(self.check.advance, room)
        if self.every and step % self.every == 0:
            self.due(step)

    def due(self, step: int, training_seconds: float | None = None) -> dict[str, float] | None:
        """A check is due at ``step``: measure, or skip it when it does not fit the share (returns None)."""
        self.last_due = step
        if self.limited and not self._affordable(training_seconds):
            self.skipped += 1
            return None
        return self.measure(step)

    def _affordable(self, training_seconds: float | None) -> bool:
        if not self.check.ready:
            if not self.check.fitted:
                return False  # the slices have not finished the fit: the share had no room for it yet
            if self.expected is None:  # before the first check: a measured estimate (its cost counts)
                probe, _ = self._timed(self.check.probe, self.trained)
                self.expected = 2 * probe  # the first check also summarises real images: about as much again
        return self.expected is not None and self.expected <= self.room(training_seconds)

    def _prepare(self) -> None:
        """Finish the features and measure the real-vs-real reference (logged once)."""
        ref = self.check.prepare()
        line = (f"quality check: Fréchet distance of generated to real images over {ref.samples} images each "
                f"(lower is better); two halves of the real images score {ref.distance:.2f}")
        if ref.classifier_accuracy is not None:
            line += (f"; its classifier of the run's labels scores {ref.classifier_accuracy:.1%} on held-out real "
                     f"images and labels {ref.real_confident:.0%} of them confidently")
            chance = 1 / max(1, self.check.num_classes)
            if ref.classifier_accuracy < chance + 0.5 * (1 - chance):  # nearer chance than certainty
                line += (f" — WARNING: that is near chance ({chance:.0%}), so the quality curve says little; "
                         f"check that the images and labels are right")
        else:
            line += "; no labels, so the features come from a fixed random network"
        self.loop.log(line)

    def measure(self, step: int) -> dict[str, float]:
        if not self.check.ready:
            self._timed(self._prepare)
        values, self.expected = self._timed(self.check.measure, self.trained)
        self.ran += 1
        for name in METRICS:
            if name in values:
                self.loop.metric(name, values[name])
        self.best.update(values["quality"], step, self.trained.module)
        self.last_step = step
        return values

    def finish(self, step: int, training_seconds: float) -> None:
        """The last check (unless one was just due, or it does not fit the share), then the best weights back."""
        if self.last_due != step:
            self.due(step, training_seconds)
        if self.best.restore(self.trained.module) and self.best.at != step:
            self.loop.log(f"kept the generator of step {self.best.at}, the best quality "
                          f"({self.best.value:.2f}; the last check scored more)")

    @property
    def early_stop(self) -> bool:
        return self.best.exhausted

    def stop_message(self) -> str:
        return (f"early stopping: quality has not improved for {self.best.patience} checks "
                f"(best {self.best.value:.2f} at step {self.best.at})")

    # -- time share and facts ------------------------------------------------------------------------
    @property
    def seconds(self) -> float:
        return self.seconds_before + self.session_seconds

    def share_of(self, training_seconds: float) -> float:
        """The quality work's seconds as a share of ``training_seconds`` (0 before any training)."""
        return self.seconds / training_seconds if training_seconds > 0 else 0.0

    def share_line(self, training_seconds: float) -> str:
        line = (f"quality checks: {self.ran} ran, {self.skipped} skipped; they took {self.seconds:.1f} s of "
                f"{training_seconds:.1f} s training ({self.share_of(training_seconds):.1%}")
        line += f", the limit is {self.share:.0%})" if self.limited else ", no limit)"
        if self.ran == 0 and self.limited:
            line += (" — this run was too short to fit the quality features within the limit "
                     "(raise quality_share to measure anyway)")
        return line

    def facts(self, training_seconds: float) -> dict[str, Any]:
        """What run.json keeps: the reference, the best check, the checks run/skipped and their time share."""
        ref = self.check.reference
        out: dict[str, Any] = ref.to_json() if ref is not None else {}
        if self.best.value is not None:
            out.update(best_quality=round(self.best.value, 4), best_quality_step=self.best.at)
        out.update(quality_checks=self.ran, quality_checks_skipped=self.skipped,
                   quality_seconds=round(self.seconds, 2),
                   quality_time_share=round(self.share_of(training_seconds), 4))
        return out

    # -- checkpoints -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"best": self.best.state(), "seconds": self.seconds, "last_step": self.last_step,
                "last_due": self.last_due, "ran": self.ran, "skipped": self.skipped}

    def load_state(self, state: dict[str, Any] | None) -> None:
        state = state or {}
        self.best.load_state(state.get("best"))
        self.seconds_before = float(state.get("seconds", 0.0))
        self.last_step = int(state.get("last_step", -1))
        self.last_due = int(state.get("last_due", self.last_step))
        self.ran, self.skipped = int(state.get("ran", 0)), int(state.get("skipped", 0))
