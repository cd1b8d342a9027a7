"""`loom generate RUN_DIR --n N --out DIR`: images from a run's trained generator.

Finds the generator card (kind ``generator`` in run.json's artifacts) that a
``train_gan`` or ``train_vae`` node saved, rebuilds the generator from its
JSON card and safetensors weights (never a pickle) and writes N PNGs, or
with ``--interpolate K`` one PNG of N latent interpolation strips of K
images each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.device import DEVICE_CHOICES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write images from a trained GAN generator or VAE decoder")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder whose workflow trained a GAN or VAE")
    p.add_argument("--n", type=int, default=16, help="how many images (with --interpolate: how many strips)")
    p.add_argument("--out", required=True, help="folder to write the PNG files to")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same images")
    p.add_argument("--interpolate", type=int, metavar="K", default=0,
                   help="write latent interpolation strips of K images instead of independent samples")
    p.add_argument("--node", help="which training node's generator, when the run has several")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="cpu", help="where to run the generator (default: cpu)")
    p.set_defaults(handler=run)


SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed takes any int64; beyond is meaningless


def find_card(run_dir: Path, node: str | None) -> Path:
    """The generator card recorded in run.json (UserInputError, in words, when there is none)."""
    from engine.errors import UserInputError
    from engine.run_files import artifact_path, read_run

    info = read_run(run_dir, ("artifacts",))
    cards = [a for a in info["artifacts"] if a["kind"] == "generator"]
    if node:
        cards = [a for a in cards if a["node"] == node]
    if not cards:
        where = f" from node '{node}'" if node else ""
        raise UserInputError(
            f"{run_dir}: no trained generator{where} in this run — run a workflow with a train_gan or train_vae step"
        )
    nodes = sorted({a["node"] for a in cards})
    if len(nodes) > 1:
        raise UserInputError(f"{run_dir}: several generators ({', '.join(nodes)}) — pick one with --node")
    return artifact_path(run_dir, cards[-1])


def check_args(args: argparse.Namespace) -> None:
    """Every number in range before anything is loaded (one line each otherwise)."""
    from engine.errors import UserInputError

    if args.n < 1 or args.n > 100000:
        raise UserInputError(f"--n {args.n}: use a number of images between 1 and 100000")
    if args.interpolate == 1 or args.interpolate < 0 or args.interpolate > 1000:
        raise UserInputError(f"--interpolate {args.interpolate}: use between 2 and 1000 images per strip")
    if args.interpolate and args.n * args.interpolate > 100000:
        raise UserInputError(f"--n {args.n} strips of --interpolate {args.interpolate} images is "
                             f"{args.n * args.interpolate} images; keep it to 100000")
    if not 0 <= args.seed <= SEED_MAX:
        raise UserInputError(f"--seed {args.seed}: use a whole number from 0 to {SEED_MAX}")


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError

    check_args(args)
    from engine.device import select_device
    from engine.fileio import describe_os_error
    from engine.generative.card import load_generator
    from engine.generative.sampling import interpolation, sample, write_images, write_strip

    run_dir, out = Path(args.run_dir), Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out}: is a file — give a folder for the images")
    card = find_card(run_dir, args.node)
    device, _ = select_device(args.device)
    trained = load_generator(card, device)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if args.interpolate:
            images = interpolation(trained, args.n, args.interpolate, args.seed)
            path = write_strip(images, args.interpolate, out / "interpolation.png")
            print(f"wrote {args.n} interpolation strip(s) of {args.interpolate} images to {path}", file=sys.stderr)
        else:
            paths = write_images(sample(trained, args.n, args.seed), out)
            print(f"wrote {len(paths)} images ({trained.spec.arch}, seed {args.seed}) to {out}", file=sys.stderr)
    except OSError as exc:
        raise UserInputError(f"--out {out}: cannot write the images there ({describe_os_error(exc)}) — pick a "
                             "writable folder") from None
    return 0
