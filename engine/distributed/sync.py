"""What the ranks of a distributed run agree on, so that they always take the same steps.

DDP needs every rank to run the same number of training steps and collectives in the same order.
Anything one rank could decide alone — stop (Ctrl-C, the app's Stop), a time budget running out,
early stopping, divergence — is therefore agreed on here:

* :meth:`RankSync.step` — one all-reduce per step carries the step's values (reported as their
  mean over the ranks, so divergence is judged on the same numbers everywhere) and the stop and
  budget flags (any rank's flag stops all);
* :meth:`RankSync.decide` — rank 0's epoch-end decision (e.g. early stopping) for everyone;
* :meth:`RankSync.sync_buffers` — rank 0's buffers (BatchNorm statistics) for everyone, before
  validation and checkpoints, so every rank holds bit-identical state.

A collective that fails because another rank vanished raises :class:`RankLost`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from engine.distributed import world as world_mod

if TYPE_CHECKING:
    import torch

    from engine.distributed.ddp import DDPModules
    from engine.distributed.world import World


class RankLost(RuntimeError):
    """Another rank of this distributed run stopped answering (it died or was stopped)."""


LOST = ("another rank of this distributed run stopped answering (it died or was stopped; the launcher names "
        "it): training ends here and the last checkpoint is kept")


_COMM_SIGNS = ("connection closed by peer", "connection reset by peer", "broken pipe", "gloo", "nccl",
               "processgroup", "timed out", "socket", "store")


def is_comm_failure(exc: BaseException) -> bool:
    """Whether ``exc`` came from talking to the other ranks (a collective, DDP's gradient all-reduce)."""
    try:
        import torch.distributed as dist

        if isinstance(exc, getattr(dist, "DistError", ())):
            return True
    except ImportError:  # pragma: no cover - torch without distributed support
        pass
    text = f"{type(exc).__name__} {exc}".lower()
    return isinstance(exc, RuntimeError) and any(sign in text for sign in _COMM_SIGNS)


def lost(exc: BaseException) -> RankLost:
    """The :class:`RankLost` to raise for a failed collective (and remember it for the exit code)."""
    world_mod.mark_peer_lost()
    return RankLost(LOST)


def _guarded(fn: Any) -> Any:
    """Turn a backend error of a collective into :class:`RankLost` (and remember it for the exit code)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RankLost:
            raise
        except Exception as exc:  # gloo/NCCL raise RuntimeError subclasses (DistBackendError, ...)
            raise lost(exc) from exc

    call.__doc__ = fn.__doc__
    return call


class RankSync:
    """The loop driver's collectives for one world; ``device`` holds NCCL's tensors (gloo's stay on the CPU)."""

    def __init__(self, world: World, device: str) -> None:
        self.world = world
        self.device = device if world.backend == "nccl" else "cpu"

    @_guarded
    def step(self, values: Sequence[Any], stop: bool, spent: bool) -> tuple[list[float], bool, bool]:
        """Mean of each value over the ranks, and whether any rank asked to stop / ran out of time."""
        import torch
        import torch.distributed as dist

        numbers = [v.detach().float().reshape(()).to(self.device) if isinstance(v, torch.Tensor)
                   else torch.tensor(float(v), device=self.device) for v in values]
        flags = torch.tensor([float(stop), float(spent)], device=self.device)
        packed = torch.cat([torch.stack(numbers).float() if numbers else flags[:0], flags])
        dist.all_reduce(packed, op=dist.ReduceOp.SUM)
        out = packed.cpu().tolist()
        n = len(numbers)
        return [v / self.world.size for v in out[:n]], out[n] > 0, out[n + 1] > 0

    @_guarded
    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any."""
        import torch
        import torch.distributed as dist

        t = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    @_guarded
    def decide(self, reason: str) -> str:
        """Rank 0's ``reason`` on every rank (an epoch-end decision such as early stopping)."""
        import torch.distributed as dist

        box = [reason]
        dist.broadcast_object_list(box, src=0)
        return str(box[0] or "")

    @_guarded
    def sync_buffers(self, modules: Iterable[torch.nn.Module]) -> None:
        """Copy rank 0's buffers (BatchNorm running statistics, counters) to every rank."""
        import torch.distributed as dist

        for module in modules:
            for buf in module.buffers():
                if buf.device.type == "cpu" and self.world.backend == "nccl":
                    continue  # NCCL moves device tensors only; a CPU buffer is not trained state
                dist.broadcast(buf.data, src=0)

    @_guarded
    def wrap(self, modules: list[torch.nn.Module], device: str) -> DDPModules:
        """Route the modules' training forwards through DDP (its start broadcasts rank 0's weights)."""
        from engine.distributed.ddp import DDPModules

        return DDPModules(modules, device)

    @_guarded
    def barrier(self) -> None:
        import torch.distributed as dist

        dist.barrier()
