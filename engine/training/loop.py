"""The one training-loop driver every algorithm runs on.

The driver owns what every kind of training needs alike, so each is written
and tested once:

* the position (epoch, next batch, step) and the clock with its time budget;
* cooperative stop and pause (checked between batches; paused time is not
  training time);
* checkpoints: every ``checkpoint_every`` steps, at epoch ends (at most every
  ``epoch_checkpoint_interval_s``), on Stop and at the end, written atomically;
* exact resume: modules, optimisers, the AMP scaler, RNG states (always on
  the CPU), the algorithm's own state and the divergence watch come back, and
  the curves rewind to the checkpoint's step;
* divergence: NaN/inf and exploding losses stop the run, keeping the last
  good checkpoint;
* the speed policy (:mod:`engine.training.speed`): threads, precision, channels_last
  and compile, decided once the algorithm's modules exist, recorded in run.json and the log;
* progress (fraction, ETA, samples/s) and metric events;
* under ``torchrun`` (see :mod:`engine.distributed`): each rank's shard of every epoch, DDP on the
  algorithm's modules, metrics averaged over the ranks, stop/budget/epoch-end decisions agreed by
  all ranks, and checkpoints written by rank 0 only.

An :class:`engine.training.algorithm.Algorithm` supplies the rest.  The loop
follows Lightning's split of a fit loop and its hooks, kept to what Loom uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine import events as ev
from engine.context import StepContext
from engine.distributed import world as dist_world
from engine.distributed.sharding import Shard, batches_for_samples
from engine.errors import RunStopped, TrainingDiverged, UserInputError
from engine.training.algorithm import Algorithm, Outcome
from engine.training.checkpoint import (
    CHECKPOINT_NAME,
    Position,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
    seed_everything,
)
from engine.training.clock import TrainingClock
from engine.training.common import FromParams
from engine.training.divergence import DivergenceWatch
from engine.training.precision import Precision
from engine.training.speed import SpeedPlan


@dataclass
class LoopConfig(FromParams):
    """The driver's settings; ``from_params`` picks them out of a training step's params."""

    epochs: int = 10
    time_budget: float = 0.0  # minutes; 0: the epochs decide
    seed: int = 0
    amp: bool = True  # mixed precision where it pays (see engine.training.speed)
    compile: str = "auto"  # auto | on | off (see engine.training.speed)
    channels_last: bool = True  # for convolutional models (see engine.training.speed)
    log_every: int = 1  # report metrics every N steps
    checkpoint_every: int = 0  # steps; 0: only at epoch ends, on Stop and at the end
    epoch_checkpoint_interval_s: float = 0.0  # epoch-end checkpoints at most this often


class TrainingLoop:
    """Runs one algorithm to its end, a stop or a divergence.

    ``tag`` prefixes metric names and ``step_offset`` shifts steps, so several
    loops of one node (the folds of a cross-validation) share its curves.
    """

    def __init__(self, ctx: StepContext, algorithm: Algorithm, config: LoopConfig, *,
                 checkpoint_dir: Path | None = None, tag: str = "", step_offset: int = 0) -> None:
        self.ctx = ctx
        self.algorithm = algorithm
        self.config = config
        self.device = ctx.device
        self.checkpoint_dir = checkpoint_dir or ctx.node_dir / "checkpoints"
        self.tag = tag
        self.step_offset = step_offset
        self.position = Position()
        self.precision = Precision(self.device, config.amp)  # until the speed policy has seen the modules
        self.speed: SpeedPlan | None = None
        self._compile_pending = False  # the first compiled step falls back to eager if compiling fails
        self.clock = TrainingClock(config.time_budget)
        self.total_steps = 0
        self._pending: dict[str, Any] | None = None  # values of a step not yet checked (log_every > 1)
        self._last_save = 0.0
        self._steps_at_start = 0
        self.last_values: dict[str, float] = {}  # the last reported value of each metric
        # distributed (torchrun): this rank's place; None in a single-process run
        self.world = dist_world.active()
        self.shard = Shard(self.world.rank, self.world.size) if self.world else None
        self._sync = None
        self._ddp = None
        self._budget_out = False  # agreed by every rank at the last step: the time budget is spent
        self._stop_agreed = False  # agreed by every rank at the last step: some rank asked to stop
        if self.world is not None:
            from engine.distributed.sync import RankSync

            self._sync = RankSync(self.world, self.device)

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_dir / CHECKPOINT_NAME

    @property
    def checkpoint_source_dir(self) -> Path:
        """Where a resume reads checkpoints: this run's folder, or for a rank > 0 (whose folder is a
        scratch one) the folder of the run it resumes — rank 0's checkpoint restores every rank."""
        ctx = self.ctx
        if self.world is not None and not self.world.is_main and ctx.resume_dir is not None:
            return Path(ctx.resume_dir) / self.checkpoint_dir.relative_to(ctx.run_dir)
        return self.checkpoint_dir

    @property
    def writes(self) -> bool:
        """Whether this process writes checkpoints (rank 0 of a distributed run, or the only process)."""
        return self.world is None or self.world.is_main

    # -- for algorithms: speak with this loop's tag, step and epoch ---------------------------------
    def metric(self, name: str, value: float) -> None:
        """Report ``name`` at the current step (validation scores, epoch-end figures)."""
        pos = self.position
        self.ctx.metric(f"{self.tag}{name}", value, pos.step + self.step_offset, pos.epoch)

    def log(self, message: str, level: str = "info") -> None:
        self.ctx.log(f"{self.tag}{message}", level)

    # -- the whole run -------------------------------------------------------------------
    def run(self) -> Any:
        algo, cfg = self.algorithm, self.config
        seed_everything(cfg.seed)
        algo.loop = self
        algo.setup(self)
        self._plan_speed(algo.objects())
        self._objects = {**algo.objects(), "scaler": self.precision.scaler}
        self.watch = DivergenceWatch(algo.losses or algo.metrics[:1])
        restored, already_finished = self._restore()
        self.clock = TrainingClock(cfg.time_budget, float(restored.get("elapsed", 0.0)) if restored else 0.0)
        self._last_save = self.clock.session_seconds()
        self._steps_at_start = self.position.step
        self.total_steps = algo.total_steps(cfg.epochs)
        algo.on_start(resumed=restored is not None)
        if already_finished:
            return algo.result(Outcome("already_finished", self.position, self.clock.elapsed()))
        self._join()
        where = f"{self.device}, {self.world.describe()}" if self.world else self.device
        self.log(f"{algo.describe()}, {cfg.epochs} epochs x {algo.steps_per_epoch()} steps, {where}, "
                f"{self.precision.describe()}" + (f", time budget {cfg.time_budget:g} min" if cfg.time_budget else ""))
        if restored and self._spent():  # the budget counts all training, the runs before this resume too
            self.log(f"the time budget of {cfg.time_budget:g} min was already used before this resume "
                     f"({self.clock.elapsed() / 60:.1f} min of training): nothing more is trained — raise "
                     "time_budget to train longer", "warning")
        try:
            reason = self._train()
            self._leave()
        finally:
            self._close_ddp()
        if reason == "time_budget":
            self.log(f"time budget of {cfg.time_budget:g} min reached at step {self.position.step}")
        outcome = Outcome(reason, self.position, self.clock.elapsed())
        algo.on_train_end(outcome)
        self._save(final=True)
        return algo.result(outcome)

    # -- distributed (torchrun): join the other ranks, leave them ------------------------------
    def _join(self) -> None:
        """Route the modules' training forwards through DDP (its start copies rank 0's weights to every
        rank) and give each rank other than 0 its own random stream (its own dropout and noise)."""
        if self._sync is None or self.world is None:
            return
        from engine.distributed.ddp import trained_modules

        dist_world.wait_to_go()
        if self.world.is_main and dist_world.take_release():  # the others may now prepare their (cached) data
            self._sync.barrier()
        self._ddp = self._sync.wrap(trained_modules(self._objects), self.device)
        self._budget_out = self._sync.any(self.clock.spent())
        if self.world.rank:
            seed_everything(self.config.seed + 1_000_003 * self.world.rank + self.position.step)

    def _leave(self) -> None:
        """Training is over on every rank: rank 0's buffers everywhere, so all ranks hold the same state."""
        if self._sync is not None and self._ddp is not None and self.world is not None:
            self._sync.sync_buffers(self._ddp.modules)
            from engine.distributed.fingerprint import dump

            dump(self.world.rank, {name: obj for name, obj in self._objects.items() if obj in self._ddp.modules})

    def _close_ddp(self) -> None:
        if self._ddp is not None:
            self._ddp.close()
            self._ddp = None

    def _spent(self) -> bool:
        """The time budget is used up (in a distributed run: as agreed by every rank at the last step)."""
        return self._budget_out if self._sync is not None else self.clock.spent()

    def _train(self) -> str:
        algo, cfg, pos = self.algorithm, self.config, self.position
        per_epoch = algo.batches_per_epoch()
        reason = ""
        try:
            while not reason and pos.epoch <= cfg.epochs and not self._spent():
                for batch in algo.batches(pos.epoch, pos.batch):
                    self._check_control()
                    values = self._train_step(batch)
                    pos.batch += 1
                    if values is None:
                        continue
                    pos.step += 1
                    self._report(values)
                    algo.on_step_end(pos.step)
                    if cfg.checkpoint_every and pos.step % cfg.checkpoint_every == 0:
                        self._save()
                    if self._spent():
                        break
                complete = pos.batch >= per_epoch
                if self._sync is not None and self._ddp is not None:  # validate rank 0's statistics everywhere
                    self._sync.sync_buffers(self._ddp.modules)
                reason = algo.on_epoch_end(pos.epoch, pos.step, complete)
                if self._sync is not None:  # rank 0 decides (early stopping): every rank stops together
                    reason = self._sync.decide(reason)
                if complete:
                    pos.epoch, pos.batch = pos.epoch + 1, 0
                done = bool(reason) or pos.epoch > cfg.epochs or self._spent()
                if not done and self._epoch_checkpoint_due():
                    self._save()
        except RunStopped:
            self._save()
            algo.on_stop(pos.step)
            raise
        except TrainingDiverged:
            self.ctx.log(f"{self.tag}training diverged: the last good checkpoint is kept in "
                         f"{self.checkpoint_path.relative_to(self.ctx.run_dir)}", "error")
            raise
        except RuntimeError as exc:  # in a distributed run, DDP's gradient all-reduce may find a rank gone
            if self._sync is not None:
                from engine.distributed.sync import RankLost, is_comm_failure, lost

                if not isinstance(exc, RankLost) and is_comm_failure(exc):
                    raise lost(exc) from exc
            raise
        return reason or ("finished" if pos.epoch > cfg.epochs else "time_budget")

    # -- the speed policy ------------------------------------------------------------------
    def _plan_speed(self, objects: dict[str, Any]) -> None:
        """Decide (engine.training.speed) and apply: precision, channels_last, compile; say what and why."""
        from engine.training import speed

        cfg = self.config
        plan = speed.plan(self.device, objects, amp=cfg.amp, compile_mode=cfg.compile,
                          channels_last=cfg.channels_last, total_steps=self.algorithm.total_steps(cfg.epochs),
                          time_budget_min=cfg.time_budget)
        modules = speed.modules_of(objects)
        self.precision = Precision(self.device, plan.precision)
        if plan.channels_last:
            speed.to_channels_last(modules)
        if plan.compile:
            speed.compile_in_place(modules)
            self._compile_pending = True
        self.speed = plan
        self.log(plan.describe())
        self.ctx.bus.emit(ev.SpeedChosen(node_id=self.ctx.node_id, choices=plan.record()))

    def _train_step(self, batch: Any) -> Any:
        """One training step, the batch in the plan's layout; a first compiled step that fails runs eager."""
        from engine.training import speed

        if self.speed is not None and self.speed.channels_last:
            batch = speed.batch_to_channels_last(batch)
        if not self._compile_pending:
            return self.algorithm.train_step(batch)
        self._compile_pending = False
        return speed.first_compiled_step(self.algorithm, batch, self.log)

    # -- between batches --------------------------------------------------------------------
    def _check_control(self) -> None:
        """Answer Stop; while paused, block here and keep the pause off the training clock.

        In a distributed run a stop asked on one rank is carried to all by the step's all-reduce
        (see :meth:`_report`), so it is answered here only once every rank knows; pause is not
        offered there (one rank waiting would hold the others in their next collective).
        """
        if self._sync is not None:
            if self._stop_agreed:
                self.ctx.control.stop(self.ctx.control.stop_reason)
                self.ctx.check()
            return
        if self.ctx.control.paused:
            before = self.clock.session_seconds()
            self.ctx.check()
            self.clock.exclude(self.clock.session_seconds() - before)
        else:
            self.ctx.check()

    def _report(self, values: Any) -> None:
        cfg, pos = self.config, self.position
        due = pos.step % cfg.log_every == 0 or pos.step == self.total_steps
        if self._sync is not None:  # every step: the ranks' mean values, and their stop and budget flags
            values, self._stop_agreed, self._budget_out = self._sync.step(
                list(values), self.ctx.control.stop_requested, self.clock.spent())
        if due or self._sync is not None:  # distributed: checked every step, so every rank stops on the same one
            named = self._check(values)
            if due:
                self.last_values = named
                step = pos.step + self.step_offset
                for name, value in named.items():
                    self.ctx.metric(f"{self.tag}{name}", value, step, pos.epoch)
        else:
            self._pending = values
        self._progress()

    def _check(self, values: Any) -> dict[str, float]:
        """The step's values as floats (one device sync), checked for divergence."""
        self._pending = None
        tensors = [v.detach().float().reshape(()) for v in values if isinstance(v, torch.Tensor)]
        floats = iter(torch.stack(tensors).tolist() if tensors else [])
        numbers = [next(floats) if isinstance(v, torch.Tensor) else float(v) for v in values]
        named = dict(zip(self.algorithm.metrics, numbers, strict=True))
        self.watch.check(named, self.position.step, self.tag)
        return named

    def _progress(self) -> None:
        pos, clock, total = self.position, self.clock, max(self.total_steps, 1)
        session = clock.session_seconds()
        rate = (pos.step - self._steps_at_start) / session if session > 0 else 0.0
        fraction = pos.step / total
        eta = (total - pos.step) / rate if rate > 0 else None
        left = clock.left()
        if left is not None:
            fraction = max(fraction, 1.0 - left / clock.budget_s)
            eta = left if eta is None else min(eta, left)
        per_step = self.algorithm.samples_per_step() * (self.world.size if self.world else 1)  # all ranks' samples
        self.ctx.progress(fraction, step=pos.step, total_steps=self.total_steps,
                          epoch=min(pos.epoch, self.config.epochs), total_epochs=self.config.epochs,
                          samples_per_s=rate * per_step, eta_s=eta)

    # -- checkpoints -----------------------------------------------------------------------
    def _epoch_checkpoint_due(self) -> bool:
        interval = self.config.epoch_checkpoint_interval_s
        return interval <= 0 or self.clock.session_seconds() - self._last_save >= interval

    def _save(self, final: bool = False) -> None:
        """Write the checkpoint; never one holding a diverged step (its values are checked first).

        In a distributed run only rank 0 writes (the ranks hold the same weights)."""
        if self._pending is not None:
            self._check(self._pending)
        if not self.writes:
            return
        pos = self.position
        slim = self.algorithm.final_state() if final else None
        if slim is not None:
            state = dict(slim)
        else:
            state = {name: obj.state_dict() for name, obj in self._objects.items()}
            state.update(self.algorithm.state())
            state.update(rng=capture_rng(), divergence=self.watch.state())
        state.update(position=pos.to_json(), elapsed=self.clock.elapsed(), finished=final,
                     world_size=self.world.size if self.world else 1,
                     planned={"epochs": self.config.epochs, "time_budget": self.config.time_budget})
        save_checkpoint(self.checkpoint_path, state)
        self._last_save = self.clock.session_seconds()
        self.ctx.artifact("checkpoint", self.checkpoint_path)
        self.algorithm.on_checkpoint(final)

    def _regrid(self, position: Position, saved_world: int) -> Position:
        """A mid-epoch position saved with another world size: the batch that covers the same samples."""
        world = self.world.size if self.world else 1
        if saved_world == world or position.batch == 0:
            return position
        size = self.algorithm.batch_size
        batch = batches_for_samples(position.batch * size * saved_world, size, world)
        self.log(f"the checkpoint was written by {saved_world} process(es), this run has {world}: epoch "
                 f"{position.epoch} continues at batch {batch} (each step now takes {size} x {world} samples)")
        return Position(position.epoch, batch, position.step)

    def _warn_if_asked_for_more(self, planned: dict[str, Any]) -> None:
        """A slim final checkpoint cannot train further: say so when a resume asks for more."""
        cfg = self.config
        more_epochs = cfg.epochs > int(planned.get("epochs", cfg.epochs))
        more_time = cfg.time_budget != float(planned.get("time_budget", cfg.time_budget))
        if more_epochs or more_time:
            self.log("this step had finished and kept only its final weights, so it cannot train further with the "
                     "new epochs or time budget; its weights are reused. To train longer, start a fresh run that "
                     "starts from them (the model's weights param can name this run folder)", "warning")

    def _restore(self) -> tuple[dict[str, Any] | None, bool]:
        """Continue from the run's checkpoint when resuming; returns (state or None, already finished)."""
        ctx, path = self.ctx, self.checkpoint_source_dir / CHECKPOINT_NAME
        if ctx.resume_dir is None:
            return None, False
        if not path.exists():
            ctx.log(f"{self.tag}no checkpoint to resume from for this step: starting it from the beginning", "warning")
            ctx.rewind(self.step_offset)
            return None, False
        state = load_checkpoint(path)
        position = Position.from_json(state.get("position"), path)
        missing = [name for name in self._objects if name not in state]
        slim = bool(state.get("finished")) and bool(missing)
        if missing and not slim:
            raise UserInputError(f"{path}: the checkpoint holds no '{missing[0]}' — it was written by another kind of "
                                 "step; resume with the workflow that started the run, or start a fresh run")
        try:
            for name, obj in self._objects.items():
                if name in state:
                    obj.load_state_dict(state[name])
            self.algorithm.load_state(state)
            if not slim:
                restore_rng(state["rng"])
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
            detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise UserInputError(f"{path}: the checkpoint does not fit this step ({detail}) — resume with the "
                                 "workflow that started the run, or start a fresh run") from None
        self.watch.load_state(state.get("divergence") or {})
        self.position = self._regrid(position, int(state.get("world_size", 1) or 1))
        if slim:  # a finished part (a k-fold fold): its weights are final and its curve rows stay
            self.log(f"already finished at step {position.step}: reusing its weights")
            self._warn_if_asked_for_more(state.get("planned") or {})
            return state, True
        ctx.rewind(position.step + self.step_offset)
        ctx.log(f"{self.tag}resumed at step {position.step} (epoch {position.epoch}, batch {position.batch})")
        return state, False
