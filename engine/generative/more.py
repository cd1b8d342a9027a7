"""More images (or texts) from a finished run's trained model, without running its workflow again.

The training step left its model in the run folder as a card plus
safetensors weights (``generator.json`` for a GAN or VAE,
``language_model.json`` for a language model, recorded in run.json's
artifacts).  These functions rebuild it from those files (never a pickle)
and sample from it: ``loom generate`` and the app's *Generate more* dialog
both call them, so the same seed gives the same pictures everywhere.

Nothing here touches the run index or the run's own files: new images go to
a folder that did not exist before (by default ``RUN/more/001``,
``RUN/more/002``, ...), so an earlier batch is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import UserInputError

SEED_MAX = 2**63 - 1  # torch.Generator.manual_seed takes any int64; beyond is meaningless
MAX_IMAGES = 100_000
MORE_FOLDER = "more"


@dataclass(frozen=True)
class GeneratorInfo:
    """What a run can make, for a dialog to ask the right questions before loading anything heavy."""

    kind: str  # "images" | "text"
    card: Path
    node: str
    classes: tuple[str, ...] = ()  # a conditional generator's classes (empty: draws no chosen class)
    sampling: dict[str, Any] | None = None  # a language model's defaults (temperature, top_k)
    prompt: str = ""  # the prompt the run's own generate_text step continued, to start from


def find_artifact(run_dir: Path, node: str | None, kind: str) -> Path | None:
    """The card of ``kind`` recorded in run.json (None when the run has none; UserInputError when several)."""
    from engine.run_files import artifact_path, read_run

    info = read_run(Path(run_dir), ("artifacts",))
    cards = [a for a in info["artifacts"] if a["kind"] == kind and (not node or a["node"] == node)]
    if not cards:
        return None
    nodes = sorted({a["node"] for a in cards})
    if len(nodes) > 1:
        raise UserInputError(f"{run_dir}: several trained models ({', '.join(nodes)}) — pick one with --node")
    return artifact_path(Path(run_dir), cards[-1])


def find_generator(run_dir: Path, node: str | None = None) -> Path:
    """The generator card recorded in run.json (UserInputError, in words, when there is none)."""
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


def find_language_model(run_dir: Path, node: str | None = None) -> Path:
    """The language model card recorded in run.json (UserInputError, in words, when there is none)."""
    card = find_artifact(run_dir, node, "language_model")
    if card is None:
        where = f" from node '{node}'" if node else ""
        also = " (it trained an image generator: drop --prompt to write images)" \
            if find_artifact(run_dir, node, "generator") is not None else ""
        raise UserInputError(f"{run_dir}: no trained language model{where} in this run{also} — --prompt needs a run "
                             "of a workflow with a train_lm step")
    return card


def generator_info(run_dir: str | Path, node: str | None = None) -> GeneratorInfo:
    """What ``run_dir``'s trained model makes (images or text), read from run.json and the card only."""
    from engine.fileio import read_json

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserInputError(f"{run_dir}: no such run folder")
    for kind, artifact in (("images", "generator"), ("text", "language_model")):
        card = find_artifact(run_dir, node, artifact)
        if card is None:
            continue
        data = read_json(card, f"the {artifact.replace('_', ' ')} card is damaged; train the model again")
        classes = data.get("classes") or []
        if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
            raise UserInputError(f"{card}: \"classes\" is not a list of class names — the card is damaged")
        sampling = data.get("sampling") if isinstance(data.get("sampling"), dict) else None
        prompt = _workflow_prompt(run_dir) if kind == "text" else ""
        return GeneratorInfo(kind, card, card.parent.name, tuple(classes), sampling, prompt)
    find_generator(run_dir, node)  # raises the message that says what this run trained instead
    raise AssertionError("unreachable")


def _workflow_prompt(run_dir: Path) -> str:
    """The prompt of the run's generate_text step ('' when there is none or workflow.json cannot be read)."""
    from engine.fileio import read_json
    from engine.run_files import WORKFLOW_JSON

    try:
        nodes = read_json(run_dir / WORKFLOW_JSON).get("nodes")
    except UserInputError:
        return ""
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and node.get("type") == "generate_text":
            prompt = (node.get("params") or {}).get("prompt")
            if isinstance(prompt, str):
                return prompt
    return ""


def new_output_folder(run_dir: str | Path) -> Path:
    """A folder that did not exist before: ``RUN/more/001``, ``002``, ... (created here, so two callers never share)."""
    base = Path(run_dir) / MORE_FOLDER
    base.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name) for p in base.iterdir() if p.name.isdigit()]
    number = max(taken, default=0) + 1
    while True:
        folder = base / f"{number:03d}"
        try:
            folder.mkdir()
        except FileExistsError:
            number += 1
            continue
        return folder


def check_count(n: int, what: str = "images") -> None:
    if not 1 <= n <= MAX_IMAGES:
        raise UserInputError(f"{n} {what}: ask for between 1 and {MAX_IMAGES}")


def check_seed(seed: int) -> None:
    if not 0 <= seed <= SEED_MAX:
        raise UserInputError(f"seed {seed}: use a whole number from 0 to {SEED_MAX}")


