"""`loom find-lr FLOW.json`: the learning-rate range test of a train step, and the rate it suggests.

It prints the suggestion and the ``loom run`` command that applies it; it
changes no file (the workflow is left as it is, no run folder is made) and
writes the curve only to ``--out``.  Only the nodes that feed the train
step run, through the node cache, so a second call starts at once.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from engine.cli._options import add_device_option, add_set_option, add_threads_option, apply_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("find-lr", help="suggest a learning rate for a train step (a range test; nothing is changed)")
    p.add_argument("workflow", help="the workflow JSON file")
    p.add_argument("--node", help="the train step to test (default: the workflow's train step)")
    add_set_option(p, "override a parameter first, e.g. --set train.batch_size=128")
    add_device_option(p)
    add_threads_option(p)
    p.add_argument("--out", metavar="CSV", help="write the curve (step, lr, loss, smoothed_loss) to this file")
    p.add_argument("--start-lr", type=float, default=1e-7, help="the first learning rate tried (default: 1e-7)")
    p.add_argument("--end-lr", type=float, default=10.0, help="the last learning rate tried (default: 10)")
    p.add_argument("--steps", type=int, default=100, help="batches, one per rate (default: 100)")
    p.add_argument("--no-cache", action="store_true", help="recompute the data instead of reusing the node cache")
    p.set_defaults(handler=run)


class _Progress:
    """A live line on a terminal; nothing when stderr is a file or a pipe."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if self.tty and (now - self.last > 0.1 or fraction >= 1.0):
            self.last = now
            sys.stderr.write(f"\rloom: range test {fraction * 100:5.1f}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty and self.last:
            sys.stderr.write("\r" + " " * 40 + "\r")
            sys.stderr.flush()


def _warnings(event: object) -> None:
    from engine import events as ev

    if isinstance(event, ev.LogLine) and event.level == "warning":
        first = event.message.splitlines()[0] if event.message else ""
        print(f"loom: warning: {event.node_id}: {first}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from engine.cache import NodeCache, default_cache_dir
    from engine.fileio import check_output_file, write_output_text
    from engine.lr_finder import find_lr
    from engine.refusal import WorkflowInvalid
    from engine.validation import apply_overrides
    from engine.workflow import Workflow

    out = check_output_file(args.out, "--out") if args.out else None
    wf = Workflow.load(args.workflow)
    problems = apply_overrides(wf, args.overrides)
    if problems:
        raise WorkflowInvalid(problems)
    apply_threads(args)
    cache = NodeCache(disk_dir=None if args.no_cache else default_cache_dir())
    progress = _Progress()
    try:
        result = find_lr(wf, args.node, device=args.device, start_lr=args.start_lr, end_lr=args.end_lr,
                         steps=args.steps, cache=cache, on_event=_warnings, on_progress=progress)
    finally:
        progress.close()
    print(result.describe())
    kept = [s for s in args.overrides if not s.strip().startswith(f"{result.key}=")]
    command = ["loom", "run", args.workflow, *[a for s in kept for a in ("--set", s)], "--set", result.set_arg]
    print("apply it: " + shlex.join(command))
    if out is not None:
        write_output_text(out, result.to_csv(), "--out")
        print(f"curve: {out}")
    return 0
