"""``loom run FLOW --nproc N [--nnodes M --node-rank R --rdzv-endpoint HOST:PORT]``.

The workers are started by PyTorch's own launcher — ``torch.distributed.run``'s Python API
(:class:`torch.distributed.launcher.api.elastic_launch`), the code behind ``torchrun`` — each as
``python -m engine.cli run FLOW ...`` with the torchrun environment, so a run started here and one
started with ``torchrun --nproc-per-node N -m engine.cli run FLOW`` are the same thing.  On one
machine the rendezvous is torchrun's standalone one (``c10d`` on a free local port); across
machines it is the static one at ``--rdzv-endpoint`` (machine 0 hosts it).

This process only launches and reports:

* rank 0 keeps the terminal; the other local ranks' output goes to files in a temp folder (shown
  only when one of them is to blame, then removed), so their noise never drowns the message;
* a rank that dies ends the run (no restarts): the launcher stops the others (they keep the last
  checkpoint) and says which one died and how — ``rank 1 (pid 1234) died: killed by SIGKILL`` —
  and exits 1; bad input (``--nproc 0``, more CUDA ranks than GPUs, an unreachable rendezvous) is
  one line and exit 2, before any worker starts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from engine.distributed.record import announced, close_dead_run
from engine.distributed.world import EXIT_PEER_LOST
from engine.errors import UserInputError

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class Plan:
    """What to launch, checked: processes on this machine, machines, this machine's number, the meeting point."""

    nproc: int
    nnodes: int = 1
    node_rank: int = 0
    host: str = "localhost"
    port: int = 0
    timeout_s: float = 300.0

    @property
    def standalone(self) -> bool:
        return self.nnodes == 1


def plan_from(args: argparse.Namespace) -> Plan:
    """The launch asked for by ``args``; UserInputError names the flag that is wrong and what to do."""
    nproc = 1 if args.nproc is None else args.nproc
    if nproc < 1:
        raise UserInputError(f"--nproc {nproc}: the number of processes must be 1 or more")
    if args.nnodes < 1:
        raise UserInputError(f"--nnodes {args.nnodes}: the number of machines must be 1 or more")
    if not 0 <= args.node_rank < args.nnodes:
        raise UserInputError(f"--node-rank {args.node_rank}: with --nnodes {args.nnodes} it must be 0.."
                             f"{args.nnodes - 1}")
    timeout = float(args.rdzv_timeout)
    if timeout <= 0:
        raise UserInputError(f"--rdzv-timeout {args.rdzv_timeout:g}: must be more than 0 seconds")
    if args.nnodes == 1 and not args.rdzv_endpoint:
        return Plan(nproc, timeout_s=timeout)
    if not args.rdzv_endpoint:
        raise UserInputError(f"--nnodes {args.nnodes}: give --rdzv-endpoint HOST:PORT, machine 0's address and a free "
                             "port, the same on every machine")
    host, _, port_text = args.rdzv_endpoint.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UserInputError(f"--rdzv-endpoint {args.rdzv_endpoint}: expected HOST:PORT, e.g. 10.0.0.5:29500")
    return Plan(nproc, args.nnodes, args.node_rank, host.strip("[]"), int(port_text), timeout)


def check_rendezvous(plan: Plan) -> None:
    """Fail early, in one line, when the meeting point cannot be reached (machines other than 0 connect to it)."""
    if plan.standalone:
        return
    try:
        socket.getaddrinfo(plan.host, plan.port)
    except OSError:
        raise UserInputError(f"--rdzv-endpoint {plan.host}:{plan.port}: the host name '{plan.host}' is not known "
                             "on this machine — use machine 0's address") from None
    if plan.node_rank == 0:
        return
    deadline = time.monotonic() + plan.timeout_s
    while True:
        try:
            with socket.create_connection((plan.host, plan.port), timeout=min(5.0, plan.timeout_s)):
                return
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise UserInputError(
                    f"--rdzv-endpoint {plan.host}:{plan.port}: could not reach it within {plan.timeout_s:g} s "
                    f"({exc.strerror or type(exc).__name__}) — start machine 0 (--node-rank 0) first, check the "
                    "address and port and the firewall, or raise --rdzv-timeout") from None
            time.sleep(0.5)