def generate_images(run_dir: str | Path, n: int, out_dir: str | Path | None = None, seed: int = 0,
                    class_label: str | int | None = None, node: str | None = None, device: str = "cpu") -> list[Path]:
    """``n`` PNGs from the run's trained generator in ``out_dir`` (default: a new ``RUN/more/NNN`` folder).

    ``out_dir`` may exist but must hold no PNG of the names written
    (``sample_0000.png``...): earlier pictures are never replaced.
    ``class_label`` picks the class of a conditional generator (its card
    lists ``classes``): a class name or its index; for any other generator
    it is refused.  Without it a conditional generator draws every class in
    turn.
    """
    from engine.fileio import describe_os_error
    from engine.generative.card import load_generator
    from engine.generative.sampling import write_images

    check_count(n)
    check_seed(seed)
    info = generator_info(run_dir, node)
    if info.kind != "images":
        find_generator(Path(run_dir), node)  # the sentence that says this run writes text
    label = _label_index(info, class_label)
    out = None if out_dir is None else _fresh_image_folder(Path(out_dir).expanduser(), n)
    trained = load_generator(info.card, device)  # before any folder is made: a damaged card leaves nothing behind
    try:
        out = out or new_output_folder(run_dir)
        return write_images(_draw(trained, n, seed, label), out)
    except OSError as exc:
        raise UserInputError(f"{out or Path(run_dir) / MORE_FOLDER}: cannot write the images there "
                             f"({describe_os_error(exc)}) — pick a writable folder") from None


def generate_interpolation(run_dir: str | Path, rows: int, steps: int, out_dir: str | Path, seed: int = 0,
                           node: str | None = None, device: str = "cpu", class_label: str | int | None = None) -> Path:
    """``rows`` latent interpolation strips of ``steps`` images, as one PNG in ``out_dir`` (of one class, when
    ``class_label`` picks one of a conditional generator's classes)."""
    from engine.fileio import describe_os_error
    from engine.generative.card import load_generator
    from engine.generative.sampling import interpolation, write_strip

    check_seed(seed)
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: is a file — give a folder for the images")
    info = generator_info(run_dir, node)
    if info.kind != "images":
        find_generator(Path(run_dir), node)  # the sentence that says this run writes text
    label = _label_index(info, class_label)
    trained = load_generator(info.card, device)
    try:
        out.mkdir(parents=True, exist_ok=True)
        return write_strip(interpolation(trained, rows, steps, seed, label), steps, out / "interpolation.png")
    except OSError as exc:
        raise UserInputError(f"{out}: cannot write the images there ({describe_os_error(exc)}) — pick a writable "
                             "folder") from None


def generate_texts(run_dir: str | Path, prompt: str, n: int, max_tokens: int, seed: int = 0,
                   temperature: float | None = None, top_k: int | None = None, node: str | None = None,
                   device: str = "cpu") -> tuple[list[str], str]:
    """``n`` continuations of ``prompt`` by the run's language model, and a warning about the prompt ('' if none)."""
    from engine.lm.card import load_language_model

    if not prompt.strip():
        raise UserInputError("the prompt is empty: give the text to continue, e.g. \"The\"")
    check_seed(seed)
    trained = load_language_model(find_language_model(Path(run_dir), node), device)
    return trained.write(prompt, n, max_tokens, temperature, top_k, seed), trained.unseen_in(prompt)


def save_texts(texts: list[str], out_dir: Path) -> Path:
    """The texts as one file ``texts.txt`` in ``out_dir`` (samples separated as the run's own file is)."""
    from engine.fileio import atomic_write_text
    from engine.lm.sampling import join_samples

    path = out_dir / "texts.txt"
    atomic_write_text(path, join_samples(texts) + "\n")
    return path


def _label_index(info: GeneratorInfo, class_label: str | int | None) -> int | None:
    """The label index of ``class_label``: a class name, or an index (a name that is also a number wins)."""
    if class_label is None:
        return None
    if not info.classes:
        raise UserInputError(f"{info.card}: this generator was not trained on classes, so it cannot draw a chosen "
                             f"class ({class_label!r}) — leave the class out")
    return class_index(info.classes, class_label)


def class_index(classes: tuple[str, ...] | list[str], class_label: str | int) -> int:
    """``class_label`` (a name of ``classes``, or an index into them) as an index; UserInputError naming them."""
    text = str(class_label).strip()
    if text in classes:
        return list(classes).index(text)
    if text.isdigit() and int(text) < len(classes):
        return int(text)
    raise UserInputError(f"class {text!r}: this generator knows {', '.join(classes)} "
                         f"(give a name, or an index from 0 to {len(classes) - 1})")


def _draw(trained: Any, n: int, seed: int, label: int | None) -> Any:
    """``n`` images in [0, 1]; a conditional generator is given the class as labels beside the latents."""
    from engine.generative.sampling import sample

    return sample(trained, n, seed, label)


def _fresh_image_folder(out: Path, n: int) -> Path:
    """``out`` ready for ``n`` new PNGs: refused when it is a file or already holds files of those names."""
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: is a file — give a folder for the images")
    if out.is_dir():
        clash = [f"sample_{i:04d}.png" for i in range(n) if (out / f"sample_{i:04d}.png").exists()]
        if clash:
            raise UserInputError(f"{out}: already holds {clash[0]}{' and more' if len(clash) > 1 else ''} from an "
                                 "earlier batch — pick a new folder, so nothing is overwritten")
    return out
