"""The one training-loop driver every algorithm runs on.

The driver owns what every kind of training needs alike, so each is written
and tested once:

* the position (epoch, next batch, step) and the clock with its time budget;
* cooperative stop and pause (checked between batches; paused time is not
  training time);
* when to checkpoint: every ``checkpoint_every`` steps, at epoch ends (at most every
  ``epoch_checkpoint_interval_s``), on Stop and at the end; what a checkpoint holds and
  how exact resume reads it back is :mod:`engine.training.loop_checkpoints`;
* divergence: NaN/inf and exploding losses stop the run, keeping the last
  good checkpoint;
* the speed policy (:mod:`engine.training.speed`): threads, precision, channels_last
  and compile, decided once the algorithm's modules exist, recorded in run.json and the log;
* progress (fraction, ETA, samples/s) and metric events (:mod:`engine.training.loop_reports`);
* under ``torchrun`` (see :mod:`engine.distributed`): each rank's shard of every epoch and
  checkpoints written by rank 0 only; DDP on the algorithm's modules, metrics averaged over the
  ranks and stop/budget/epoch-end decisions agreed by all ranks are :mod:`engine.training.loop_ranks`.

An :class:`engine.training.algorithm.Algorithm` supplies the rest.  The loop
follows Lightning's split of a fit loop and its hooks, kept to what Loom uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import events as ev
from engine.context import StepContext
from engine.distributed import world as dist_world
from engine.distributed.sharding import Shard
from engine.errors import RunStopped, TrainingDiverged
from engine.training.algorithm import Algorithm, Outcome
from engine.training.checkpoint import Position, seed_everything
from engine.training.clock import TrainingClock
from engine.training.common import FromParams
from engine.training.divergence import DivergenceWatch
from engine.training.loop_checkpoints import LoopCheckpoints
from engine.training.loop_reports import StepReports
from engine.training.precision import Precision
from engine.training.speed import SpeedPlan

if TYPE_CHECKING:
    from engine.training.loop_ranks import LoopRanks


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
        self.checkpoints = LoopCheckpoints(self, checkpoint_dir or ctx.node_dir / "checkpoints")
        self.tag = tag
        self.step_offset = step_offset
        self.position = Position()
        self.precision = Precision(self.device, config.amp)  # until the speed policy has seen the modules
        self.speed: SpeedPlan | None = None
        self._compile_pending = False  # the first compiled step falls back to eager if compiling fails
        self.clock = TrainingClock(config.time_budget)
        self.total_steps = 0
        self.reports = StepReports(self)
        # distributed (torchrun): this rank's place; None in a single-process run
        self.world = dist_world.active()
        self.shard = Shard(self.world.rank, self.world.size) if self.world else None
        self.ranks: LoopRanks | None = None
        if self.world is not None:
            from engine.training.loop_ranks import LoopRanks

            self.ranks = LoopRanks(self.world, self.device)

    @property
    def checkpoint_dir(self) -> Path:
        """Where this loop writes its checkpoint (algorithms keep their best weights next to it)."""
        return self.checkpoints.directory

    @property
    def checkpoint_source_dir(self) -> Path:
        """Where a resume reads checkpoints (see :attr:`LoopCheckpoints.source_dir`)."""
        return self.checkpoints.source_dir

    @property
    def last_values(self) -> dict[str, float]:
        """The last reported value of each metric."""
        return self.reports.last_values

    @property
    def world_size(self) -> int:
        """How many processes train together (1 outside ``torchrun``)."""
        return self.world.size if self.world else 1

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
        self.objects = {**algo.objects(), "scaler": self.precision.scaler}
        self.watch = DivergenceWatch(algo.losses or algo.metrics[:1])
        restored, position, already_finished = self.checkpoints.restore()
        if position is not None:
            self.position = position
        self.clock = TrainingClock(cfg.time_budget, float(restored.get("elapsed", 0.0)) if restored else 0.0)
        self.checkpoints.last_save = self.clock.session_seconds()
        self.reports.steps_at_start = self.position.step
        self.total_steps = algo.total_steps(cfg.epochs)
        algo.on_start(resumed=restored is not None)
        if already_finished:
            return algo.result(Outcome("already_finished", self.position, self.clock.elapsed()))
        if self.ranks is not None:
            self.ranks.join(self.objects, self.clock, cfg.seed, self.position.step)
        where = f"{self.device}, {self.world.describe()}" if self.world else self.device
        self.log(f"{algo.describe()}, {cfg.epochs} epochs x {algo.steps_per_epoch()} steps, {where}, "
                f"{self.precision.describe()}" + (f", time budget {cfg.time_budget:g} min" if cfg.time_budget else ""))
        if restored and self._spent():  # the budget counts all training, the runs before this resume too
            self.log(f"the time budget of {cfg.time_budget:g} min was already used before this resume "
                     f"({self.clock.elapsed() / 60:.1f} min of training): nothing more is trained — raise "
                     "time_budget to train longer", "warning")
        try:
            reason = self._train()
            if self.ranks is not None:
                self.ranks.leave(self.objects)
        finally:
            if self.ranks is not None:
                self.ranks.close()
        if reason == "time_budget":
            self.log(f"time budget of {cfg.time_budget:g} min reached at step {self.position.step}")
        outcome = Outcome(reason, self.position, self.clock.elapsed())
        algo.on_train_end(outcome)
        self._save(final=True)
        return algo.result(outcome)

    def _spent(self) -> bool:
        """The time budget is used up (in a distributed run: as agreed by every rank at the last step)."""
        return self.ranks.budget_out if self.ranks is not None else self.clock.spent()

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
                    if self.ranks is not None:  # every step: the ranks' mean values, and their stop and budget flags
                        values = self.ranks.agree_on_step(values, self.ctx.control.stop_requested, self.clock.spent())
                    # distributed: checked every step, so every rank stops on the same one
                    self.reports.report(values, check_now=self.ranks is not None)
                    algo.on_step_end(pos.step)
                    if cfg.checkpoint_every and pos.step % cfg.checkpoint_every == 0:
                        self._save()
                    if self._spent():
                        break
                complete = pos.batch >= per_epoch
                if self.ranks is not None:  # validate rank 0's statistics everywhere
                    self.ranks.share_buffers()
                reason = algo.on_epoch_end(pos.epoch, pos.step, complete)
                if self.ranks is not None:  # rank 0 decides (early stopping): every rank stops together
                    reason = self.ranks.decide(reason)
                if complete:
                    pos.epoch, pos.batch = pos.epoch + 1, 0
                done = bool(reason) or pos.epoch > cfg.epochs or self._spent()
                if not done and self.checkpoints.due_at_epoch_end():
                    self._save()
        except RunStopped:
            self._save()
            algo.on_stop(pos.step)
            raise
        except TrainingDiverged:
            self.log("training diverged: the last good checkpoint is kept in "
                     f"{self.checkpoints.path.relative_to(self.ctx.run_dir)}", "error")
            raise
        except RuntimeError as exc:  # in a distributed run, DDP's gradient all-reduce may find a rank gone
            if self.ranks is not None:
                self.ranks.raise_if_lost(exc)
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
        return speed.first_compiled_step(self.algorithm, batch, self.log, self.checkpoints)

    # -- between batches --------------------------------------------------------------------
    def _check_control(self) -> None:
        """Answer Stop; while paused, block here and keep the pause off the training clock.

        In a distributed run a stop asked on one rank is carried to all by the step's all-reduce
        (see :meth:`LoopRanks.agree_on_step`), so it is answered here only once every rank knows; pause is not
        offered there (one rank waiting would hold the others in their next collective).
        """
        if self.ranks is not None:
            self.ranks.answer_stop(self.ctx)
            return
        if self.ctx.control.paused:
            before = self.clock.session_seconds()
            self.ctx.check()
            self.clock.exclude(self.clock.session_seconds() - before)
        else:
            self.ctx.check()

    def _save(self, final: bool = False) -> None:
        """Write the checkpoint; never one holding a diverged step (its values are checked first)."""
        self.reports.flush()
        self.checkpoints.save(final)
