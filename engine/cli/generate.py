"""`loom generate RUN_DIR ...`: images from a run's trained generator, or text from its language model.

Images: finds the generator card (kind ``generator`` in run.json's
artifacts) that a ``train_gan`` or ``train_vae`` node saved, rebuilds the
generator from its JSON card and safetensors weights (never a pickle) and
writes N PNGs to ``--out``, or with ``--interpolate K`` one PNG of N latent
interpolation strips of K images each.  ``--class K`` (a class name or
index) makes a class-conditional generator draw only class K; without it
such a generator draws every class in turn.

Text (``--prompt``): finds the language model card (kind ``language_model``)
a ``train_lm`` node saved, rebuilds the model and its tokenizer and writes N
continuations of the prompt to stdout, or to the file ``--out``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from engine.device import DEVICE_CHOICES
from engine.generative.more import SEED_MAX

DEFAULT_IMAGES, DEFAULT_TEXTS, DEFAULT_MAX_TOKENS = 16, 5, 200
TEXT_OPTIONS = (("max_tokens", "--max-tokens"), ("temperature", "--temperature"), ("top_k", "--top-k"))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="write images from a trained GAN or VAE, or text from a language model")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder whose workflow trained a GAN, a VAE or a "
                   "language model")
    p.add_argument("--n", type=int, default=None, help=f"how many images (default {DEFAULT_IMAGES}; with "
                   f"--interpolate: how many strips) or texts (default {DEFAULT_TEXTS})")
    p.add_argument("--out", help="images: the folder to write the PNG files to (required); text: a file to write "
                   "the texts to (default: print them)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same images or texts")
    p.add_argument("--interpolate", type=int, metavar="K", default=0,
                   help="write latent interpolation strips of K images instead of independent samples")
    p.add_argument("--class", dest="class_label", metavar="K", default=None,
                   help="for a class-conditional generator: draw only class K (its name or its index from 0)")
    p.add_argument("--prompt", help="write text with the run's language model, continuing this text")
    p.add_argument("--max-tokens", type=int, default=None, dest="max_tokens",
                   help=f"with --prompt: tokens written per text at most (default {DEFAULT_MAX_TOKENS})")
    p.add_argument("--temperature", type=float, default=None,
                   help="with --prompt: below 1 safer, above 1 wilder, 0 = always the most likely token "
                   "(default: the training step's)")
    p.add_argument("--top-k", type=int, default=None, dest="top_k",
                   help="with --prompt: draw each token from the K most likely only, 0 = all (default: the "
                   "training step's)")
    p.add_argument("--node", help="which training node's model, when the run has several")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="cpu", help="where to run the model (default: cpu)")
    p.set_defaults(handler=run)


def check_args(args: argparse.Namespace) -> None:
    """Every number in range and every option in its place before anything is loaded (one line each otherwise)."""
    from engine.errors import UserInputError

    if not 0 <= args.seed <= SEED_MAX:
        raise UserInputError(f"--seed {args.seed}: use a whole number from 0 to {SEED_MAX}")
    if args.prompt is not None:
        if args.class_label is not None:
            raise UserInputError("--class is for images from a class-conditional generator; with --prompt the model "
                                 "writes text")
        check_text_args(args)
        return
    if args.class_label is not None and not str(args.class_label).strip():
        raise UserInputError("--class is empty: give a class name or index, e.g. --class 7")
    given = [option for name, option in TEXT_OPTIONS if getattr(args, name) is not None]
    if given:
        raise UserInputError(f"{given[0]} is for writing text: add --prompt \"...\" to continue a text with the run's "
                             "language model")
    n = DEFAULT_IMAGES if args.n is None else args.n
    if n < 1 or n > 100000:
        raise UserInputError(f"--n {n}: use a number of images between 1 and 100000")
    if args.interpolate == 1 or args.interpolate < 0 or args.interpolate > 1000:
        raise UserInputError(f"--interpolate {args.interpolate}: use between 2 and 1000 images per strip")
    if args.interpolate and n * args.interpolate > 100000:
        raise UserInputError(f"--n {n} strips of --interpolate {args.interpolate} images is "
                             f"{n * args.interpolate} images; keep it to 100000")
    if args.out is None:
        raise UserInputError("--out is missing: give a folder for the images, e.g. --out samples")


def within_step_limits(option: str, value: float | None, name: str) -> None:
    """``--option`` takes what the ``generate_text`` step's param of that name takes: one declaration, one range."""
    from engine.errors import UserInputError
    from engine.steps.registry import get_step

    param = get_step("generate_text").param(name)
    if value is None or param is None:
        return
    low, high = param.minimum, param.maximum
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise UserInputError(f"{option} {value}: use a number {param.describe_range()} ({param.help.rstrip('.')})")


def check_text_args(args: argparse.Namespace) -> None:
    from engine.errors import UserInputError

    if not args.prompt.strip():
        raise UserInputError("--prompt is empty: give the text to continue, e.g. --prompt \"The\"")
    if args.interpolate:
        raise UserInputError("--interpolate is for images; with --prompt the model writes text")
    n = DEFAULT_TEXTS if args.n is None else args.n
    for option, value, name in (("--n", n, "n"), ("--max-tokens", args.max_tokens, "max_tokens"),
                                ("--temperature", args.temperature, "temperature"), ("--top-k", args.top_k, "top_k")):
        within_step_limits(option, value, name)
    if args.out is not None:
        from engine.fileio import check_output_file

        check_output_file(args.out, "--out")


def run(args: argparse.Namespace) -> int:
    check_args(args)
    if args.prompt is not None:
        return write_text(args)
    return write_pictures(args)


def write_text(args: argparse.Namespace) -> int:
    from engine.device import select_device
    from engine.fileio import write_output_text
    from engine.generative.more import generate_texts
    from engine.lm.sampling import join_samples

    device, _ = select_device(args.device)
    n = DEFAULT_TEXTS if args.n is None else args.n
    texts, unseen = generate_texts(args.run_dir, args.prompt, n, args.max_tokens or DEFAULT_MAX_TOKENS, args.seed,
                                   args.temperature, args.top_k, args.node, device)
    if unseen:
        print(f"loom: warning: {unseen}", file=sys.stderr)
    text = join_samples(texts)
    if args.out is None:
        print(text)
    else:
        out = Path(args.out).expanduser()
        write_output_text(out, text + "\n", "--out")
        print(f"wrote {n} text(s) (seed {args.seed}) to {out}", file=sys.stderr)
    return 0


def write_pictures(args: argparse.Namespace) -> int:
    from engine.device import select_device
    from engine.generative.more import generate_images, generate_interpolation

    n = DEFAULT_IMAGES if args.n is None else args.n
    device, _ = select_device(args.device)
    if args.interpolate:
        path = generate_interpolation(args.run_dir, n, args.interpolate, args.out, args.seed, args.node, device,
                                      class_label=args.class_label)
        print(f"wrote {n} interpolation strip(s) of {args.interpolate} images to {path}", file=sys.stderr)
    else:
        paths = generate_images(args.run_dir, n, args.out, args.seed, class_label=args.class_label, node=args.node,
                                device=device)
        of_class = f" of class {args.class_label}" if args.class_label is not None else ""
        print(f"wrote {len(paths)} images{of_class} (seed {args.seed}) to {Path(args.out)}", file=sys.stderr)
    return 0
