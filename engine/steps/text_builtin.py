"""Built-in texts: labelled interface strings and the Python documentation, no download."""

from __future__ import annotations

import platform
from typing import Any

from engine.context import StepContext
from engine.names import CachePolicy
from engine.params import Choice, Int
from engine.ports import TEXTS, Port
from engine.steps.registry import step

DATASETS = ("ui_languages", "python_docs")


def _versions(params: dict[str, Any]) -> str:
    """The texts come from the installed Python and PySide6: a new version is new data."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pyside = version("PySide6-Essentials")
    except PackageNotFoundError:
        pyside = "none"
    return f"python {platform.python_version()}, PySide6 {pyside}"


@step(
    "text_builtin",
    title="Texts (built-in)",
    category="data",
    description="Texts that ship with Python and PySide6: ui_languages (which of 15 languages a user-interface "
                "string is in, 13,500 strings by Qt's translators) or python_docs (the Python documentation "
                "topics, about 370,000 characters of English, for a language model).",
    outputs=[Port("data", TEXTS, "Cleaned texts with labels (ui_languages) or none (python_docs), and splits")],
    params=[
        Choice("dataset", "ui_languages", DATASETS, "ui_languages: classify interface strings by language; "
               "python_docs: unlabelled English prose and code for a language model."),
        Int("per_class", 900, 20, 900, "ui_languages: strings per language (fewer makes a quicker, harder task).",
            label="Texts per class"),
    ],
    cache=CachePolicy.DISK,
    fingerprint=_versions,
)
def text_builtin(ctx: StepContext) -> dict:
    from engine.data.builtin_text import python_docs, ui_languages

    p = ctx.params
    data = ui_languages(p["per_class"]) if p["dataset"] == "ui_languages" else python_docs()
    counts = {}
    if data.labels is not None:
        import torch

        counts = dict(zip(data.classes, torch.bincount(data.labels, minlength=data.num_classes).tolist(), strict=True))
    report = {**data.report, "texts": len(data), "classes": list(data.classes), "counts": counts,
              "splits": {k: int(len(v)) for k, v in (data.splits or {}).items()}}
    data.report = report
    ctx.report(**report)
    from engine.data.text_cleaning import examples, preview_text
    from engine.fileio import atomic_write_text

    path = ctx.node_dir / "preview.txt"  # the same preview as a text folder's, kept with the run
    shown = preview_text(data, examples(data))
    atomic_write_text(path, shown)
    ctx.text("preview", shown, path=path)
    ctx.log(f"{len(data)} texts from {report['source']}")
    return {"data": data}
