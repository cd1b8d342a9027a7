"""`loom generate RUN_DIR ...`: images from a run's trained generator, or text from its language model.

Images: finds the generator card (kind ``generator`` in run.json's
artifacts) that a ``train_gan`` or ``train_vae`` node saved, rebuilds the
generator from its JSON card and safetensors weights (never a pickle) and
writes N PNGs to ``--out``, or with ``--interpolate K`` one PNG of N latent
interpolation strips of K images each.

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

SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed takes any int64; beyond is meaningless
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


def find_artifact(run_dir: Path, node: str | None, kind: str) -> Path | None:
    """The card of ``kind`` recorded in run.json (None when the run has none; UserInputError when several)."""
    from engine.errors import UserInputError
    from engine.run_files import artifact_path, read_run

    info = read_run(run_dir, ("artifacts",))
    cards = [a for a in info["artifacts"] if a["kind"] == kind and (not node or a["node"] == node)]
    if not cards:
        return None
    nodes = sorted({a["node"] for a in cards})
    if len(nodes) > 1:
        raise UserInputError(f"{run_dir}: several trained models ({', '.join(nodes)}) — pick one with --node")
    return artifact_path(run_dir, cards[-1])


def find_card(run_dir: Path, node: str | None) -> Path:
    """The generator card recorded in run.json (UserInputError, in words, when there is none)."""
    from engine.errors import UserInputError

    card = find_artifact(run_dir, node, "generator")
    if card is None:
        where = f" from node '{node}'" if node else ""
        if find_artifact(run_dir, node, "language_model") is not None:
            raise UserInputError(f"{run_dir}: this run trained a language model{where}, not an image generator — "
                                 "give the text to continue with --prompt \"...\"")
        raise UserInputError(
            f"{run_dir}: no trained generator{where} in this run — run a workflow with a train_gan or train_vae step"
        )
    return card


def find_language_model(run_dir: Path, node: str | None) -> Path:
    """The language model card recorded in run.json (UserInputError, in words, when there is none)."""
    from engine.errors import UserInputError

    card = find_artifact(run_dir, node, "language_model")
    if card is None:
        where = f" from node '{node}'" if node else ""
        also = " (it trained an image generator: drop --prompt to write images)" \
            if find_artifact(run_dir, node, "generator") is not None else ""
        raise UserInputError(f"{run_dir}: no trained language model{where} in this run{also} — --prompt needs a run "
                             "of a workflow with a train_lm step")
    return card


def check_args(args: argparse.Namespace) -> None:
    """Every number in range and every option in its place before anything is loaded (one line each otherwise)."""
    from engine.errors import UserInputError

    if not 0 <= args.seed <= SEED_MAX:
        raise UserInputError(f"--seed {args.seed}: use a whole number from 0 to {SEED_MAX}")
    if args.prompt is not None:
        check_text_args(args)
        return
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
    from engine.lm.card import load_language_model
    from engine.lm.sampling import join_samples

    card = find_language_model(Path(args.run_dir), args.node)
    device, _ = select_device(args.device)
    trained = load_language_model(card, device)
    unseen = trained.unseen_in(args.prompt)
    if unseen:
        print(f"loom: warning: {unseen}", file=sys.stderr)
    n = DEFAULT_TEXTS if args.n is None else args.n
    texts = trained.write(args.prompt, n, args.max_tokens or DEFAULT_MAX_TOKENS, args.temperature, args.top_k,
                          args.seed)
    text = join_samples(texts)
    if args.out is None:
        print(text)
    else:
        out = Path(args.out).expanduser()
        write_output_text(out, text + "\n", "--out")
        print(f"wrote {n} text(s) ({trained.arch}, seed {args.seed}) to {out}", file=sys.stderr)
    return 0


def write_pictures(args: argparse.Namespace) -> int:
    from engine.device import select_device
    from engine.errors import UserInputError
    from engine.fileio import describe_os_error
    from engine.generative.card import load_generator
    from engine.generative.sampling import interpolation, sample, write_images, write_strip

    run_dir, out = Path(args.run_dir), Path(args.out)
    n = DEFAULT_IMAGES if args.n is None else args.n
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out}: is a file — give a folder for the images")
    card = find_card(run_dir, args.node)
    device, _ = select_device(args.device)
    trained = load_generator(card, device)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if args.interpolate:
            images = interpolation(trained, n, args.interpolate, args.seed)
            path = write_strip(images, args.interpolate, out / "interpolation.png")
            print(f"wrote {n} interpolation strip(s) of {args.interpolate} images to {path}", file=sys.stderr)
        else:
            paths = write_images(sample(trained, n, args.seed), out)
            print(f"wrote {len(paths)} images ({trained.spec.arch}, seed {args.seed}) to {out}", file=sys.stderr)
    except OSError as exc:
        raise UserInputError(f"--out {out}: cannot write the images there ({describe_os_error(exc)}) — pick a "
                             "writable folder") from None
    return 0
