"""Reading text files: the encodings Loom accepts, and the texts ``loom predict`` is given.

Text is decoded as UTF-8 (a byte-order mark is dropped), or as UTF-16/32 when
a byte-order mark says so.  Anything else is reported with the file and the
reason, never read with replacement characters: a classifier fed mojibake
learns mojibake.
"""

from __future__ import annotations

import codecs
from pathlib import Path

TEXT_SUFFIXES = (".txt", ".text", ".md")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(raw: bytes) -> tuple[str | None, str]:
    """(text, encoding) or (None, why it is not readable text)."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}) — save it as UTF-8"
    if "\x00" in text:
        return None, "binary content, not text"
    return text, encoding


def read_prediction_texts(args: list[str], literal: list[str], text_columns: list[str]
                          ) -> tuple[list[str], list[str], list[str]]:
    """(names, texts, skipped) from literal texts, CSV files (their ``text_columns``) and .txt files or folders."""
    from engine.errors import UserInputError

    names = [f"--text {i}" for i in range(1, len(literal) + 1)]
    texts = list(literal)
    skipped: list[str] = []
    for item in args:
        path = Path(item).expanduser()
        if path.is_dir():
            files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES)
            if not files:
                raise UserInputError(f"{path}: the folder holds no text files ({', '.join(TEXT_SUFFIXES)})")
        elif path.is_file():
            files = [path]
        else:
            raise UserInputError(f"{path}: no such file or folder")
        for f in files:
            if f.suffix.lower() == ".csv":
                for i, text in enumerate(csv_texts(f, text_columns), 2):
                    names.append(f"{f}:row {i}")
                    texts.append(text)
                continue
            text, why = decode_text(f.read_bytes())
            if text is None:
                skipped.append(f"{f}: {why}")
            else:
                names.append(str(f))
                texts.append(text)
    if not texts and not skipped:
        raise UserInputError("nothing to classify — give text files, folders, a CSV or --text \"...\"")
    return names, texts, skipped


def csv_texts(path: Path, text_columns: list[str]) -> list[str]:
    """The text of each row: the named columns joined by a blank line."""
    from engine.data.tables import TableError, read_table
    from engine.errors import UserInputError

    try:
        table = read_table(path)
    except (TableError, OSError) as exc:
        raise UserInputError(f"{path}: {exc}") from None
    missing = [c for c in text_columns if c not in table.header]
    if not text_columns or missing:
        want = ", ".join(text_columns) or "(none recorded)"
        raise UserInputError(f"{path}: the model reads the column(s) {want}, but the file has "
                             f"{', '.join(table.header)} — rename the column or give the texts another way")
    cols = [table.header.index(c) for c in text_columns]
    return ["\n\n".join(row[i] for i in cols if i < len(row) and row[i].strip()) for row in table.rows]
