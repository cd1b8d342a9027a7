"""What is in a text CSV or a text folder the analyst picked (no Qt, no torch): columns, classes, problems.

The text data page must refuse what ``text_csv`` / ``text_folder`` would
refuse, with the same words, before the analyst has waited for a run to
start.  So this reuses the engine's own checks:
:func:`engine.data.text_checks.find_columns` judges the chosen columns and
:func:`engine.data.text_checks.folder_problem` a folder's listing.  Only the
head of a large CSV is read (the preflight's, ``engine.data.csvtext.read_table_head``) and a folder
is judged from its file names and sizes, so a scan stays quick whatever the
analyst picks; it runs in the background all the same (:mod:`gui.tasks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from gui.wizards.text_recipes import prompt_from_text

MIN_TEXTS_PER_CLASS = 5  # fewer cannot be split into train/validation/test
MIN_CORPUS_CHARS = 500  # a language model needs at least a few blocks of text to learn from
TEXT_NAMES = ("text", "texts", "review", "body", "sentence", "content", "comment", "message", "title")
LABEL_NAMES = ("label", "labels", "class", "category", "target", "sentiment", "y", "tag")
PROMPT_READ_CHARS = 2000  # the start of the first text file, for a prompt


# -- CSV ------------------------------------------------------------------------------------------------
@dataclass
class TextTableScan:
    path: Path
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # every row, or those of the file's head
    complete: bool = True  # False: only the head of a large file was read
    error: str = ""

    def _values(self, column: str) -> list[str]:
        at = self.columns.index(column)
        return [r[at].strip() for r in self.rows if at < len(r) and r[at].strip()]

    def distinct(self, column: str) -> int:
        return len(set(self._values(column))) if column in self.columns else 0

    def mean_chars(self, column: str) -> float:
        values = self._values(column) if column in self.columns else []
        return sum(len(v) for v in values) / len(values) if values else 0.0

    def is_text_like(self, column: str) -> bool:
        """Holds words, not only numbers or blanks."""
        values = self._values(column)
        return bool(values) and not all(_is_number(v) for v in values)

    @cached_property
    def _text_like(self) -> list[str]:
        return [c for c in self.columns if self.is_text_like(c)]

    def text_columns(self) -> list[str]:
        """The columns that hold words (judged once: the page asks again at every tick)."""
        return list(self._text_like)

    def guess_label(self) -> str:
        """A column named like a class, else the one with the fewest distinct values (at least 2)."""
        named = next((c for c in self.columns if c.strip().lower() in LABEL_NAMES), "")
        if named:
            return named
        spread = [(self.distinct(c), -i, c) for i, c in enumerate(self.columns)
                  if self.distinct(c) >= 2 and c.strip().lower() != "id"]
        return min(spread)[2] if spread else (self.columns[-1] if self.columns else "")  # ties: the later column

    def guess_text(self, label: str) -> list[str]:
        """The text-like column with the longest values, among those named like texts if there are any."""
        candidates = [c for c in self.text_columns() if c != label]
        named = [c for c in candidates if c.strip().lower() in TEXT_NAMES]
        pool = named or candidates
        return [max(pool, key=self.mean_chars)] if pool else []

    def problem(self, text_columns: list[str], label: str) -> str:
        """Why the chosen columns cannot train a classifier (empty text when they can), in the engine's words."""
        from engine.data.text_checks import TextSourceError, find_columns

        name = self.path.name
        if self.error:
            return self.error
        if not self.rows:
            return f"'{name}' has a header but no rows: add one row per text below the header."
        if not [c for c in self.text_columns() if c != label]:
            empty = [c for c in self.columns if c != label and not self._values(c)]
            if empty:
                listed = ", ".join(f"'{c}'" for c in empty[:4])
                return (f"'{name}': the column(s) {listed} are empty in every row, and no other column besides the "
                        f"class ('{label}') holds words — fill in the texts, or choose another file.")
            return (f"'{name}' has no column of texts (every column holds numbers): Classify text needs a column "
                    "of words — for a table of numbers use Classify images (CSV table).")
        if not text_columns:
            return "Tick the column (or columns) that hold the texts."
        if not label:
            return "Choose the column that holds each text's class."
        try:
            find_columns(name, self.columns, self.rows, text_columns, label, self.complete)
        except TextSourceError as exc:
            return _sentence(str(exc))
        n = self.distinct(label)
        if self.complete and len(self.rows) < MIN_TEXTS_PER_CLASS * n:
            return (f"Too few rows: {len(self.rows)} texts for {n} classes; give at least {MIN_TEXTS_PER_CLASS} "
                    "texts per class.")
        return ""

    def summary(self) -> str:
        more = "" if self.complete else " in its first megabyte (the rest is read when the run starts)"
        return f"{len(self.rows)} rows{more}, {len(self.columns)} columns: {', '.join(self.columns)}."


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def scan_text_table(path: str | Path) -> TextTableScan:
    """Header and rows of a text CSV (the head of a large one); never raises."""
    from engine.data.csvtext import TableError, read_table_head
    from engine.data.text_checks import allow_long_texts

    p = Path(path).expanduser()
    if not str(path).strip():
        return TextTableScan(p, error="Choose a CSV file.")
    if not p.is_file():
        return TextTableScan(p, error=f"'{p}' is not a file.")
    allow_long_texts()
    try:
        table, complete = read_table_head(p)
    except TableError as exc:
        return TextTableScan(p, error=_sentence(str(exc)))
    except OSError as exc:
        return TextTableScan(p, error=f"'{p.name}' could not be read: {exc.strerror or exc}")
    return TextTableScan(p, table.header, table.rows, complete)


