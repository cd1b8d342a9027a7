"""`loom validate FLOW.json`: report every problem of a workflow, exit 2 if any.

It runs the same checks ``loom run`` runs before any node starts: the
workflow's text (:func:`engine.validation.validate`) and the files it names
(:func:`engine.preflight.preflight`), so a workflow that passes here does not
stop at the start of ``loom run`` for a missing folder or a broken weights file.
"""

from __future__ import annotations

import argparse
import sys

from engine.cli._options import add_set_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a workflow file and the files it names, without running it")
    p.add_argument("workflow", help="the workflow JSON file")
    add_set_option(p)
    p.set_defaults(handler=run)


def load_checked(path: str, overrides: list[str], files: bool = False):
    """Load, apply --set values and validate; raises WorkflowInvalid with every problem.

    The files are checked too (the preflight) with ``files``, or whenever the
    text has problems, so that every problem is told at once.  ``loom run``
    leaves ``files`` off: for a valid text its engine runs the preflight as
    the run starts, and checking twice would read the files twice.
    """
    from engine.preflight import preflight
    from engine.runner import WorkflowInvalid
    from engine.validation import apply_overrides, validate
    from engine.workflow import Workflow

    wf = Workflow.load(path)
    problems = apply_overrides(wf, overrides)
    refused = {(p.node_id, p.field) for p in problems}  # the file's value of a refused --set is not the user's aim
    problems += [p for p in validate(wf) if (p.node_id, p.field) not in refused]
    if files or problems:  # a node whose --set failed still holds its old value: checking that file would only confuse
        problems += preflight(wf, skip={p.node_id for p in problems})
    if problems:
        raise WorkflowInvalid(problems)
    return wf


def run(args: argparse.Namespace) -> int:
    wf = load_checked(args.workflow, args.overrides, files=True)
    print(f"{args.workflow}: valid ({len(wf.nodes)} nodes, {len(wf.links)} links; the files it names are readable)",
          file=sys.stderr)
    return 0
