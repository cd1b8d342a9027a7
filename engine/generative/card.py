"""Saving and loading a trained generator without pickles.

A generator is two files in its node folder: ``generator.safetensors`` (the
weights of the GAN generator or VAE decoder) and ``generator.json`` (the
card: architecture, params, image shape, latent size, normalisation).  The
card plus the weights rebuild the exact module; nothing is ever unpickled.

The weights are those the run shows and samples from: the weight average
(EMA) when the training step kept one, the raw weights otherwise (those
stay in the checkpoint).  A class-conditional generator's card also lists
its ``classes`` (names, in label order; ``params.num_classes`` is their
count), so ``loom generate --class`` can check a class before drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.cardcheck import normalization_problem, sibling_file_problem, whole_in
from engine.errors import UserInputError
from engine.fileio import atomic_write, atomic_write_json, json_type, read_json
from engine.generative import GAN_ARCHS, VAE_ARCHS, GenSpec, TrainedGenerator, build_generator

CARD_NAME = "generator.json"
WEIGHTS_NAME = "generator.safetensors"
CARD_FORMAT = 1


def save_generator(trained: TrainedGenerator, folder: Path) -> Path:
    """Write weights + card into ``folder``; returns the card's path."""
    from safetensors.torch import save as st_save

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in trained.module.state_dict().items()}
    blob = st_save(tensors)
    atomic_write(folder / WEIGHTS_NAME, lambda f: f.write(blob))
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "kind": trained.spec.kind,
        "arch": trained.spec.arch,
        "params": dict(trained.spec.params),
        "latent_dim": trained.latent_dim,
        "sample_shape": list(trained.sample_shape),
        "normalization": trained.normalization,
        "weights": WEIGHTS_NAME,
        "history": trained.history,
    }
    if trained.classes:
        card["classes"] = list(trained.classes)
    path = folder / CARD_NAME
    atomic_write_json(path, card)
    return path


def load_generator(card_path: Path, device: str = "cpu") -> TrainedGenerator:
    """Rebuild a generator from its card and safetensors weights (UserInputError naming the file otherwise)."""
    from safetensors.torch import load_file

    card_path = Path(card_path)
    if not card_path.exists():
        raise UserInputError(f"{card_path}: no generator card there — was the training step finished?")
    card = read_json(card_path, "the generator card is damaged; train the model again")
    problem = card_problem(card)
    if problem:
        raise UserInputError(f"{card_path}: not a usable generator card: {problem} — the file is damaged; "
                             "train the model again or restore the run folder")
    spec = GenSpec(card["arch"], dict(card.get("params", {})))
    shape = tuple(card["sample_shape"])
    weights = card_path.parent / card.get("weights", WEIGHTS_NAME)
    try:
        module = build_generator(spec, shape)
    except Exception as exc:  # noqa: BLE001 - any way a damaged card fails to build is the card's fault
        raise UserInputError(f"{card_path}: the generator it describes cannot be built ({type(exc).__name__}: "
                             f"{str(exc)[:200]}) — the card is damaged") from None
    try:
        state = load_file(str(weights), device="cpu")
        module.load_state_dict(state)
    except FileNotFoundError:
        raise UserInputError(f"{weights}: the generator's weights file is missing") from None
    except Exception as exc:  # wrong shapes, corrupt file
        raise UserInputError(f"{weights}: cannot load the generator's weights ({type(exc).__name__}: "
                             f"{str(exc)[:200]})") from None
    module.to(device).eval()
    return TrainedGenerator(
        spec=spec,
        module=module,
        sample_shape=shape,
        normalization=dict(card.get("normalization", {"mean": [0.0], "std": [1.0]})),
        history=dict(card.get("history", {})),
        classes=tuple(card.get("classes") or ()),
    )


def card_problem(card: dict[str, Any]) -> str:
    """What makes a parsed generator card unusable ('' when it is sound): every field is checked for
    type and a sane range before anything is built from it."""
    arch = card.get("arch")
    if arch not in (*GAN_ARCHS, *VAE_ARCHS):
        return f"\"arch\" is {json_type(arch)}, not one of {', '.join((*GAN_ARCHS, *VAE_ARCHS))}"
    if not isinstance(card.get("params", {}), dict):
        return f"\"params\" is {json_type(card.get('params'))}, not an object"
    latent = card.get("params", {}).get("latent_dim", 100)
    if not whole_in(latent, 1, 4096):
        return f"\"params.latent_dim\" is {json_type(latent)}, not a whole number from 1 to 4096"
    shape = card.get("sample_shape")
    if not (isinstance(shape, list) and len(shape) == 3 and whole_in(shape[0], 1, 4)
            and all(whole_in(v, 2, 4096) for v in shape[1:])):
        return f"\"sample_shape\" is {json_type(shape)}, not [channels 1-4, height, width]"
    problem = normalization_problem(card.get("normalization", {"mean": [0.0], "std": [1.0]}))
    problem = problem or sibling_file_problem("weights", card.get("weights", WEIGHTS_NAME))
    if problem:
        return problem
    if not isinstance(card.get("history", {}), dict):
        return f"\"history\" is {json_type(card.get('history'))}, not an object"
    return classes_problem(card)


def classes_problem(card: dict[str, Any]) -> str:
    """A conditional card's ``classes`` must name exactly ``params.num_classes`` classes ('' when sound)."""
    count = card.get("params", {}).get("num_classes", 0) or 0
    if not whole_in(count, 0, 100_000):
        return f"\"params.num_classes\" is {json_type(count)}, not a whole number from 0 to 100000"
    classes = card.get("classes") or []
    if not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)):
        return f"\"classes\" is {json_type(card.get('classes'))}, not a list of class names"
    if len(classes) != count:
        return f"\"classes\" names {len(classes)} classes but \"params.num_classes\" is {count}"
    return ""
