"""One rank of a distributed ``loom run``: what a process started by torchrun does.

Every rank validates the workflow, joins the process group and runs the whole workflow (data and
preprocessing are deterministic and cached, so every rank can prepare its own copy); the training
loop then shards, wraps and agrees with the others (engine.training.loop).  Only rank 0 writes the
run folder, its events, samples, checkpoints and the index entry.  A rank other than 0 runs in a
scratch folder under the system's temp folder, without the index, and removes it at the end; when
resuming it reads rank 0's checkpoints from the run folder and writes nothing there.

Ranks other than 0 print nothing of the run (rank 0 speaks for it).  A rank whose run ended because
another rank vanished exits :data:`engine.distributed.world.EXIT_PEER_LOST`, so that the launcher
names the rank that really died.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from engine.distributed import world as world_mod
from engine.distributed.record import announce
from engine.distributed.sync import RankLost, RankSync
from engine.distributed.world import World
from engine.errors import UserInputError


def quiet_torch_logging() -> None:
    """torch.distributed's own warnings and C++ log lines are not the user's business: keep them off the terminal."""
    for name in ("torch.distributed", "torch.nn.parallel"):
        logger = logging.getLogger(name)  # torch gives it a stderr handler of its own: replace it
        logger.handlers = [logging.NullHandler()]
        logger.propagate = False
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")


def set_threads(world: World) -> None:
    """CPU ranks share the machine: each gets its share of the cores unless OMP_NUM_THREADS says otherwise."""
    if os.environ.get("OMP_NUM_THREADS"):
        return
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, world.local_size)))


def run_rank(args: argparse.Namespace, world: World) -> int:
    """Run as ``world.rank``, then end the process with its exit code (see :func:`leave_now`)."""
    from engine.cli import EXIT_INVALID
    from engine.cli.validate import load_checked

    quiet_torch_logging()
    if world.rank:
        logging.getLogger().setLevel(logging.ERROR)
    wf = load_checked(args.workflow, args.overrides)  # every rank refuses a bad workflow before joining anyone
    set_threads(world)
    try:
        joined = world_mod.start(world, args.device)
    except UserInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the group could not form: one line, not a traceback
        detail = " ".join(str(exc).split())[:200]
        raise UserInputError(f"rank {world.rank}: could not join the other processes ({type(exc).__name__}: "
                             f"{detail}) — check --rdzv-endpoint and that every machine started the run") from None
    scratch: list[Path] = []
    try:
        code = _run_joined(args, joined, wf, scratch)
    except UserInputError as exc:  # e.g. rank 0 refused the run folder: said once, by rank 0
        if joined.is_main:
            for line in str(exc).splitlines():
                print(f"loom: {line}", file=sys.stderr)
        code = EXIT_INVALID
    finally:
        world_mod.end()
        for folder in scratch:
            shutil.rmtree(folder, ignore_errors=True)
    leave_now(code)
    return code  # not reached


def leave_now(code: int) -> None:
    """End this rank's process now that its run is recorded and the group is left.

    The interpreter's own teardown can abort ("terminate called without an active exception")
    when torch's communication threads are destroyed in the wrong order at exit; the run is
    already fully written, so the process ends here without that teardown.
    """
    from engine.cli import exit_now

    exit_now(code)


def _run_joined(args: argparse.Namespace, joined: World, wf, scratch: list[Path]) -> int:  # noqa: ANN001
    """The run of one rank that has joined the group; returns its exit code."""
    from engine.cli import EXIT_INVALID
    from engine.run_index import RunIndex
    from engine.runner import Engine

    started, refusal = None, None
    args.stop_on_sigterm = True
    sync = RankSync(joined, joined.device)
    try:
        if joined.is_main:
            printer = _printer(args)
            started = Engine(index=RunIndex(), disk_cache=not args.no_cache).start(
                wf, out_dir=args.out, device=joined.device, on_event=printer, resume_from=args.resume,
                force=args.force, tags=joined.record())
            announce(started.run_dir)
    except UserInputError as exc:
        refusal = exc
    if _any_refused(sync, refusal is not None):  # rank 0 refused (a used folder...): nobody trains
        if refusal is not None:
            raise refusal
        if started is not None:
            started.stop()
            started.wait(60)
        return world_mod.EXIT_PEER_LOST if world_mod.peer_lost() else EXIT_INVALID
    world_mod.go()
    if not joined.is_main:
        if world_mod.take_release():
            try:
                sync.barrier()  # rank 0 has prepared (and cached) the data, and starts training
            except RankLost:
                return world_mod.EXIT_PEER_LOST
        printer = None
        root = os.environ.get("LOOM_SCRATCH_ROOT")  # the launcher's temp folder: removed even if we are killed
        scratch.append(Path(tempfile.mkdtemp(prefix=f"loom-rank{joined.rank}-", dir=root if root else None)))
        started = Engine(index=None, disk_cache=not args.no_cache).start(
            wf, out_dir=scratch[0] / "run", device=joined.device, checkpoints_from=args.resume)
    from engine.cli.run import wait_for

    code = wait_for(args, started, printer)
    if joined.is_main and world_mod.take_release():  # it trained nothing: let the others run their part
        with contextlib.suppress(RankLost):
            sync.barrier()
    return world_mod.EXIT_PEER_LOST if world_mod.peer_lost() else code


def _printer(args: argparse.Namespace):  # noqa: ANN202
    from engine.cli.run import ProgressPrinter

    return ProgressPrinter(sys.stderr, args.quiet)


def _any_refused(sync: RankSync, refused: bool) -> bool:
    """Whether any rank could not start its run (one all-reduce; a lost peer counts as a refusal)."""
    with contextlib.suppress(RankLost):
        return sync.any(refused)
    return True
