"""What makes a text CSV or a text folder unusable, judged before anything is read in full.

Shared by the preflight (``loom validate``, and every run before a node
starts) and the ``text_csv``/``text_folder`` steps, so both refuse the same
inputs with the same words.  Torch-free and cheap: a folder is judged from
its listing (names only), a CSV from its header and the rows at hand.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from engine.data.csvtext import TableError, is_missing, require_target
from engine.data.listing import FolderListing, list_folder
from engine.data.textread import TEXT_SUFFIXES

LAYOUTS = ("auto", "classes", "flat")
_LISTING_LABELS = {"auto": "auto", "classes": "folders", "flat": "none"}  # engine.data.listing's words
SUFFIXES_TEXT = ", ".join(TEXT_SUFFIXES)
UNLABELLED_CSV = "clear label to read the texts unlabelled (for a language model)"
UNLABELLED_FOLDER = "set layout to flat to read the texts unlabelled (for a language model)"
HF_TOKENIZER_FILE = "tokenizer.json"  # a Hugging Face model folder's tokenizer (the "fast" tokenizers' one file)


class TextSourceError(ValueError):
    """A text source the user must fix; ``field`` is the param it concerns ("param 'label'"), if one."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def param(name: str) -> str:
    return f"param '{name}'"


# -- CSV ----------------------------------------------------------------------------------------------------
LONG_CELL_CHARS = 1 << 26


def allow_long_texts() -> None:
    """Let a CSV cell hold a whole article: the csv module refuses cells over 128 KB by default.

    Process-wide and only ever raised (to 64 M characters, still a bound), so
    any other reader of CSVs is at most more permissive; ``max_chars`` then
    cuts such a text like any other.
    """
    if csv.field_size_limit() < LONG_CELL_CHARS:
        csv.field_size_limit(LONG_CELL_CHARS)


@dataclass
class CsvColumns:
    text: list[int]
    label: int | None


def find_columns(name: str, header: list[str], rows: list[list[str]], text_columns: list[str], label: str,
                 complete: bool = True) -> CsvColumns:
    """Where the named columns are; :class:`TextSourceError` when one is absent or, in a whole table, useless.

    ``complete=False`` for the head of a larger file: then only the header is
    judged (emptiness and class counts need every row).
    """
    if not text_columns:
        raise TextSourceError("name the column(s) that hold the texts", param("text_columns"))
    text = []
    for col in text_columns:
        try:
            text.append(require_target(name, header, rows, col, complete=False))
        except TableError as exc:
            raise TextSourceError(f"{exc} — name the column(s) that hold the texts", param("text_columns")) from None
    if complete and rows and all(all(is_blank(r, i) for i in text) for r in rows):
        cols = ", ".join(f"'{c}'" for c in text_columns)
        raise TextSourceError(f"the text column(s) {cols} of {name} are empty in every row — name the column(s) "
                              f"that hold the texts (columns: {', '.join(header)})", param("text_columns"))
    if not label:
        return CsvColumns(text, None)
    try:
        at = require_target(name, header, rows, label, complete)
    except TableError as exc:
        raise TextSourceError(f"{exc}; or {UNLABELLED_CSV}", param("label")) from None
    if at in text:
        raise TextSourceError(f"'{label}' is both a text column and the label column — name another column for "
                              "the classes", param("label"))
    if complete:
        classes = sorted({r[at].strip() for r in rows if not is_missing(r[at])})
        if len(classes) < 2:
            raise TextSourceError(single_class(f"the label column '{label}' of {name}", classes, UNLABELLED_CSV),
                                  param("label"))
    return CsvColumns(text, at)


def is_blank(row: list[str], i: int) -> bool:
    return i >= len(row) or not row[i].strip()


def single_class(where: str, classes: list[str], fix: str) -> str:
    """The sentence refusing a labelled set with fewer than two classes."""
    named = ", ".join(f"'{c}'" for c in classes) or "none"
    count = "no class" if not classes else f"only {len(classes)} class"
    return f"{where} gives {count} ({named}) — a classifier needs at least 2; add texts of another class, or {fix}"


def too_many_classes(where: str, n_classes: int, n_texts: int) -> str | None:
    """Why a 'label' column looks like ids or free text rather than classes, or None."""
    if n_classes > 1000 or (n_classes > 20 and n_classes > 0.5 * n_texts):
        return (f"{where} has {n_classes} distinct values for {n_texts} texts — a classifier needs a column of "
                f"class labels (a few values, each repeated), not ids or free text; name another column, or "
                f"{UNLABELLED_CSV}")
    return None


# -- folders ------------------------------------------------------------------------------------------------
def list_text_folder(root: Path, layout: str) -> FolderListing:
    """The folder's files with their class folders (``layout``: auto, classes or flat); opens no file."""
    return list_folder(root, _LISTING_LABELS[layout])


def is_text_file(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES


def folder_problem(listing: FolderListing, layout: str) -> str | None:
    """Why the folder cannot give texts, judged from the names of its files alone, or None."""
    root = listing.root
    where = ("one subfolder per class for a classifier, or directly inside for a language model")
    if not listing.files and not listing.stray and not listing.empty_classes:
        return f"the folder {root} holds no files — put {SUFFIXES_TEXT} files in it ({where})"
    if listing.empty_classes and not listing.files:
        names = ", ".join(f"'{c}'" for c in listing.empty_classes)
        return f"the class folder(s) {names} in {root} hold no files — put {SUFFIXES_TEXT} files in them"
    if layout == "classes" and not listing.classes:
        return (f"the folder {root} has no class subfolders — put each class's texts in its own subfolder, or set "
                "layout to auto or flat")
    if not any(is_text_file(p) for p, _ in listing.files):
        others = sorted({p.suffix.lower() or "(no extension)" for p, _ in listing.files} |
                        {p.suffix.lower() or "(no extension)" for p in listing.stray})
        inside = "in its class folders " if listing.classes else ""
        return (f"the folder {root} holds no text files {inside}(only {', '.join(others)}) — Loom reads "
                f"{SUFFIXES_TEXT} files; save the texts as UTF-8 .txt")
    if listing.classes:
        with_text = [c for k, c in enumerate(listing.classes)
                     if any(is_text_file(p) for p, cls in listing.files if cls == k)]
        if len(with_text) < 2:
            left_out = [*listing.empty_classes, *(c for c in listing.classes if c not in with_text)]
            gone = (f" (left out for holding no text files: {', '.join(repr(c) for c in left_out)})"
                    if left_out else "")
            return single_class(f"the folder {root}{gone}", with_text, UNLABELLED_FOLDER)
    return None


# -- pretrained tokenizers --------------------------------------------------------------------------------
def pretrained_problem(folder: Path) -> str | None:
    """Why ``folder`` gives no pretrained tokenizer, or None (the file's content is judged when it is read)."""
    if not folder.is_dir():
        return f"{folder} is not a folder — choose the pretrained model's folder (it holds {HF_TOKENIZER_FILE})"
    if not (folder / HF_TOKENIZER_FILE).is_file():
        return (f"the model folder {folder} holds no {HF_TOKENIZER_FILE} — save the model's tokenizer there on a "
                "connected machine (AutoTokenizer.from_pretrained(NAME).save_pretrained(FOLDER) writes it), or "
                "choose bpe or char to learn one from your texts")
    return None
