"""`loom compare RUN RUN [...]`: the settings that differ and the scores, side by side."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare runs: the settings that differ, and the scores")
    p.add_argument("runs", nargs="+", metavar="RUN", help="two or more run folders")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV (one column per run)")
    p.add_argument("--group-seeds", action="store_true",
                   help="one column per group of runs whose settings differ only by seed: n, mean ± std of each score")
    p.add_argument("--baseline", metavar="RUN",
                   help="one of the runs (folder or name): the others' scores show their difference from it")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from engine.compare import Comparison
    from engine.fileio import check_output_file, write_output_text

    csv_path = check_output_file(args.csv, "--csv") if args.csv else None  # refuse before any work
    comparison = Comparison.of(args.runs)
    baseline = comparison.baseline_index(args.baseline) if args.baseline else None
    print(comparison.group_text(baseline) if args.group_seeds else comparison.to_text(baseline))
    if csv_path is not None:
        write_output_text(csv_path, comparison.to_csv(group_seeds=args.group_seeds), "--csv")
        print(f"wrote {csv_path}", file=sys.stderr)
    return 0
