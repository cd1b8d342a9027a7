"""`loom queue`: the run queue from a terminal (the same queue as the app's Queue panel, in the run index).

``loom queue add FLOW.json [--set ...] [--label L] [--device D]`` lines a
workflow up (validated now, kept as data); ``loom queue`` lists the entries;
``loom queue run`` runs them one after another until none is left to run
(exit 0 when every one succeeded, 1 when one failed, 130 on Ctrl-C: the
current run stops at a checkpoint and resumes on the next ``loom queue run``);
``pause|continue|cancel|remove ID`` and ``hold|start`` steer it.
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.cli._options import add_device_option, add_set_option, add_threads_option, apply_threads

ACTIONS = ("list", "add", "run", "pause", "continue", "cancel", "remove", "hold", "start")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queue", help="line workflows up and run them one after another (the app's Queue panel)")
    p.add_argument("action", nargs="?", default="list", choices=ACTIONS, help="what to do (default: list)")
    p.add_argument("target", nargs="?", help="add: the workflow JSON file; pause/continue/cancel/remove: entry id")
    p.add_argument("--label", default="", help="add: the entry's name in the list (default: the workflow's name)")
    add_device_option(p, "add: where to train")
    add_threads_option(p)
    add_set_option(p, "add: override a parameter, e.g. --set train.lr=0.01")
    p.add_argument("--json", action="store_true", help="list: machine-readable output")
    p.add_argument("--quiet", "-q", action="store_true", help="run: print only one line per entry")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.queue import QueueState, RunQueue

    queue = RunQueue()
    try:
        if args.action == "list":
            return _list(queue, args.json)
        if args.action == "add":
            return _add(queue, args)
        if args.action == "run":
            apply_threads(args)
            return _run(queue, args.quiet)
        if args.action in ("hold", "start"):
            ok = queue.set_paused(args.action == "hold")
            return _said(queue, ok, "queue held: nothing new starts" if args.action == "hold" else "queue goes on")
        entry_id = _entry_id(args.target, args.action)
        if queue.get(entry_id) is None:
            raise UserInputError(f"queue entry {entry_id}: no such entry — `loom queue` lists them")
        if args.action == "cancel":
            state = queue.cancel(entry_id)
            text = ("its runner stops it" if state == QueueState.RUNNING else "cancelled") if state else "already ended"
            return _said(queue, state is not None, f"#{entry_id}: {text}")
        op, done = {"pause": (queue.pause, "paused"), "continue": (_continue(queue), "lined up again"),
                    "remove": (queue.remove, "removed (its run folder stays)")}[args.action]
        return _said(queue, op(entry_id), f"#{entry_id}: {done}")
    finally:
        for warning in queue.warnings:
            print(f"loom: warning: {warning}", file=sys.stderr)


def _entry_id(target: str | None, action: str) -> int:
    from engine.errors import UserInputError

    if target is None or not target.lstrip("#").isdigit():
        raise UserInputError(f"loom queue {action}: give the entry's id (`loom queue` lists them), e.g. "
                             f"`loom queue {action} 3`")
    return int(target.lstrip("#"))


def _continue(queue):  # noqa: ANN001, ANN202 - RunQueue -> (int) -> bool
    """Continue a paused entry, or line up a failed or cancelled one again."""
    return lambda entry_id: queue.unpause(entry_id) or queue.retry(entry_id)


def _said(queue, ok: bool, text: str) -> int:  # noqa: ANN001 - RunQueue
    if ok:
        print(text)
        return 0
    print("loom: nothing changed — the entry is not in a state where that applies (`loom queue` shows it)",
          file=sys.stderr)
    return 1


def _list(queue, as_json: bool) -> int:  # noqa: ANN001 - RunQueue
    entries = queue.list()
    if as_json:
        keep = ("id", "label", "device", "state", "run_dir", "added", "started", "finished", "message")
        print(json.dumps([{k: str(getattr(e, k)) if k == "state" else getattr(e, k) for k in keep} for e in entries],
                         indent=2))
        return 0
    if not entries:
        print("nothing queued — `loom queue add FLOW.json` lines a workflow up")
        return 0
    if queue.paused:
        print("(held: nothing new starts until `loom queue start`)")
    for e in entries:
        state = "queued (resumes)" if e.resumes else str(e.state)
        print(f"#{e.id:<4d} {state:17s} {e.device:6s} {e.label}")
        for line in (e.message, e.run_dir or ""):
            if line:
                print(f"{'':6s}{line}")
    return 0


def _add(queue, args: argparse.Namespace) -> int:  # noqa: ANN001 - RunQueue
    from engine.cli.validate import load_checked
    from engine.errors import UserInputError

    if not args.target:
        raise UserInputError("loom queue add: give the workflow JSON file, e.g. `loom queue add flow.json`")
    workflow = load_checked(args.target, args.overrides, files=True)
    entry = queue.add(workflow, args.label, args.device)
    if entry is None:
        return 1  # the warning says why (a locked or unwritable index)
    print(f"queued #{entry.id} {entry.label} (device {entry.device})")
    return 0


def _run(queue, quiet: bool) -> int:  # noqa: ANN001 - RunQueue
    from engine.cli.run import ProgressPrinter
    from engine.queue import QueueRunner
    from engine.run_index import RunIndex
    from engine.runner import Engine

    printer = ProgressPrinter(sys.stdout, quiet=quiet)
    runner = QueueRunner(queue, Engine(index=RunIndex()), on_event=printer)
    failed = 0
    try:
        while (result := runner.run_next()) is not None:
            failed += result.status != "succeeded"
            print(f"queue: {result.run_dir}: {result.status}" + (f" — {result.message}" if result.message else ""))
    except KeyboardInterrupt:
        print("loom: interrupted — the current entry resumes from its checkpoint on the next `loom queue run`",
              file=sys.stderr)
        return 130
    finally:
        runner.close()
    left = queue.list(ended=False)
    if left:
        print(f"queue: {len(left)} entr{'y' if len(left) == 1 else 'ies'} not run (paused, held or on a busy device)")
    return 1 if failed else 0