def worker_argv(args: argparse.Namespace) -> list[str]:
    """The ``loom run`` arguments every worker gets (the launch flags themselves stay here)."""
    argv = ["run", args.workflow, "--device", args.device]
    if args.out:
        argv += ["--out", args.out]
    if args.force:
        argv.append("--force")
    for override in args.overrides:
        argv += ["--set", override]
    if args.resume:
        argv += ["--resume", args.resume]
    if args.quiet:
        argv.append("--quiet")
    if args.no_cache:
        argv.append("--no-cache")
    return argv


def launch(args: argparse.Namespace) -> int:
    """Start the workers through torch.distributed.run and wait; the exit code for the whole run."""
    from engine.cli.validate import load_checked
    from engine.distributed.rank_run import quiet_torch_logging
    from engine.distributed.world import cpu_fallback, rank_device

    plan = plan_from(args)
    load_checked(args.workflow, args.overrides)  # a bad workflow is told once, here, not by every rank
    rank_device(args.device, 0, plan.nproc)  # e.g. more CUDA ranks than GPUs: refused before anything starts
    fallback = cpu_fallback(args.device, plan.nproc)
    if fallback:
        print(f"loom: warning: {fallback}", file=sys.stderr)
    check_rendezvous(plan)
    quiet_torch_logging()

    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, Std
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    logs = Path(tempfile.mkdtemp(prefix="loom-ranks-"))
    quiet_ranks = {r: Std.ALL for r in range(1, plan.nproc)}
    config = LaunchConfig(
        min_nodes=plan.nnodes, max_nodes=plan.nnodes, nproc_per_node=plan.nproc,
        run_id="loom" if not plan.standalone else f"loom-{uuid.uuid4().hex[:12]}",
        rdzv_backend="c10d" if plan.standalone else "static",
        rdzv_endpoint="localhost:0" if plan.standalone else f"{plan.host}:{plan.port}",
        rdzv_configs={"timeout": int(plan.timeout_s)} if plan.standalone else
        {"rank": plan.node_rank, "timeout": int(plan.timeout_s)},
        max_restarts=0, monitor_interval=0.1, start_method="spawn",
        logs_specs=DefaultLogsSpecs(log_dir=str(logs), redirects=quiet_ranks),
        signals_to_handle="SIGINT,SIGHUP,SIGQUIT",  # SIGTERM: see on_sigterm
    )
    env_before = dict(os.environ)
    os.environ["LOOM_SCRATCH_ROOT"] = str(logs)  # ranks > 0 work in here; removed below, whatever became of them
    if not os.environ.get("OMP_NUM_THREADS"):  # each CPU rank its share of the cores
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // plan.nproc))
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")

    def on_sigterm(signum, frame):  # noqa: ANN001
        """Ending the launcher (the app's Stop, a scheduler) is a stop like Ctrl-C: every rank saves and ends.

        The workers then get SIGINT from the launcher; SIGTERM reaches them only when a rank died (the
        launcher ending the survivors), which they answer by failing, not by a stop (engine.cli.run)."""
        signal.raise_signal(signal.SIGINT)

    previous_term = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", "engine.cli", *worker_argv(args))
        return EXIT_OK
    except ChildFailedError as exc:
        code, message = judge(exc.failures, logs)
        run_dir = announced(logs)
        if run_dir is not None:
            message = message.replace("--resume RUN_DIR", f"--resume {run_dir}")
        if message:
            print(f"loom: {message}", file=sys.stderr)
        rank0 = exc.failures.get(0)
        if run_dir is not None and rank0 is not None and int(rank0.exitcode) < 0:  # rank 0 could not end its record
            close_dead_run(run_dir, message or f"rank 0 died: killed by {signal_name(int(rank0.exitcode))}")
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - rendezvous and agent errors: one line
        if type(exc).__name__ == "SignalException":
            return EXIT_INTERRUPTED
        detail = " ".join(str(exc).split())[:200]
        where = "" if plan.standalone else f" at {plan.host}:{plan.port}"
        print(f"loom: the processes could not meet{where} ({type(exc).__name__}: {detail}) — check "
              "--rdzv-endpoint and that every machine started the same command", file=sys.stderr)
        return EXIT_INVALID
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        os.environ.clear()
        os.environ.update(env_before)
        shutil.rmtree(logs, ignore_errors=True)


