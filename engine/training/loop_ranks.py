"""The training loop's side of a distributed run (under ``torchrun``): join the other ranks, agree, leave.

DDP needs every rank to take the same steps and the same collectives in the same order, so whatever the
loop could decide alone on one rank — a stop, the time budget running out, the epoch-end verdict —
goes through :class:`engine.distributed.sync.RankSync` here.  The driver holds one :class:`LoopRanks`
only when it runs distributed; a single-process run never imports this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.distributed import world as dist_world
from engine.distributed.sync import RankLost, RankSync, is_comm_failure, lost
from engine.training.checkpoint import seed_everything

if TYPE_CHECKING:
    from engine.context import StepContext
    from engine.distributed.ddp import DDPModules
    from engine.distributed.world import World
    from engine.training.clock import TrainingClock


class LoopRanks:
    """This rank's link to the others: the DDP wrapping of the modules and the flags all ranks agreed on."""

    def __init__(self, world: World, device: str) -> None:
        self.world = world
        self.device = device
        self.sync = RankSync(world, device)
        self.ddp: DDPModules | None = None
        self.budget_out = False  # agreed by every rank at the last step: the time budget is spent
        self.stop_agreed = False  # agreed by every rank at the last step: some rank asked to stop

    def join(self, objects: dict[str, Any], clock: TrainingClock, seed: int, step: int) -> None:
        """Route the modules' training forwards through DDP (its start copies rank 0's weights to every
        rank) and give each rank other than 0 its own random stream (its own dropout and noise)."""
        from engine.distributed.ddp import trained_modules

        dist_world.wait_to_go()
        if self.world.is_main and dist_world.take_release():  # the others may now prepare their (cached) data
            self.sync.barrier()
        self.ddp = self.sync.wrap(trained_modules(objects), self.device)
        self.budget_out = self.sync.any(clock.spent())
        if self.world.rank:
            seed_everything(seed + 1_000_003 * self.world.rank + step)

    def agree_on_step(self, values: Any, stop_requested: bool, spent: bool) -> list[float]:
        """One all-reduce per step: the ranks' mean values; remembers the agreed stop and budget flags."""
        means, self.stop_agreed, self.budget_out = self.sync.step(list(values), stop_requested, spent)
        return means

    def answer_stop(self, ctx: StepContext) -> None:
        """Stop here once every rank knows some rank asked to (pause is not offered: one rank waiting
        would hold the others in their next collective)."""
        if self.stop_agreed:
            ctx.control.stop(ctx.control.stop_reason)
            ctx.check()

    def share_buffers(self) -> None:
        """Rank 0's buffers (BatchNorm statistics) on every rank, so validation sees the same model."""
        if self.ddp is not None:
            self.sync.sync_buffers(self.ddp.modules)

    def decide(self, reason: str) -> str:
        """Rank 0's epoch-end decision (early stopping) for every rank, so all stop together."""
        return self.sync.decide(reason)

    def leave(self, objects: dict[str, Any]) -> None:
        """Training is over on every rank: rank 0's buffers everywhere, so all ranks hold the same state."""
        if self.ddp is not None:
            self.sync.sync_buffers(self.ddp.modules)
            from engine.distributed.fingerprint import dump

            dump(self.world.rank, {name: obj for name, obj in objects.items() if obj in self.ddp.modules})

    def close(self) -> None:
        """Unwrap the modules (also after a failure, so nothing keeps routing through DDP)."""
        if self.ddp is not None:
            self.ddp.close()
            self.ddp = None

    def raise_if_lost(self, exc: RuntimeError) -> None:
        """DDP's gradient all-reduce found a rank gone: raise :class:`RankLost` (with its clear message)."""
        if not isinstance(exc, RankLost) and is_comm_failure(exc):
            raise lost(exc) from exc
