"""The quality check inside a generator's training loop: when to measure, what to report and keep.

:class:`QualityWatch` is what :class:`engine.training.generation.GeneratorTraining`
holds: every ``every`` steps (and once at the end) it measures the generator
users see (``trained``: the EMA generator when there is one), reports
``quality``, ``confident`` and ``classes`` as metrics, tracks the best quality
for early stopping and "keep the best" (:class:`engine.training.best.BestKeeper`),
and times itself so the run can say what share of training the checks took.
"""

from __future__ import annotations

from typing import Any

from engine.generative.quality.check import SAMPLES, QualityCheck
from engine.training.best import BestKeeper

METRICS = ("quality", "confident", "classes")
SHARE = 0.04  # the feature fit runs between training steps while the checks' time stays below this share


class QualityWatch:
    """Periodic quality checks of one generator training run (``loop`` is its TrainingLoop)."""

    def __init__(self, loop: Any, data: Any, split: str, trained: Any, every: int, patience: int = 0,
                 keep_best: bool = True, samples: int = SAMPLES) -> None:
        self.loop, self.trained, self.every = loop, trained, every
        self.check = QualityCheck(data, data.split(split), loop.config.seed, loop.device, samples)
        self.best = BestKeeper("quality", patience, keep_best)
        self.seconds_before = 0.0  # quality seconds of the sessions before a resume
        self.last_step = -1

    # -- the run's hooks -------------------------------------------------------------------------
    def start(self) -> None:
        """Nothing up front: the features are fitted in slices between training steps (see :meth:`on_step`)."""

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

    def on_step(self, step: int) -> None:
        if not self.check.ready:  # fit the features a little, within SHARE of the training time so far
            self.check.advance(SHARE * self.loop.clock.elapsed() - self.seconds)
        if self.every and step % self.every == 0:
            self.measure(step)

    def measure(self, step: int) -> dict[str, float]:
        if not self.check.ready:
            self._prepare()
        values = self.check.measure(self.trained)
        for name in METRICS:
            if name in values:
                self.loop.metric(name, values[name])
        self.best.update(values["quality"], step, self.trained.module)
        self.last_step = step
        return values

    def finish(self, step: int) -> None:
        """The last check (unless one just ran), then the best weights back into the generator."""
        if self.last_step != step:
            self.measure(step)
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
        return self.seconds_before + self.check.seconds

    def share_line(self, training_seconds: float) -> str:
        share = self.seconds / training_seconds if training_seconds > 0 else 0.0
        return (f"quality checks took {self.seconds:.1f} s of {training_seconds:.1f} s training "
                f"({share:.1%})")

    def facts(self, training_seconds: float) -> dict[str, Any]:
        """What run.json keeps: the reference, the best check, and the checks' time share."""
        ref = self.check.reference
        out: dict[str, Any] = ref.to_json() if ref is not None else {}
        if self.best.value is not None:
            out.update(best_quality=round(self.best.value, 4), best_quality_step=self.best.at)
        out.update(quality_seconds=round(self.seconds, 2),
                   quality_time_share=round(self.seconds / training_seconds, 4) if training_seconds > 0 else 0.0)
        return out

    # -- checkpoints -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"best": self.best.state(), "seconds": self.seconds, "last_step": self.last_step}

    def load_state(self, state: dict[str, Any] | None) -> None:
        state = state or {}
        self.best.load_state(state.get("best"))
        self.seconds_before = float(state.get("seconds", 0.0))
        self.last_step = int(state.get("last_step", -1))
