"""`loom predict RUN IMAGES_OR_FOLDERS... --out preds.csv`: classify new images with an exported model.

Needs only the run's export folder (model card + safetensors), so it works
in a fresh process, on another machine, without the data the model was
trained on.  Folders are searched recursively for image files.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="classify images with a run's exported model")
    p.add_argument("run", help="a run folder with an Export step (or the export folder itself)")
    p.add_argument("inputs", nargs="+", help="image files and/or folders of images")
    p.add_argument("--out", help="CSV file to write (default: print to the terminal)")
    p.add_argument("--fit", choices=("resize", "crop", "pad"), help="how to bring images to the model's size "
                   "(default: as in training)")
    p.add_argument("--batch-size", type=int, default=256, help="images per forward pass (default 256)")
    p.set_defaults(handler=run)


def collect_files(inputs: list[str]) -> list[Path]:
    from engine.data.images import IMAGE_SUFFIXES
    from engine.errors import UserInputError

    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise UserInputError(f"{path}: the folder holds no image files ({', '.join(IMAGE_SUFFIXES)})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UserInputError(f"{path}: no such file or folder")
    return files


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.export.load import load_export, predict_files
    from engine.fileio import check_output_file, write_output_text

    if not 1 <= args.batch_size <= 65536:
        raise UserInputError(f"--batch-size {args.batch_size}: use a number from 1 to 65536")
    out = check_output_file(args.out, "--out") if args.out else None  # refuse before the model is loaded
    model = load_export(args.run)
    files = collect_files(args.inputs)
    rows, skipped = predict_files(model, files, args.batch_size, args.fit)
    for line in skipped:
        print(f"loom: skipped {line}", file=sys.stderr)
    if not rows:
        raise UserInputError("none of the inputs is a readable image")
    fields = list(rows[0].keys())
    if out is not None:
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        write_output_text(out, buf.getvalue(), "--out")
        print(f"predicted {len(rows)} image(s) -> {out}", file=sys.stderr)
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return 0
