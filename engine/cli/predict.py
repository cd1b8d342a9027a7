"""`loom predict RUN INPUTS... --out preds.csv`: classify new inputs with an exported model.

Needs only the run's export folder (model card + safetensors), so it works
in a fresh process, on another machine, without the data the model was
trained on.  The model's kind of data reads the inputs: image files and
folders (searched recursively) for an image model, CSV files for a table
model, and for a text model ``.txt`` files, folders of them, CSV files (the
columns it was trained on) and texts given with ``--text`` (repeatable).
"""

from __future__ import annotations

import argparse
import csv
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="classify new inputs with a run's exported model")
    p.add_argument("run", help="a run folder with an Export step (or the export folder itself)")
    p.add_argument("inputs", nargs="*", help="what to classify: image files and folders (image models), "
                   "CSV files (table models), .txt files, folders and CSV files (text models)")
    p.add_argument("--text", action="append", default=[], metavar="TEXT",
                   help="a text to classify (text models); repeat for several")
    p.add_argument("--out", help="CSV file to write (default: print to the terminal)")
    p.add_argument("--fit", choices=("resize", "crop", "pad"), help="how to bring images to the model's size "
                   "(default: as in training)")
    p.add_argument("--batch-size", type=int, default=256, help="inputs per forward pass (default 256)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.export.load import load_export, predict
    from engine.fileio import check_output_file, write_output_text

    if not 1 <= args.batch_size <= 65536:
        raise UserInputError(f"--batch-size {args.batch_size}: use a number from 1 to 65536")
    if not args.inputs and not args.text:
        raise UserInputError("nothing to classify — give files or folders after the run, or --text \"...\"")
    out = check_output_file(args.out, "--out") if args.out else None  # refuse before the model is loaded
    model = load_export(args.run)
    rows, skipped = predict(model, args.inputs, args.batch_size, {"fit": args.fit, "texts": args.text})
    for line in skipped:
        print(f"loom: skipped {line}", file=sys.stderr)
    if not rows:
        raise UserInputError("none of the inputs could be read — see the lines above")
    fields = list(rows[0].keys())
    if out is not None:
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        write_output_text(out, buf.getvalue(), "--out")
        print(f"predicted {len(rows)} input(s) -> {out}", file=sys.stderr)
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return 0
