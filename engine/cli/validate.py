"""`loom validate FLOW.json`: report every problem of a workflow, exit 2 if any."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a workflow file without running it")
    p.add_argument("workflow", help="the workflow JSON file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE")
    p.set_defaults(handler=run)


def load_checked(path: str, overrides: list[str]):
    """Load, apply --set values and validate; raises WorkflowInvalid with every problem."""
    from engine.runner import WorkflowInvalid
    from engine.validation import apply_overrides, validate
    from engine.workflow import Workflow

    wf = Workflow.load(path)
    problems = apply_overrides(wf, overrides) + validate(wf)
    if problems:
        raise WorkflowInvalid(problems)
    return wf


def run(args: argparse.Namespace) -> int:
    wf = load_checked(args.workflow, args.overrides)
    print(f"{args.workflow}: valid ({len(wf.nodes)} nodes, {len(wf.links)} links)", file=sys.stderr)
    return 0
