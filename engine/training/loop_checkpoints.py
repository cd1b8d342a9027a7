"""The training loop's checkpoint: what it holds, when an epoch-end one is due, and how a resume reads it back.

Kept apart from the driver because exact resume after SIGKILL (bit-identical on CPU) rests on this
one place: a checkpoint holds the modules, optimisers, AMP scaler, the algorithm's own state, the RNG
states and the divergence watch, plus the position and the training seconds so far.  A finished step
may keep only its final weights (a "slim" checkpoint, e.g. a k-fold fold), which a resume reuses as
they are.  The file format itself lives in :mod:`engine.training.checkpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.distributed.sharding import batches_for_samples
from engine.errors import UserInputError
from engine.training.checkpoint import (
    CHECKPOINT_NAME,
    Position,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)

if TYPE_CHECKING:
    from engine.training.loop import TrainingLoop


class LoopCheckpoints:
    """Writes and restores one :class:`~engine.training.loop.TrainingLoop`'s checkpoint in ``directory``.

    It reads the loop's current state (objects, watch, position, clock) when it writes, so it never
    holds a stale copy of them.
    """

    def __init__(self, loop: TrainingLoop, directory: Path) -> None:
        self.loop = loop
        self.directory = directory
        self.last_save = 0.0  # the loop's session seconds at the last write

    @property
    def path(self) -> Path:
        return self.directory / CHECKPOINT_NAME

    @property
    def source_dir(self) -> Path:
        """Where a resume reads checkpoints: this run's folder, or for a rank > 0 (whose folder is a
        scratch one) the folder of the run it resumes — rank 0's checkpoint restores every rank."""
        loop, ctx = self.loop, self.loop.ctx
        if loop.world is not None and not loop.world.is_main and ctx.resume_dir is not None:
            return Path(ctx.resume_dir) / self.directory.relative_to(ctx.run_dir)
        return self.directory

    def due_at_epoch_end(self) -> bool:
        """Epoch-end checkpoints come at most every ``epoch_checkpoint_interval_s`` (0: every epoch)."""
        interval = self.loop.config.epoch_checkpoint_interval_s
        return interval <= 0 or self.loop.clock.session_seconds() - self.last_save >= interval

    def save(self, final: bool = False) -> None:
        """Write the checkpoint atomically (the caller has checked the step's values for divergence).

        In a distributed run only rank 0 writes (the ranks hold the same weights)."""
        loop = self.loop
        if not loop.writes:
            return
        slim = loop.algorithm.final_state() if final else None
        state = dict(slim) if slim is not None else self.live_state()
        state.update(position=loop.position.to_json(), elapsed=loop.clock.elapsed(), finished=final,
                     world_size=loop.world_size,
                     planned={"epochs": loop.config.epochs, "time_budget": loop.config.time_budget})
        save_checkpoint(self.path, state)
        self.last_save = loop.clock.session_seconds()
        loop.ctx.artifact("checkpoint", self.path)
        loop.algorithm.on_checkpoint(final)

    def live_state(self) -> dict[str, Any]:
        """What a checkpoint keeps of the training now: objects (scaler included), algorithm state, RNG, watch.

        References, not copies: deep-copy it to hold it past the next step (see :meth:`snapshot`)."""
        loop = self.loop
        state = {name: obj.state_dict() for name, obj in loop.objects.items()}
        state.update(loop.algorithm.state())
        state.update(rng=capture_rng(), divergence=loop.watch.state())
        return state

    def snapshot(self) -> dict[str, Any]:
        """:meth:`live_state` copied, in memory: what :meth:`put_back` returns the training to."""
        import copy

        return copy.deepcopy(self.live_state())

    def put_back(self, state: dict[str, Any]) -> None:
        """Return the training to a :meth:`snapshot` (a step to be taken again from its start)."""
        loop = self.loop
        for name, obj in loop.objects.items():
            obj.load_state_dict(state[name])
        loop.algorithm.load_state(state)
        restore_rng(state["rng"])
        loop.watch.load_state(state["divergence"])

    def restore(self) -> tuple[dict[str, Any] | None, Position | None, bool]:
        """Continue from the run's checkpoint when resuming: (state, position, already finished), or
        (None, None, False) when there is nothing to continue from.  Objects, algorithm state, RNG
        and divergence watch are loaded in place; the curves are rewound to the checkpoint's step."""
        loop, ctx, path = self.loop, self.loop.ctx, self.source_dir / CHECKPOINT_NAME
        if ctx.resume_dir is None:
            return None, None, False
        if not path.exists():
            loop.log("no checkpoint to resume from for this step: starting it from the beginning", "warning")
            ctx.rewind(loop.step_offset)
            return None, None, False
        state = load_checkpoint(path)
        position = Position.from_json(state.get("position"), path)
        missing = [name for name in loop.objects if name not in state]
        slim = bool(state.get("finished")) and bool(missing)
        if missing and not slim:
            raise UserInputError(f"{path}: the checkpoint holds no '{missing[0]}' — it was written by another kind of "
                                 "step; resume with the workflow that started the run, or start a fresh run")
        try:
            for name, obj in loop.objects.items():
                if name in state:
                    obj.load_state_dict(state[name])
            loop.algorithm.load_state(state)
            if not slim:
                restore_rng(state["rng"])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
            detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise UserInputError(f"{path}: the checkpoint does not fit this step ({detail}) — resume with the "
                                 "workflow that started the run, or start a fresh run") from None
        loop.watch.load_state(state.get("divergence") or {})
        resumed_at = self._regrid(position, int(state.get("world_size", 1) or 1))
        if slim:  # a finished part (a k-fold fold): its weights are final and its curve rows stay
            loop.log(f"already finished at step {position.step}: reusing its weights")
            self._warn_if_asked_for_more(state.get("planned") or {})
            return state, resumed_at, True
        ctx.rewind(position.step + loop.step_offset)
        loop.log(f"resumed at step {position.step} (epoch {position.epoch}, batch {position.batch})")
        return state, resumed_at, False

    def _regrid(self, position: Position, saved_world: int) -> Position:
        """A mid-epoch position saved with another world size: the batch that covers the same samples."""
        loop = self.loop
        world = loop.world_size
        if saved_world == world or position.batch == 0:
            return position
        size = loop.algorithm.batch_size
        batch = batches_for_samples(position.batch * size * saved_world, size, world)
        loop.log(f"the checkpoint was written by {saved_world} process(es), this run has {world}: epoch "
                 f"{position.epoch} continues at batch {batch} (each step now takes {size} x {world} samples)")
        return Position(position.epoch, batch, position.step)

    def _warn_if_asked_for_more(self, planned: dict[str, Any]) -> None:
        """A slim final checkpoint cannot train further: say so when a resume asks for more."""
        cfg = self.loop.config
        more_epochs = cfg.epochs > int(planned.get("epochs", cfg.epochs))
        more_time = cfg.time_budget != float(planned.get("time_budget", cfg.time_budget))
        if more_epochs or more_time:
            self.loop.log("this step had finished and kept only its final weights, so it cannot train further with "
                          "the new epochs or time budget; its weights are reused. To train longer, start a fresh run "
                          "that starts from them (the model's weights param can name this run folder)", "warning")
