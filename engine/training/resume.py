"""Checkpoints that resume exactly, shared by the GAN and VAE loops.

A checkpoint records where in the data the loop stands (epoch and the next
batch index; batch order depends only on seed and epoch) together with the
step counter, every module and optimiser, the AMP scaler and every RNG
state.  Restoring all of it makes the continued run take exactly the steps an
uninterrupted run would have taken.

On resume the loop emits :class:`engine.events.Rewind` with the checkpoint's
step, so metric rows written after that checkpoint (by the run that died)
are dropped and the curves continue without a gap or a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.context import StepContext
from engine.training.common import capture_rng, load_checkpoint, restore_rng, save_checkpoint

CHECKPOINT_NAME = "last.pt"


@dataclass
class Position:
    """Where the loop is: ``batch`` is the next batch of ``epoch`` to train on."""

    epoch: int = 1
    batch: int = 0
    step: int = 0

    def to_json(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step}


class Checkpointer:
    """Saves ``last.pt`` in the node folder and restores one for ``--resume``."""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        self.path = ctx.node_dir / "checkpoints" / CHECKPOINT_NAME

    def save(self, objects: dict[str, Any], pos: Position, extra: dict[str, Any] | None = None) -> None:
        """``objects`` maps names to things with ``state_dict()`` (modules, optimisers, scaler)."""
        state: dict[str, Any] = {name: obj.state_dict() for name, obj in objects.items()}
        state.update(rng=capture_rng(), position=pos.to_json(), **(extra or {}))
        save_checkpoint(self.path, state)
        self.ctx.artifact("checkpoint", self.path)

    def resume_path(self) -> Path | None:
        if self.ctx.resume_dir is None:
            return None
        return Path(self.ctx.resume_dir) / self.ctx.node_id / "checkpoints" / CHECKPOINT_NAME

    def restore(self, objects: dict[str, Any], device: str) -> tuple[Position, dict[str, Any]] | None:
        """Load the resume checkpoint into ``objects``; None (and a fresh start) when there is none.

        Call after building the modules and optimisers (their construction
        consumes random numbers; the restored RNG state replaces that).
        """
        path = self.resume_path()
        if path is None:
            return None
        if not path.exists():
            self.ctx.log("no checkpoint to resume from for this step: starting it from the beginning", "warning")
            self.ctx.bus.emit(ev.Rewind(node_id=self.ctx.node_id, step=0))
            return None
        state = load_checkpoint(path, map_location="cpu")  # RNG states must stay on the CPU
        for name, obj in objects.items():
            obj.load_state_dict(state[name])
        restore_rng(state["rng"])
        p = state["position"]
        pos = Position(int(p["epoch"]), int(p["batch"]), int(p["step"]))
        self.ctx.bus.emit(ev.Rewind(node_id=self.ctx.node_id, step=pos.step))
        self.ctx.log(f"resumed from the checkpoint at step {pos.step} (epoch {pos.epoch}, batch {pos.batch})")
        return pos, state
