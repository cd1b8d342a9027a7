"""Trying a finished run's classifier on a few inputs: the engine half of the app's *Try it* panel.

The model comes from the run's export folder when it has one, else from the
card the train step left (:mod:`engine.export.trained`); either way it loads
through :func:`engine.export.load.load_export` and reads inputs through its
data kind, exactly as ``loom predict`` does, so the panel and the CLI cannot
disagree.  What one input could not be (not an image, unreadable) comes back
as that input's error, in words, instead of failing the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import UserInputError
from engine.export.load import LoadedModel, load_export, predict

TOP_K = 5


@dataclass
class Guess:
    """One input's answer: its name, the top classes with their probabilities (surest first), or why it has none."""

    name: str
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str = ""

    @property
    def best(self) -> str:
        return self.top[0][0] if self.top else ""


def load_run_classifier(run_dir: str | Path, node: str | None = None) -> LoadedModel:
    """The classifier a run trained (its export, else its train step's card), ready to predict."""
    from engine.export.trained import trained_model_folder

    return load_export(trained_model_folder(run_dir, node))


def input_noun(model: LoadedModel) -> str:
    """"images", "texts", "table rows"...: what this model classifies, for the panel's words."""
    from engine.data.kinds import kind_named

    kind = kind_named(str(model.card.get("input_kind")))
    return kind.noun if kind is not None else "inputs"


def predict_files(model: LoadedModel, paths: list[str | Path], k: int = TOP_K) -> list[Guess]:
    """One :class:`Guess` per path, in order (a folder: one per file in it); a path that cannot be read carries its error."""
    paths = [str(Path(p).expanduser()) for p in paths]
    try:
        rows, skipped = predict(model, paths)
    except UserInputError:
        return [_one_file(model, p, k) for p in paths]  # find which input it was, and keep the others' answers
    by_name = {str(row[_name_column(row)]): _top(model, row, k) for row in rows}
    why = dict(_split_skipped(line) for line in skipped)
    given = [Guess(p, by_name.pop(p)) if p in by_name else Guess(p, error=why.pop(p, "could not be read"))
             for p in paths if not Path(p).is_dir()]
    inside = [Guess(name, top) for name, top in by_name.items()]  # the files of the folders given
    return given + inside + [Guess(name, error=reason) for name, reason in why.items()]


def predict_texts(model: LoadedModel, texts: list[str], k: int = TOP_K) -> list[Guess]:
    """One :class:`Guess` per text (a text model only)."""
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise UserInputError("type a text to classify")
    if input_noun(model) != "texts":
        raise UserInputError(f"this model classifies {input_noun(model)}, not texts — drop {input_noun(model)} "
                             "instead")
    rows, _skipped = predict(model, [], options={"texts": texts})
    return [Guess(text, _top(model, row, k)) for text, row in zip(texts, rows, strict=True)]


def _one_file(model: LoadedModel, path: str, k: int) -> Guess:
    try:
        rows, skipped = predict(model, [path])
    except UserInputError as exc:
        return Guess(path, error=_strip_path(str(exc), path))
    if rows:
        return Guess(path, _top(model, rows[0], k))
    return Guess(path, error=_split_skipped(skipped[0])[1] if skipped else "could not be read")


def _top(model: LoadedModel, row: dict, k: int) -> list[tuple[str, float]]:
    probs = [(c, float(row[f"p_{c}"])) for c in model.classes]
    return sorted(probs, key=lambda cp: -cp[1])[:k]


def _name_column(row: dict) -> str:
    return next(iter(row))  # predict() puts the input's name first ("file", "input", "row")


def _split_skipped(line: str) -> tuple[str, str]:
    """'PATH: reason' -> (PATH, reason); paths may hold ': ' themselves, so split on the last known file."""
    head, sep, tail = line.rpartition(": ")
    while sep and not Path(head).exists() and ": " in head:
        head, sep, more = head.rpartition(": ")
        tail = f"{more}: {tail}"
    return (head, tail) if sep else (line, line)


def _strip_path(message: str, path: str) -> str:
    return message[len(path) + 2:] if message.startswith(f"{path}: ") else message