# -- folders --------------------------------------------------------------------------------------------
@dataclass
class TextFolderScan:
    root: Path
    labelled: bool  # judged as one subfolder per class (Classify) or a flat corpus (Write)
    classes: list[str] = field(default_factory=list)
    texts_per_class: dict[str, int] = field(default_factory=dict)
    text_files: int = 0
    other_files: int = 0
    loose_texts: int = 0  # text files directly in a labelled folder, outside any class subfolder
    unreadable: list[str] = field(default_factory=list)  # "name (why)" of text files the run will skip
    huge: list[str] = field(default_factory=list)  # names of files longer than a text keeps (cut while read)
    text_bytes: int = 0
    prompt: str = ""  # the first words of the first text file (Write)
    engine_problem: str = ""  # text_folder's own refusal, from the listing
    error: str = ""

    def problem(self) -> str:
        if self.error:
            return self.error
        name = self.root.name or str(self.root)
        if self.labelled and not self.classes and (self.text_files or self.other_files):
            return (f"The folder '{name}' has no class subfolders: put each class's texts in its own subfolder "
                    "(e.g. pos/, neg/) so Loom knows what to learn.")
        if self.labelled and len([c for c in self.classes if self.texts_per_class.get(c)]) == 1:
            only = next(c for c in self.classes if self.texts_per_class.get(c))
            return (f"The folder '{name}' has only one class ({only}): a classifier needs at least 2 subfolders "
                    "of text files, one per class.")
        if self.engine_problem:
            return _sentence(self.engine_problem)
        if self.labelled:
            small = [c for c in self.classes if self.texts_per_class.get(c, 0) < MIN_TEXTS_PER_CLASS]
            if small:
                listed = ", ".join(f"{c} ({self.texts_per_class.get(c, 0)})" for c in small[:5])
                return (f"Too few texts: {listed} — each class needs at least {MIN_TEXTS_PER_CLASS} text files "
                        "to be split into training, validation and test.")
        elif self.text_bytes < MIN_CORPUS_CHARS:
            return (f"Too little text: '{name}' holds {self.text_bytes} bytes of text; a language model "
                    f"needs at least {MIN_CORPUS_CHARS} characters (hundreds of thousands write best).")
        return ""

    def summary(self) -> str:
        lines = []
        if self.labelled and self.classes:
            lines.append(f"{len(self.classes)} class{'es' if len(self.classes) != 1 else ''}, "
                         f"{self.text_files} text files:")
            lines += [f"  • {c}: {self.texts_per_class.get(c, 0)}" for c in self.classes[:12]]
            if len(self.classes) > 12:
                lines.append(f"  • … and {len(self.classes) - 12} more classes")
        else:
            lines.append(f"{self.text_files} text files, {_size(self.text_bytes)} of text.")
        if self.loose_texts:
            lines.append(f"{self.loose_texts} text files lie directly in the folder, outside any class subfolder: "
                         "a classifier cannot tell their class, so they are not used.")
        if self.other_files:
            lines.append(f"{self.other_files} other files will be skipped (Loom reads .txt, .text and .md).")
        if self.unreadable:
            shown = "; ".join(self.unreadable[:4]) + (f"; and {len(self.unreadable) - 4} more"
                                                      if len(self.unreadable) > 4 else "")
            lines.append(f"{len(self.unreadable)} text file(s) will be skipped, not being readable text: {shown}.")
        if self.huge:
            lines.append(f"{len(self.huge)} very long file(s) may be cut to their first million characters (max_chars): "
                         f"{', '.join(self.huge[:4])}{' …' if len(self.huge) > 4 else ''}.")
        if self.prompt and not self.labelled:
            lines.append(f"Samples will continue: “{self.prompt}”")
        return "\n".join(lines)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB" if n >= 1e3 else f"{n} bytes"