@dataclass(frozen=True)
class Ended:
    """How one rank ended: ``exitcode`` < 0 is the signal that killed it."""

    rank: int
    pid: int
    exitcode: int
    local_rank: int = 0


def signal_name(exitcode: int) -> str:
    with contextlib.suppress(ValueError):
        return signal.Signals(-exitcode).name
    return f"signal {-exitcode}"


def blame(ended: list[Ended]) -> Ended | None:
    """The rank that ended the run: killed by a signal of its own, else failed by itself, else the rest.

    A rank that exited :data:`EXIT_PEER_LOST` only noticed another one vanish, and SIGTERM/SIGINT
    are what the launcher sends the survivors when it ends the run; they are blamed last.
    """
    own_signal = [e for e in ended if e.exitcode < 0 and -e.exitcode not in (signal.SIGTERM, signal.SIGINT)]
    failed = [e for e in ended if e.exitcode > 0 and e.exitcode not in (EXIT_PEER_LOST, EXIT_INTERRUPTED)]
    ended_by_launcher = [e for e in ended if e.exitcode < 0]
    for group in (own_signal, failed, ended_by_launcher, ended):
        if group:
            return min(group, key=lambda e: e.rank)
    return None


def judge(failures: dict, logs: Path) -> tuple[int, str]:
    """``(exit code, message)`` for failed ranks (torch's ProcessFailure by global rank)."""
    ended = [Ended(int(rank), int(f.pid), int(f.exitcode), int(getattr(f, "local_rank", rank)))
             for rank, f in failures.items()]
    who = blame(ended)
    if who is None:
        return EXIT_FAILED, "the run failed"
    if who.exitcode == EXIT_INVALID:  # refused input: rank 0 (or this rank) already said why
        return EXIT_INVALID, rank_said(logs, who.local_rank) if who.rank else ""
    if who.exitcode == EXIT_INTERRUPTED and all(e.exitcode in (EXIT_INTERRUPTED, EXIT_PEER_LOST, -2, -15)
                                                 for e in ended):
        return EXIT_INTERRUPTED, ""
    if who.rank == 0 and who.exitcode > 0 and who.exitcode != EXIT_PEER_LOST:
        return EXIT_FAILED, ""  # the run failed (diverged, a step failed): rank 0 has said why, as a plain run does
    if who.exitcode < 0:
        what = f"died: killed by {signal_name(who.exitcode)}"
    elif who.exitcode == EXIT_PEER_LOST:
        what = "lost contact with the other processes"
    else:
        what = f"failed (exit code {who.exitcode})"
    said = rank_said(logs, who.local_rank) if who.rank else ""
    tail = f": {said}" if said else ""
    return EXIT_FAILED, (f"rank {who.rank} (pid {who.pid}) {what}{tail} — the run ended; its last checkpoint is "
                         "kept: continue it with --resume RUN_DIR (any --nproc)")


def rank_said(logs: Path, local_rank: int) -> str:
    """The last ``loom:`` line a quiet rank wrote to its log file, if any."""
    for path in sorted(logs.glob(f"**/attempt_*/{local_rank}/stderr.log")):
        with contextlib.suppress(OSError):
            lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.startswith("loom:")]
            if lines:
                return lines[-1].removeprefix("loom:").strip()
    return ""
