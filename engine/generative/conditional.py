"""Class-conditional generation: when a model draws classes, and how its grids are laid out.

A ``dcgan`` or ``vae`` model step's ``conditional`` param is ``auto`` (draw
classes when the training data has labels), ``on`` (refuse data without) or
``off``.  The training step resolves it once, against the data it actually
gets, into ``num_classes`` in the spec's params, so the generator card says
plainly what was built and ``loom generate`` can rebuild it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import UserInputError
from engine.generative import GenSpec

if TYPE_CHECKING:
    import torch

    from engine.data.datasets import ImageDataset

CONDITIONAL_ARCHS = ("dcgan", "vae")


def resolve_conditional(spec: GenSpec, data: ImageDataset, node_id: str) -> tuple[GenSpec, tuple[str, ...], str]:
    """``(spec with num_classes set, class names drawn, a note for the log)``; UserInputError when ``on`` cannot be."""
    mode = str(spec.params.get("conditional", "off")) if spec.arch in CONDITIONAL_ARCHS else "off"
    labelled = data.labels is not None and data.num_classes >= 2
    pack = int(spec.params.get("pack", 1))
    note = ""
    if mode == "on" and not labelled:
        raise UserInputError(f"node '{node_id}': the model's conditional is 'on' but its images have no class labels "
                             "— use labelled data (a folder with one subfolder per class) or set conditional to auto")
    if mode == "on" and pack > 1:
        raise UserInputError(f"node '{node_id}': a class-conditional discriminator judges one image at a time, but "
                             f"the model's pack is {pack} — set pack to 1 or conditional to off")
    if mode == "auto" and labelled and pack > 1:
        note = (f"the images have {data.num_classes} classes, but the model judges packs of {pack}: training "
                "without classes (set pack to 1 to draw chosen classes)")
        mode = "off"
    use = mode == "on" or (mode == "auto" and labelled)
    params: dict[str, Any] = {**spec.params, "num_classes": data.num_classes if use else 0}
    classes = tuple(str(c) for c in data.classes) if use else ()
    if use:
        note = f"class-conditional on {len(classes)} classes ({', '.join(classes[:12])}{', ...' if len(classes) > 12 else ''})"
    return GenSpec(spec.arch, params), classes, note


def grid_inputs(latents: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """``(z, labels, images per row)`` for a sample grid drawn from ``latents``.

    Unconditional: the latents as they are, square-ish grid (0).  Conditional:
    one row per class, and the same noise in each column, so a column shows
    one "style" across every class: ``len(latents) // num_classes`` columns
    (at least one).
    """
    import torch

    if not num_classes:
        return latents, None, 0
    cols = max(1, len(latents) // num_classes)
    z = latents[:cols].repeat(num_classes, 1)
    labels = torch.arange(num_classes, device=latents.device).repeat_interleave(cols)
    return z, labels, cols
