"""Text wizard choices -> an ordinary workflow (pure: no Qt, no torch).

The two text wizards ("Classify text", "Write like my text") leave the same
kind of workflow on the canvas as the shipped examples
``resources/examples/classify_text.json`` and ``lm_python_docs.json``: the
node ids ``data``, ``tokenize``, ``model``, ``train``, then ``evaluate`` and
``export`` or ``generate``, laid out left to right.  The classifier presets
are the engine's measured ones (:mod:`engine.text_presets`), so the wizard,
the example and ``bench/text_baseline.py`` train the same models.  Every step
and param goes through :class:`gui.wizards.recipes.Builder`, which checks them
against the registry, so a renamed engine param fails here and in the tests
rather than on the analyst's canvas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.text_presets import PRESETS as TEXT_PRESETS
from engine.text_presets import TextPreset
from engine.workflow import Workflow
from gui.wizards.recipes import Budget, Builder, RecipeError, require_step

TEXT_SOURCES = ("builtin", "csv", "folder")
WRITE_SOURCES = ("builtin", "folder")
CLASSIFY_DATASET = "ui_languages"  # the built-in set the Classify-text wizard offers
WRITE_DATASET = "python_docs"  # the built-in corpus the Write wizard offers
BUILTIN_PROMPT = "A list"  # a beginning the Python docs know well (the example's)
FALLBACK_PROMPT = "The"  # when nothing better is known about the analyst's corpus
MINUTES_EPOCHS_LM = 100  # with a time limit the clock decides; the example's ceiling
PER_CLASS_RANGE = (20, 900)  # text_builtin's per_class bounds


# -- choices -------------------------------------------------------------------------------------------
@dataclass
class TextDataChoice:
    """Where the texts come from; for ``builtin`` the wizard implies the dataset."""

    source: str = "builtin"  # builtin | csv | folder
    path: str = ""  # CSV file or folder
    text_columns: str = "text"  # CSV: the column(s) with the texts, comma-separated
    label: str = "label"  # CSV: the column with each text's class
    per_class: int = 0  # built-in ui_languages: strings per language (0 = the step's default, all 900)


@dataclass
class TextClassifyChoices:
    data: TextDataChoice = field(default_factory=TextDataChoice)
    preset: str = "fast_gru"  # a key of engine.text_presets.PRESETS
    model_folder: str = ""  # the pretrained preset: a model folder or name (engine.models.text_hub)
    budget: Budget = field(default_factory=lambda: Budget(kind="minutes", minutes=3.0, epochs=40))


@dataclass
class WriteChoices:
    data: TextDataChoice = field(default_factory=TextDataChoice)
    size: str = "medium"  # small | medium | large (WRITER_SIZES)
    prompt: str = ""  # what generate_text continues; empty = a beginning that suits the data
    budget: Budget = field(default_factory=lambda: Budget(kind="minutes", minutes=3.0, epochs=20,
                                                          early_stopping=False))


LM_STORED_TOKENS = 512  # the token matrix a tokenize step keeps; a language model reads texts whole


# -- language model sizes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class WriterSize:
    """A language model the analyst picks by size: the model step, its tokenizer and training settings."""

    key: str
    title: str
    blurb: str
    model_type: str
    model: dict[str, Any]
    tokenize: dict[str, Any]
    train: dict[str, Any]


# All three read characters: on a CPU and a corpus of kilobytes to a few hundred thousand characters, a
# character vocabulary trains from the first step (every token is frequent), while sub-words would
# leave most of a small vocabulary rare.  The medium size is the example's, measured at perplexity 3.4 on
# the Python docs in 3 minutes on a CPU.
CHAR_TOKENIZER = {"method": "char", "vocab_size": 500, "max_len": LM_STORED_TOKENS}
WRITER_SIZES: dict[str, WriterSize] = {s.key: s for s in (
    WriterSize("small", "Small", "A one-layer GRU reading characters: the quickest — it learns spelling and "
               "punctuation within a minute or two on a CPU, sentences stay loose.",
               "gru_lm", {"embed": 32, "width": 128, "layers": 1, "block_size": 64}, CHAR_TOKENIZER,
               {"batch_size": 32, "lr": 3e-3}),
    WriterSize("medium", "Medium (recommended)", "A two-layer GRU reading characters: words and phrases in a "
               "few minutes on a CPU (the example 'Write like the Python docs').",
               "gru_lm", {}, CHAR_TOKENIZER, {}),
    WriterSize("large", "Large", "A small GPT (4 Transformer blocks) reading characters: the best text given "
               "time — slow on a CPU, quick on a GPU.",
               "gpt", {"layers": 4, "heads": 4, "width": 128, "block_size": 128}, CHAR_TOKENIZER,
               {"batch_size": 32, "lr": 1e-3}),
)}


# -- helpers -------------------------------------------------------------------------------------------
def text_preset(key: str) -> TextPreset:
    if key not in TEXT_PRESETS:
        raise RecipeError(f"unknown model {key!r} (choose from {', '.join(TEXT_PRESETS)})")
    return TEXT_PRESETS[key]


def writer_size(key: str) -> WriterSize:
    if key not in WRITER_SIZES:
        raise RecipeError(f"unknown model size {key!r} (choose from {', '.join(WRITER_SIZES)})")
    return WRITER_SIZES[key]


def column_names(text: str) -> list[str]:
    """``'title, body'`` -> ``['title', 'body']`` (what text_csv's text_columns reads)."""
    return [part.strip() for part in str(text).split(",") if part.strip()]


def prompt_from_text(text: str, words: int = 3) -> str:
    """The first few words of a corpus: a beginning its own language model can continue.

    The live samples' prompts are separated by ``|``, so that character is dropped.
    """
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    return " ".join(first.replace("|", " ").split()[:words])


def data_title(data: TextDataChoice, builtin: str) -> str:
    """Plain words for the workflow's name: the built-in set or the file/folder's name."""
    if data.source == "builtin":
        return {"ui_languages": "interface strings by language", "python_docs": "the Python docs"}.get(builtin, builtin)
    return Path(data.path).name or data.path


def _data_node(b: Builder, data: TextDataChoice, builtin: str, labelled: bool) -> str:
    """The ``data`` node: built-in texts, a text CSV, or a folder (class subfolders, or flat for a corpus)."""
    if data.source == "builtin":
        params: dict[str, Any] = {"dataset": builtin}
        if data.per_class and builtin == "ui_languages":
            low, high = PER_CLASS_RANGE
            if not low <= int(data.per_class) <= high:
                raise RecipeError(f"the built-in set has {low} to {high} strings per language, not {data.per_class}")
            params["per_class"] = int(data.per_class)
        return b.node("data", "text_builtin", params, 0, 0)
    if data.source == "csv":
        if not labelled:
            raise RecipeError("to write like your texts, choose the built-in texts or a folder of .txt files")
        if not data.path.strip():
            raise RecipeError("choose a CSV file with one text per row")
        columns = column_names(data.text_columns)
        if not columns:
            raise RecipeError("choose the column (or columns) that hold the texts")
        if not data.label.strip():
            raise RecipeError("choose the column that holds each text's class")
        if data.label.strip() in columns:
            raise RecipeError(f"'{data.label.strip()}' cannot be both a text column and the class column")
        return b.node("data", "text_csv", {"path": data.path.strip(), "text_columns": ", ".join(columns),
                                           "label": data.label.strip()}, 0, 0)
    if data.source == "folder":
        if not data.path.strip():
            raise RecipeError("choose a folder of text files" if not labelled else
                              "choose a folder with one subfolder of text files per class")
        params = {"path": data.path.strip(), "layout": "classes" if labelled else "flat"}
        if not labelled:
            params["test"] = 0.0  # nothing evaluates a language model's test split: those texts train instead
        return b.node("data", "text_folder", params, 0, 0)
    raise RecipeError(f"unknown text source {data.source!r} (choose from {', '.join(TEXT_SOURCES)})")


def _classify_train(preset: TextPreset, budget: Budget) -> dict[str, Any]:
    """The preset's training settings under the analyst's budget (its epochs are a ceiling for a time limit)."""
    params = dict(preset.train)
    if budget.kind == "minutes":
        require_step("train", "time_budget")
        if budget.minutes <= 0:
            raise RecipeError("give a time limit above zero minutes")
        params["time_budget"] = float(budget.minutes)
    else:
        params["epochs"] = int(budget.epochs)
    if not budget.early_stopping:
        params["patience"] = 0
    params["seed"] = 0
    return params


# -- recipes -------------------------------------------------------------------------------------------
def model_positions(model: str) -> int | None:
    """How many tokens a pretrained model (folder or name) reads at most, when its config says (reads one file)."""
    from engine.models.text_hub import read_config, resolve, usable_positions

    folder = resolve(model)
    try:
        return usable_positions(read_config(folder)) if folder is not None else None
    except ValueError:
        return None


def text_classify_workflow(c: TextClassifyChoices) -> Workflow:
    """Classify texts: data -> tokenize -> model -> train -> evaluate (test split, 16 mistakes) -> export."""
    preset = text_preset(c.preset)
    tokenize, model = dict(preset.tokenize), dict(preset.model)
    what = preset.title
    if preset.needs_local_model():
        folder = c.model_folder.strip()
        if not folder:
            raise RecipeError("the pretrained model needs a model on this computer: choose one, or pick the "
                              "Fast GRU or the Transformer")
        tokenize["path"] = folder
        tokenize["max_len"] = min(int(tokenize["max_len"]), model_positions(folder) or int(tokenize["max_len"]))
        model["model"] = folder
        what = f"{preset.title}: {Path(folder).name or folder}"
    title = data_title(c.data, CLASSIFY_DATASET)
    b = Builder(f"Classify {title} ({preset.title})",
                f"Made by the Classify text wizard: {what} ({preset.description}) on {title}.")
    _data_node(b, c.data, CLASSIFY_DATASET, labelled=True)
    b.node("tokenize", "tokenize", tokenize, 1, 0)
    b.node("model", preset.model_type, model, 1, 1)
    b.node("train", "train", _classify_train(preset, c.budget), 2, 0.5)
    b.node("evaluate", "evaluate", {"split": "test", "mistakes": 16}, 3, 0)
    b.node("export", "export", {}, 4, 0.5)
    b.link("data.data", "tokenize.data")
    b.link("tokenize.data", "train.data")
    b.link("model.model", "train.model")
    b.link("train.model", "evaluate.model")
    b.link("tokenize.data", "evaluate.data")
    b.link("train.model", "export.model")
    b.link("evaluate.metrics", "export.metrics")
    return b.wf


def write_prompt(c: WriteChoices) -> str:
    """What generate_text continues: the analyst's, else one that suits the data."""
    prompt = c.prompt.strip()
    if prompt:
        return prompt
    return BUILTIN_PROMPT if c.data.source == "builtin" else FALLBACK_PROMPT


def write_workflow(c: WriteChoices) -> Workflow:
    """Write like a corpus: data -> tokenize -> model -> train_lm (live samples) -> generate_text."""
    if c.data.source not in WRITE_SOURCES:
        raise RecipeError("to write like your texts, choose the built-in texts or a folder of .txt files")
    size = writer_size(c.size)
    prompt = write_prompt(c)
    title = data_title(c.data, WRITE_DATASET)
    kind = "GPT" if size.model_type == "gpt" else "GRU"
    b = Builder(f"Write like {title} ({size.key} {kind})",
                f"Made by the Write wizard, {size.key} model: {size.blurb} It learns to write like {title}; "
                "text samples continue prompts as it learns.")
    _data_node(b, c.data, WRITE_DATASET, labelled=False)
    b.node("tokenize", "tokenize", dict(size.tokenize), 1, 0)
    b.node("model", size.model_type, dict(size.model), 1, 1)
    params = dict(size.train)
    if c.budget.kind == "minutes":
        require_step("train_lm", "time_budget")
        if c.budget.minutes <= 0:
            raise RecipeError("give a time limit above zero minutes")
        params.update(epochs=MINUTES_EPOCHS_LM, time_budget=float(c.budget.minutes))
    else:
        params["epochs"] = int(c.budget.epochs)
    if c.data.source != "builtin":  # the engine's default prompts are the Python docs' beginnings
        params["prompts"] = prompt.replace("|", " ").strip() or FALLBACK_PROMPT
    params["seed"] = 0
    b.node("train", "train_lm", params, 2, 0.5)
    b.node("generate", "generate_text", {"prompt": prompt, "n": 3, "max_tokens": 300, "seed": 0}, 3, 0.5)
    b.link("data.data", "tokenize.data")
    b.link("tokenize.data", "train.data")
    b.link("model.model", "train.model")
    b.link("train.model", "generate.model")
    return b.wf
