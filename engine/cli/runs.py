"""`loom runs [--limit N] [--json]`: the runs this machine has made, newest first, from the run index."""

from __future__ import annotations

import argparse
import json

from engine.compare import report_scores

HEADLINE = ("accuracy", "val_accuracy", "val_perplexity", "loss_g", "loss")  # the first a run reports is shown


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list past runs (newest first) with their status and headline score")
    p.add_argument("--limit", type=int, default=20, help="how many runs to list (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def headline(summary: dict) -> str:
    """``node.key value`` of the most telling score in a run's node reports, or ''."""
    for key in HEADLINE:
        for node_id, report in summary.items():
            value = report.get(key) if isinstance(report, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return f"{node_id}.{key} {value:.4g}"
    return ""


def run(args: argparse.Namespace) -> int:
    import sys

    from engine.errors import UserInputError
    from engine.run_index import RunIndex

    if not 1 <= args.limit <= 1_000_000:
        raise UserInputError(f"--limit {args.limit}: use a number of runs between 1 and 1000000")
    index = RunIndex()
    runs = [r for r in index.list(limit=args.limit) if r.get("exists")]
    for warning in index.warnings:  # a damaged index was set aside and rebuilt, or cannot be read
        print(f"loom: warning: {warning}", file=sys.stderr)
    if args.json:
        keep = ("run_dir", "run_id", "workflow", "status", "device", "started", "finished", "duration_s")
        rows = [{**{k: r.get(k) for k in keep}, "scores": report_scores(r["summary"])} for r in runs]
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not runs:
        print("no runs yet — `loom run FLOW.json` makes one")
        return 0
    for r in runs:
        started = (r.get("started") or "").replace("T", " ")[:16]
        duration = f"{r['duration_s']:.0f} s" if isinstance(r.get("duration_s"), (int, float)) else "—"
        print(f"{started}  {r.get('status') or '?':9s} {duration:>7s}  {r.get('workflow') or r.get('run_id')}"
              f"  {headline(r['summary'])}\n{'':18s}{r['run_dir']}")
    return 0
