"""`loom export RUN_DIR --out DIR [--format ...]`: a finished run's classifier as files, without running anything.

Rebuilds the classifier the run trained (from its Export step's folder, else
the card its train step left in ``<train node>/model/``) and writes the
weights, the model card and, as asked, TorchScript and ONNX into a new or
empty folder.  No training, no new run in the index; the run folder is only
read.  Bad input is one ``loom: ...`` line and exit 2.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    from engine.export.from_run import OPTIONAL_FILES, WEIGHTS_FORMAT

    names = ", ".join((WEIGHTS_FORMAT, *OPTIONAL_FILES))
    p = sub.add_parser("export", help="write a finished run's trained classifier as files (no retraining)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder whose workflow trained a classifier")
    p.add_argument("--out", required=True, help="a new or empty folder for the files (never written over)")
    p.add_argument("--format", action="append", dest="formats", metavar="FORMAT",
                   help=f"what to write, repeatable or comma-separated: {names} (default: all; the weights and "
                   "the model card are always written)")
    p.add_argument("--node", help="which trained model, when the run has several")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from engine.export.from_run import check_destination, check_formats, export_run

    formats = None
    if args.formats:
        formats = [f for item in args.formats for f in item.split(",") if f.strip()]
    check_formats(formats)  # refuse a misspelt format and an occupied folder before the model is loaded
    check_destination(args.out)

    def say(message: str, level: str) -> None:
        if level in ("warning", "error"):
            print(f"loom: {level}: {message}", file=sys.stderr)

    files = export_run(args.run_dir, args.out, formats, args.node, log=say)
    print(f"exported {len(files)} file(s) to {files[0].parent}: {', '.join(f.name for f in files)}", file=sys.stderr)
    return 0
