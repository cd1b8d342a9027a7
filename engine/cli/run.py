"""`loom run FLOW.json`: run a workflow headless with a progress line.

Ctrl-C asks the engine to stop (it checkpoints and marks the run
``stopped``), then exits 130.  A second Ctrl-C is ignored while it saves.

``--nproc N`` (and ``--nnodes/--node-rank/--rdzv-endpoint``) start the run as N
worker processes through ``torch.distributed.run`` (see engine.distributed.launcher);
a process that torchrun started (its environment says so) runs as one rank of it
(engine.distributed.rank_run).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import TextIO

from engine import events as ev
from engine.cli._options import add_device_option, add_set_option, add_threads_option, apply_threads
from engine.names import NodeStatus, RunStatus


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a workflow headless")
    p.add_argument("workflow", help="the workflow JSON file")
    p.add_argument("--out", help="a new run folder to write (default: runs/<time>-<name>); an existing, non-empty "
                   "one is refused")
    p.add_argument("--force", action="store_true", help="with --out: move an existing folder there aside to "
                   "DIR.old-<time> (never deleted) and start fresh")
    add_device_option(p)
    add_threads_option(p)
    add_set_option(p)
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint, in its own folder "
                   "(same workflow; only epochs, time_budget, patience and how often to log, sample or "
                   "checkpoint may change)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the final line")
    p.add_argument("--no-cache", action="store_true", help="recompute every node")
    dist = p.add_argument_group("distributed training (torchrun: gloo on CPUs, NCCL on GPUs)")
    dist.add_argument("--nproc", type=int, metavar="N", help="train with N processes on this computer (one per GPU, "
                      "or CPU processes with gloo); each step then takes batch_size x N samples")
    dist.add_argument("--nnodes", type=int, default=1, metavar="M", help="machines in the run (default 1); start "
                      "the same command on each, with its own --node-rank")
    dist.add_argument("--node-rank", type=int, default=0, metavar="R", help="this machine's number, 0..M-1 "
                      "(machine 0 writes the run folder)")
    dist.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="where the machines meet: machine 0's address "
                      "and a free port (needed with --nnodes above 1)")
    dist.add_argument("--rdzv-timeout", type=float, default=300.0, metavar="SECONDS",
                      help="how long to wait for the other machines (default 300)")
    p.set_defaults(handler=run)


SIGTERM_GRACE_S = 5.0  # a distributed rank's wait between SIGTERM and a stop of its own


class ProgressPrinter:
    """Turns events into node lines and one live progress line on a terminal."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._last = 0.0
        self._lock = threading.Lock()
        self._line_open = False
        self._said: set[str] = set()  # failure messages printed once already (a node's state and its error log)

    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            if isinstance(event, ev.Progress):
                self._progress(event)
            elif self.quiet:
                return
            elif isinstance(event, ev.NodeState) and event.state not in (NodeStatus.QUEUED, NodeStatus.RUNNING):
                said = self._once(event.message) if event.state == NodeStatus.FAILED else event.message
                extra = f" — {said}" if said else ""
                self.print_line(f"  {event.node_id}: {event.state}{extra}")
            elif isinstance(event, ev.LogLine) and event.level in ("warning", "error"):
                first = event.message.splitlines()[0] if event.message else ""
                if event.level == "warning" or self._once(first):
                    self.print_line(f"  {event.level}: {first}")
            elif isinstance(event, ev.RunStarted):
                self.print_line(f"run {event.run_id} -> {event.run_dir} on {event.device}")

    def _once(self, message: str) -> str:
        """``message`` the first time a failure says it, '' after (the node's state and its error log say the same)."""
        key = message.splitlines()[0].strip() if message else ""
        if not key or key in self._said:
            return ""
        self._said.add(key)
        return message

    def _progress(self, e: ev.Progress) -> None:
        now = time.monotonic()
        if self.quiet or (now - self._last < (0.1 if self.tty else 5.0) and e.fraction < 1):
            return
        self._last = now
        width = 24
        filled = int(e.fraction * width)
        bar = "#" * filled + "-" * (width - filled)
        parts = [f"{e.node_id} [{bar}] {e.fraction * 100:5.1f}%"]
        if e.total_epochs:
            parts.append(f"epoch {e.epoch}/{e.total_epochs}")
        if e.total_steps:
            parts.append(f"step {e.step}/{e.total_steps}")
        if e.samples_per_s:
            parts.append(f"{e.samples_per_s:,.0f} samples/s")
        if e.eta_s is not None:
            parts.append(f"ETA {e.eta_s:,.0f}s")
        text = "  ".join(parts)
        if self.tty:
            self.stream.write("\r" + text.ljust(100))
            self._line_open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def print_line(self, text: str) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from engine.distributed.world import from_env

    world = from_env()
    if world is not None:  # started by torchrun (or by `loom run --nproc`): one rank of a distributed run
        from engine.distributed.rank_run import run_rank

        return run_rank(args, world)
    if args.nproc is not None or args.nnodes != 1 or args.rdzv_endpoint:
        from engine.distributed.launcher import launch

        return launch(args)
    return run_here(args)