HUGE_FILE_BYTES = 1_000_000  # past text_folder's default max_chars (a million characters) for most texts
HEAD_BYTES = 4096  # what the scan reads of each file: enough to tell binary, UTF-16 without a BOM, not UTF-8
MAX_FILES_READ = 5000  # a larger folder is judged on its first files (the run reports every one)


def unreadable_texts(files: list[Path]) -> list[str]:
    """``name (why)`` of the files (of the first few thousand) the run will skip, judged from their first bytes
    with the engine's own decoder."""
    from engine.data.textread import decode_bytes

    out = []
    for path in files[:MAX_FILES_READ]:
        try:
            with path.open("rb") as f:
                head = f.read(HEAD_BYTES)
                more = bool(f.read(1))
        except OSError as exc:
            out.append(f"{path.name} (cannot be read: {exc.strerror or exc})")
            continue
        decoded = decode_bytes(head, final=not more)
        if not decoded.ok:
            out.append(f"{path.name} ({decoded.reason})")
    return out


def scan_text_folder(path: str | Path, labelled: bool) -> TextFolderScan:
    """Look at a folder the way ``text_folder`` will (names and sizes; one file's start for a prompt); never raises."""
    from engine.data.text_checks import folder_problem, is_text_file, list_text_folder
    from engine.data.textread import read_text_file

    root = Path(path).expanduser()
    if not str(path).strip():
        return TextFolderScan(root, labelled, error="Choose a folder of text files.")
    if not root.is_dir():
        return TextFolderScan(root, labelled, error=f"'{root}' is not a folder.")
    layout = "classes" if labelled else "flat"
    try:
        listing = list_text_folder(root, layout)
        scan = TextFolderScan(root, labelled, classes=list(listing.classes),
                              engine_problem=folder_problem(listing, layout) or "")
        texts = [(p, cls) for p, cls in listing.files if is_text_file(p)]
        scan.loose_texts = sum(1 for p in listing.stray if is_text_file(p))
        scan.text_files = len(texts)
        scan.other_files = len(listing.files) - len(texts) + len(listing.stray) - scan.loose_texts
        for p, cls in texts:
            if cls >= 0:
                name = listing.classes[cls]
                scan.texts_per_class[name] = scan.texts_per_class.get(name, 0) + 1
            size = p.stat().st_size
            scan.text_bytes += size
            if size > HUGE_FILE_BYTES:
                scan.huge.append(p.name)
        scan.unreadable = unreadable_texts([p for p, _ in texts])
    except OSError as exc:
        return TextFolderScan(root, labelled, error=f"'{root}' could not be read: {exc.strerror or exc}")
    if texts and not labelled:
        first = read_text_file(texts[0][0], PROMPT_READ_CHARS)
        scan.prompt = prompt_from_text(first.text or "")
    return scan
