"""Who this process is in a distributed run, and the process group's start and end.

``torchrun`` (``torch.distributed.run``) starts each worker with ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` in its environment;
:func:`from_env` reads them, :func:`start` picks this rank's device and backend (NCCL on CUDA, gloo
on CPUs) and joins the group, :func:`active` tells the training loop that it runs distributed.
``torch.distributed`` is imported only in :func:`start` and :func:`end`.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from engine.errors import UserInputError

#: a rank whose run failed because another rank vanished exits with this; the launcher names the other one
EXIT_PEER_LOST = 75
#: collectives wait this long for a rank that is alive but silent (a dead one is noticed at once)
DEFAULT_TIMEOUT_S = 1800


@dataclass(frozen=True)
class World:
    """This process's place in the run: ``rank`` of ``size``, ``local_rank`` of ``local_size`` on this machine."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1
    backend: str = ""
    device: str = "cpu"
    devices: tuple[str, ...] = ()  # every rank's device, by rank (known once the group has started)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> str:
        devices = ", ".join(self.devices) if self.devices else self.device
        return f"rank {self.rank} of {self.size} ({self.backend}; devices by rank: {devices})"

    def record(self) -> dict[str, object]:
        """What run.json keeps about the world."""
        return {"world_size": self.size, "backend": self.backend, "rank_devices": list(self.devices)}


_active: World | None = None
_peer_lost = False
_go = threading.Event()  # set once every rank agreed to start (engine.distributed.rank_run)
_release_pending = False  # rank 0 still owes the other ranks their "data is ready" barrier


def from_env(environ: Mapping[str, str] | None = None) -> World | None:
    """The world torchrun describes in the environment, or None outside torchrun."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return None
    try:
        size, rank = int(env["WORLD_SIZE"]), int(env["RANK"])
        local_rank = int(env.get("LOCAL_RANK", rank))
        local_size = int(env.get("LOCAL_WORLD_SIZE", size))
    except ValueError:
        raise UserInputError("the torchrun environment is damaged (RANK, WORLD_SIZE, LOCAL_RANK must be whole "
                             "numbers) — start the run with `loom run FLOW --nproc N` or torchrun") from None
    if size < 1 or not 0 <= rank < size or not 0 <= local_rank < max(local_size, 1):
        raise UserInputError(f"the torchrun environment says rank {rank} of {size} — start the run with "
                             "`loom run FLOW --nproc N` or torchrun")
    return World(rank, size, local_rank, local_size)


def rank_device(preference: str, local_rank: int, local_size: int) -> tuple[str, str]:
    """``(device, backend)`` for one rank; UserInputError when the machine cannot give every rank one.

    ``auto`` trains on the GPUs when every process of this machine gets one, else on the CPUs
    (:func:`cpu_fallback` says why, for the log)."""
    import torch

    cuda = torch.cuda.is_available()
    count = torch.cuda.device_count() if cuda else 0
    if preference.startswith("cuda"):
        if not cuda:
            raise UserInputError("--device cuda: this computer has no CUDA GPU — use --device cpu (gloo) instead")
        if local_size > count:
            raise UserInputError(f"--nproc {local_size} --device cuda: this computer has {count} CUDA GPU"
                                 f"{'s' if count != 1 else ''}; one process per GPU — use --nproc {count} or "
                                 "--device cpu")
        return f"cuda:{local_rank}", "nccl"
    if preference == "mps":
        raise UserInputError("--device mps: Apple GPUs cannot train with several processes — use --device cpu, "
                             "or drop --nproc")
    if preference == "auto" and cuda and local_size <= count:
        return f"cuda:{local_rank}", "nccl"
    return "cpu", "gloo"


def cpu_fallback(preference: str, local_size: int) -> str:
    """Why ``auto`` trains on the CPUs although there are GPUs ('' when it does not)."""
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if preference != "auto" or count == 0 or local_size <= count:
        return ""
    return (f"{local_size} processes but {count} CUDA GPU{'s' if count != 1 else ''}: training on the CPUs (gloo) — "
            f"use --nproc {count} to train on the GPUs, one process each")


def start(world: World, preference: str = "auto", timeout_s: float | None = None) -> World:
    """Join the process group (env:// rendezvous); returns the world with its backend and every rank's device."""
    global _active
    import torch
    import torch.distributed as dist

    device, backend = rank_device(preference, world.local_rank, world.local_size)
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    seconds = timeout_s if timeout_s is not None else float(os.environ.get("LOOM_DIST_TIMEOUT", DEFAULT_TIMEOUT_S))
    kwargs = {"device_id": torch.device(device)} if backend == "nccl" else {}
    dist.init_process_group(backend, rank=world.rank, world_size=world.size,
                            timeout=dt.timedelta(seconds=seconds), **kwargs)
    devices: list[object] = [None] * world.size
    dist.all_gather_object(devices, device)
    _active = replace(world, backend=backend, device=device, devices=tuple(str(d) for d in devices))
    global _release_pending
    _release_pending = True
    _go.clear()
    return _active


def go() -> None:
    """Every rank agreed to start: the training loop may talk to the others (see :func:`wait_to_go`)."""
    _go.set()


def wait_to_go() -> None:
    """Block the engine thread until the main thread's start agreement is done (collectives never overlap)."""
    _go.wait()


def take_release() -> bool:
    """True once per process: rank 0 owes the others the barrier that says its data is ready and cached.

    Ranks other than 0 wait at that barrier before running the workflow, so only rank 0 downloads and
    prepares the data; they then find it in the node cache.  Rank 0 enters it when its first training
    loop starts (or at its end, when the workflow trains nothing).
    """
    global _release_pending
    pending, _release_pending = _release_pending, False
    return pending


def active() -> World | None:
    """The world this process has joined, or None (a single-process run, the app, the tests)."""
    return _active


def end() -> None:
    """Leave the process group (never raises: the run's own outcome is what matters)."""
    global _active
    if _active is None:
        return
    _active = None
    try:
        import gc

        import torch.distributed as dist

        gc.collect()  # DDP's reducers hold the group: let them go first

        if dist.is_initialized():
            dist.destroy_process_group()
    except Exception:  # noqa: BLE001 - a peer already gone: nothing left to tidy
        pass


def mark_peer_lost() -> None:
    """A collective failed: another rank died or left (the process then exits :data:`EXIT_PEER_LOST`)."""
    global _peer_lost
    _peer_lost = True


def peer_lost() -> bool:
    return _peer_lost
