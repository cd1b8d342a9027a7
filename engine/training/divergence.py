"""Telling a diverging run from a learning one, for every algorithm.

Three signs stop a run (the last good checkpoint is kept):

* a watched value is NaN or infinite;
* a loss spikes to a million times its early scale (the median of its first
  values) in one step;
* a loss rises steadily by orders of magnitude: its moving average climbs a
  thousand times above the lowest it reached (floored at a tenth of the early
  scale, so a loss that was near zero and comes back to a normal level, as a
  GAN's discriminator loss does, is not mistaken for a blow-up).
"""

from __future__ import annotations

import math
import statistics

from engine.errors import TrainingDiverged

EARLY_STEPS = 10
SPIKE_FACTOR = 1e6
RISE_FACTOR = 1e3
EMA_ALPHA = 0.1
ADVICE = "Lower the learning rate or enable gradient clipping."


def diverged(what: str, detail: str, step: int) -> TrainingDiverged:
    return TrainingDiverged(
        f"{what} {detail} at step {step} — training diverged; the last good checkpoint is kept. {ADVICE}"
    )


class LossWatch:
    """Watches one loss curve."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._early: list[float] = []
        self._scale: float | None = None
        self._ema: float | None = None
        self._lowest: float | None = None

    def check(self, value: float, step: int) -> None:
        if not math.isfinite(value):
            raise diverged(self.name, f"became {value}", step)
        magnitude = abs(value)
        if self._scale is None:
            self._early.append(magnitude)
            if len(self._early) >= EARLY_STEPS:
                self._scale = max(statistics.median(self._early), 1e-12)
            return
        if magnitude > SPIKE_FACTOR * self._scale:
            raise diverged(self.name, f"jumped to {value:.4g}, a million times its early scale ({self._scale:.4g}),", step)
        self._ema = magnitude if self._ema is None else (1 - EMA_ALPHA) * self._ema + EMA_ALPHA * magnitude
        self._lowest = self._ema if self._lowest is None else min(self._lowest, self._ema)
        floor = max(self._lowest, 0.1 * self._scale)
        if self._ema > RISE_FACTOR * floor:
            raise diverged(self.name, f"rose to {self._ema:.4g} on average, a thousand times above {floor:.4g},", step)

    def state(self) -> dict[str, object]:
        return {"early": list(self._early), "scale": self._scale, "ema": self._ema, "lowest": self._lowest}

    def load_state(self, state: dict) -> None:
        self._early = [float(v) for v in state.get("early", [])]
        self._scale, self._ema, self._lowest = state.get("scale"), state.get("ema"), state.get("lowest")


class DivergenceWatch:
    """Checks every reported value for NaN/inf, and the named losses for explosions."""

    def __init__(self, losses: tuple[str, ...]) -> None:
        self.losses = {name: LossWatch(name) for name in losses}

    def check(self, values: dict[str, float], step: int, tag: str = "") -> None:
        for name, value in values.items():
            watch = self.losses.get(name)
            if watch is not None:
                try:
                    watch.check(value, step)
                except TrainingDiverged as exc:
                    raise TrainingDiverged(f"{tag}{exc}") from None
            elif not math.isfinite(value):
                raise diverged(f"{tag}{name}", f"became {value}", step)

    def state(self) -> dict[str, object]:
        return {name: w.state() for name, w in self.losses.items()}

    def load_state(self, state: dict) -> None:
        for name, w in self.losses.items():
            if isinstance(state.get(name), dict):
                w.load_state(state[name])
