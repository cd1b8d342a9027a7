"""Text sources: a CSV's text and label columns, and a folder of text files -> cleaned :class:`RawTexts`.

Both read through the same doors as the rest of Loom: a CSV through
:mod:`engine.data.csvtext` (binary files, Excel workbooks, UTF-16 and
Windows-1252 tables are told apart and named), a text file through
:mod:`engine.data.textread` (strict UTF-8, UTF-16/32 with a byte-order mark,
read no further than ``max_chars``).  What cannot be used is listed in the
:class:`TextCleaning` report with its name and reason; what leaves nothing to
learn from raises :class:`TextSourceError` with the words the user needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.data.csvtext import is_missing
from engine.data.folder import relative_name
from engine.data.tables import read_table
from engine.data.text_checks import (
    SUFFIXES_TEXT,
    UNLABELLED_CSV,
    UNLABELLED_FOLDER,
    TextSourceError,
    allow_long_texts,
    find_columns,
    folder_problem,
    is_text_file,
    list_text_folder,
    param,
    single_class,
    too_many_classes,
)
from engine.data.text_cleaning import TextCleaning, TextItem, assemble, class_order, clean_items
from engine.data.textread import NOT_TEXT, join_columns, read_text_file
from engine.data.texts import RawTexts


@dataclass
class TextOptions:
    """How texts are cleaned and split, the same for every source."""

    max_chars: int = 1_000_000
    dedupe: bool = True
    val: float = 0.1
    test: float = 0.1
    seed: int = 0

    @property
    def fractions(self) -> tuple[float, float, float]:
        return (max(0.0, 1.0 - self.val - self.test), self.val, self.test)


@dataclass
class LoadedTexts:
    """A source's texts, what cleaning did, and facts about the source for the report (its encoding...)."""

    data: RawTexts
    cleaning: TextCleaning
    facts: dict[str, Any]


def load_text_csv(path: Path, text_columns: list[str], label: str, opts: TextOptions) -> LoadedTexts:
    """Read the named columns of a CSV; :class:`TableError` or :class:`TextSourceError` when it is unusable."""
    allow_long_texts()
    table = read_table(path)
    cols = find_columns(path.name, table.header, table.rows, text_columns, label)
    report = TextCleaning(opts.max_chars)
    labelled = cols.label is not None

    def items() -> Iterator[TextItem]:
        for i, row in enumerate(table.rows):
            value = row[cols.label].strip() if cols.label is not None else ""
            yield TextItem(f"row {i + 2}", join_columns(row, cols.text),  # spreadsheet numbering: the header is row 1
                           value if labelled and not is_missing(value) else None)

    kept = clean_items(items(), report, opts.dedupe, labelled)
    classes = class_order(str(item.label) for item in kept) if labelled else []
    if labelled and (why := too_many_classes(f"the label column '{label}' of {path.name}", len(classes), len(kept))):
        raise TextSourceError(why, param("label"))
    _require_texts(kept, report, f"{path.name} ({len(table.rows)} rows)", param("text_columns"))
    data = assemble(kept, classes, report, name=path.stem, fractions=opts.fractions, seed=opts.seed,
                    source={"text_columns": list(text_columns)})
    if labelled and data.num_classes < 2:
        raise TextSourceError(single_class(f"after cleaning, the label column '{label}' of {path.name}",
                                           data.classes, UNLABELLED_CSV), param("label"))
    facts = {"path": str(path), "text_columns": list(text_columns), "label_column": label,
             "encoding": table.encoding, "replacement_chars": table.replacement_chars, "rows_read": len(table.rows)}
    return LoadedTexts(data, report, facts)


def load_text_folder(root: Path, layout: str, opts: TextOptions, check: Callable[[], None] = lambda: None,
                     progress: Callable[[float], None] = lambda f: None) -> LoadedTexts:
    """Read every text file of a folder (one subfolder per class, or flat); bad files are listed, never raised."""
    listing = list_text_folder(root, layout)
    problem = folder_problem(listing, layout)
    if problem:
        raise TextSourceError(problem, param("path"))
    report = TextCleaning(opts.max_chars)
    report.empty_classes = list(listing.empty_classes)
    for stray in listing.stray:
        report.skip(relative_name(stray, root), "not in a class folder", "files beside the class folders have no class")
    labelled = bool(listing.classes)

    def items() -> Iterator[TextItem]:
        for n, (path, cls) in enumerate(listing.files):
            if n % 64 == 0:
                check()
                progress(n / max(1, len(listing.files)))
            rel = relative_name(path, root)
            if not is_text_file(path):
                report.skip(rel, NOT_TEXT, f"{path.suffix.lower() or 'no extension'} file — Loom reads "
                                           f"{SUFFIXES_TEXT} files")
                continue
            read = read_text_file(path, opts.max_chars)
            if read.text is None:
                report.skip(rel, read.reason, read.detail)
                continue
            report.encodings[read.encoding] = report.encodings.get(read.encoding, 0) + 1
            yield TextItem(rel, read.text, listing.classes[cls] if cls >= 0 else None, read.truncated)

    kept = clean_items(items(), report, opts.dedupe, labelled)
    progress(1.0)
    _require_texts(kept, report, f"{root} ({len(listing.files)} files)", param("path"))
    data = assemble(kept, list(listing.classes), report, name=root.name or str(root), fractions=opts.fractions,
                    seed=opts.seed, source={"text_columns": []})
    if labelled and data.num_classes < 2:
        left_out = [*report.empty_classes, *report.unusable_classes]
        gone = f" (left out, without usable texts: {', '.join(repr(c) for c in left_out)})" if left_out else ""
        raise TextSourceError(single_class(f"after cleaning, the folder {root}{gone}", data.classes,
                                           UNLABELLED_FOLDER), param("path"))
    return LoadedTexts(data, report, {"path": str(root), "layout": "classes" if labelled else "flat"})


def _require_texts(kept: list[TextItem], report: TextCleaning, where: str, field: str) -> None:
    """Refuse a source that left no text, saying what became of them."""
    if kept:
        return
    parts = [f"{n} {reason}" for reason, n in report.to_json()["skipped_by_reason"].items()]
    parts += [f"{n} {what}" for n, what in ((len(report.empty), "empty"),
                                           (len(report.missing_labels), "without a class")) if n]
    see = " — see the log for each file" if report.skipped else ""
    raise TextSourceError(f"{where} gives no usable text: {', '.join(parts) or 'nothing found'}{see}", field)