def run_here(args: argparse.Namespace) -> int:
    """Run the workflow in this process and wait for it."""
    from engine.cli.validate import load_checked
    from engine.run_index import RunIndex
    from engine.runner import Engine

    wf = load_checked(args.workflow, args.overrides)
    apply_threads(args)
    printer = ProgressPrinter(sys.stderr, args.quiet)
    engine = Engine(index=RunIndex(), disk_cache=not args.no_cache)
    handle = engine.start(wf, out_dir=args.out, device=args.device, on_event=printer, resume_from=args.resume,
                          force=args.force)
    code = wait_for(args, handle, printer)
    args.skip_teardown = True  # the run has ended and is on disk: the process may leave without unloading torch
    return code


def wait_for(args: argparse.Namespace, handle, printer: ProgressPrinter | None) -> int:  # noqa: ANN001
    """Wait for the run (Ctrl-C and SIGTERM stop it, keeping a checkpoint); the exit code of its result."""
    from engine.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK

    args.handle = handle  # for the CLI's last line of defence; a rank > 0's scratch log.txt is removed at its end,
    args.log_file = handle.run_dir / "log.txt" if printer is not None else None  # so its crash goes to LOOM_HOME
    if handle.moved_aside is not None:
        print(f"loom: moved the earlier {args.out} aside to {handle.moved_aside}", file=sys.stderr)
    for change in handle.changes:
        print(f"loom: resuming with a changed setting: {change}", file=sys.stderr)

    interrupted = threading.Event()

    def on_sigint(signum, frame):  # noqa: ANN001
        if not interrupted.is_set():
            interrupted.set()
            print("\nloom: stopping — saving a checkpoint (Ctrl-C again is ignored)", file=sys.stderr)
            handle.stop()

    def on_sigterm(signum, frame):  # noqa: ANN001
        """A distributed rank: the launcher sends SIGTERM when another rank died, and this rank's next
        collective fails at once (the run is recorded as failed); only a rank still running after a
        grace period stops, keeping a checkpoint (a SIGTERM sent to this process alone)."""
        timer = threading.Timer(SIGTERM_GRACE_S, handle.stop, kwargs={"reason": "stopped: this process was ended"})
        timer.daemon = True
        timer.start()

    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_term = signal.signal(signal.SIGTERM, on_sigterm) if getattr(args, "stop_on_sigterm", False) else None
    try:
        while handle.wait(0.2) is None:
            pass
    finally:
        signal.signal(signal.SIGINT, previous)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
    result = handle.result
    assert result is not None
    if printer is None:  # a distributed rank other than 0: rank 0 speaks for the run
        if result.status == RunStatus.STOPPED:
            return EXIT_INTERRUPTED
        if result.status != RunStatus.SUCCEEDED and result.message:  # its own failure: the launcher shows this line
            print(f"loom: {' '.join(result.message.split())}", file=sys.stderr)
        return EXIT_OK if result.status == RunStatus.SUCCEEDED else (
            EXIT_INVALID if result.input_error else EXIT_FAILED)
    printer.print_line(f"{result.status}: {result.run_dir}" + (f" — {result.message}" if result.message else ""))
    for warning in result.warnings:
        print(f"loom: warning: {warning}", file=sys.stderr)
    if result.record_error:  # the folder does not show how the run ended: say so, and never exit 0
        print(f"loom: {result.record_error}", file=sys.stderr)
    if interrupted.is_set() or result.status == RunStatus.STOPPED:
        return EXIT_INTERRUPTED
    if result.status == RunStatus.SUCCEEDED and not result.record_error:
        return EXIT_OK
    return EXIT_INVALID if result.input_error else EXIT_FAILED
