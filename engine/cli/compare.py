"""`loom compare RUN RUN [...]`: the settings that differ and the scores, side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare runs: the settings that differ, and the scores")
    p.add_argument("runs", nargs="+", metavar="RUN", help="two or more run folders")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV (one column per run)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from engine.compare import Comparison
    from engine.fileio import atomic_write_text

    comparison = Comparison.of(args.runs)
    print(comparison.to_text())
    if args.csv:
        atomic_write_text(Path(args.csv), comparison.to_csv())
        print(f"wrote {args.csv}", file=sys.stderr)
    return 0
