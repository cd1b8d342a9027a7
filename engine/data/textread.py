"""Reading text files: the encodings Loom accepts, and the texts ``loom predict`` is given.

Text is decoded as UTF-8 (a byte-order mark is dropped), or as UTF-16/32 when
a byte-order mark says so.  Anything else is reported with the file and the
reason, never read with replacement characters: a classifier fed mojibake
learns mojibake.  UTF-16 without a byte-order mark is named as such (it is
not guessed: the byte order would be a guess too), and binary files (a PDF
or a picture renamed ``.txt``) are told apart from text in another encoding.

Files are read up to a character limit, never whole: a 50 MB file that is a
single line costs at most four bytes per kept character of memory, and the
text is cut there (the caller counts it as truncated).

Torch-free: the preflight and ``loom predict`` use it before any model loads.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from engine.data.csvtext import BINARY_MAGIC, looks_like_bomless_utf16

TEXT_SUFFIXES = (".txt", ".text", ".md")
SNIFF_BYTES = 64 * 1024  # the start of a file that decides whether it is text at all
PREDICT_MAX_CHARS = 1_000_000  # ``loom predict`` reads no more of one file (a model sees far fewer tokens)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROLS_OK = frozenset("\t\n\r\f\v")

# reasons a file is not read (short, fixed words so reports can be grouped and tested)
NOT_TEXT = "not text"
NOT_UTF8 = "not UTF-8"
UTF16_NO_BOM = "UTF-16 without a byte-order mark"
BAD_BOM = "does not match its byte-order mark"
UNREADABLE = "unreadable"
SAVE_AS_UTF8 = "save it as UTF-8"


@dataclass
class DecodedText:
    """One file's text (``text`` is None when it cannot be read: then ``reason`` and ``detail`` say why)."""

    text: str | None
    encoding: str = ""  # "utf-8", "utf-8 (BOM)", "utf-16", "utf-32"
    reason: str = ""
    detail: str = ""
    truncated: bool = False  # the file held more than the characters asked for

    @property
    def ok(self) -> bool:
        return self.text is not None

    @property
    def why(self) -> str:
        """``reason (detail)``: the reason in one phrase."""
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


def _failed(reason: str, detail: str = "") -> DecodedText:
    return DecodedText(None, reason=reason, detail=detail)


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode_bytes(raw: bytes, final: bool = True) -> DecodedText:
    """Strictly decode a text file's bytes; ``final=False`` when ``raw`` is only its start.

    Never raises: a file that is not text in an accepted encoding comes back
    with its reason.  ``final=False`` lets a character cut in two at the end
    of the chunk pass (it is dropped).
    """
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            label = "utf-8 (BOM)" if codec == "utf-8-sig" else codec
            try:
                text = codecs.getincrementaldecoder(codec)(errors="strict").decode(raw, final=final)
            except UnicodeDecodeError as exc:
                return _failed(BAD_BOM, f"it starts with a {label} byte-order mark, but byte {exc.start} "
                                        f"(line {_line_of(raw, exc.start)}) does not fit it — {SAVE_AS_UTF8}")
            return _checked(text, label)
    sample = raw[:SNIFF_BYTES]
    for magic, what, _ in BINARY_MAGIC:
        if sample.startswith(magic):
            return _failed(NOT_TEXT, f"it looks like {what}")
    if b"\0" in sample:
        if looks_like_bomless_utf16(sample):
            return _failed(UTF16_NO_BOM, "save it as UTF-8, or as UTF-16 with a byte-order mark")
        return _failed(NOT_TEXT, "binary content")
    try:
        text = codecs.getincrementaldecoder("utf-8")(errors="strict").decode(raw, final=final)
    except UnicodeDecodeError as exc:
        return _failed(NOT_UTF8, f"byte 0x{raw[exc.start]:02X} at offset {exc.start} (line "
                                 f"{_line_of(raw, exc.start)}) is not UTF-8 — {SAVE_AS_UTF8}")
    return _checked(text, "utf-8")


def _checked(text: str, encoding: str) -> DecodedText:
    """Decoded text that is still binary (NULs, or mostly control characters) is refused as such."""
    if "\x00" in text:
        return _failed(NOT_TEXT, "binary content")
    head = text[:SNIFF_BYTES]
    controls = sum(1 for ch in head if (ch < " " and ch not in _CONTROLS_OK) or ch == "\x7f")
    if head and controls > 0.05 * len(head):
        return _failed(NOT_TEXT, "binary content (control characters)")
    return DecodedText(text, encoding)


def decode_text(raw: bytes) -> tuple[str | None, str]:
    """(text, encoding) or (None, why it is not readable text)."""
    out = decode_bytes(raw)
    return (out.text, out.encoding) if out.ok else (None, out.why)


def read_text_file(path: Path, max_chars: int) -> DecodedText:
    """The first ``max_chars`` characters of a text file, reading no more bytes than they can take.

    Four bytes a character (plus a byte-order mark) bound every accepted
    encoding, so a huge file costs ``4 * max_chars`` bytes at most; the rest of
    it is never read, and ``truncated`` says there was more.
    """
    limit = 4 * max(1, int(max_chars)) + 4
    try:
        with Path(path).open("rb") as f:
            raw = f.read(limit)
            more = bool(f.read(1))
    except OSError as exc:
        return _failed(UNREADABLE, exc.strerror or type(exc).__name__)
    out = decode_bytes(raw, final=not more)
    if out.text is not None and (more or len(out.text) > max_chars):
        out.text, out.truncated = out.text[:max_chars], True
    return out


def clean_text(text: str) -> str:
    """The text as Loom keeps it: one kind of line break, no blank margins (training and predict alike)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def join_columns(row: list[str], columns: list[int]) -> str:
    """The text of a table row: the non-blank cells of ``columns``, joined by a blank line."""
    return clean_text("\n\n".join(row[i].strip() for i in columns if i < len(row) and row[i].strip()))


def read_prediction_texts(args: list[str], literal: list[str], text_columns: list[str]
                          ) -> tuple[list[str], list[str], list[str]]:
    """(names, texts, skipped) from literal texts, CSV files (their ``text_columns``) and .txt files or folders."""
    from engine.errors import UserInputError

    names = [f"--text {i}" for i in range(1, len(literal) + 1)]
    texts = [clean_text(t) for t in literal]
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
            read = read_text_file(f, PREDICT_MAX_CHARS)
            text = clean_text(read.text) if read.text is not None else None
            if text is None:
                skipped.append(f"{f}: {read.why}")
            elif not text.strip():
                skipped.append(f"{f}: empty (nothing to classify)")
            else:
                names.append(str(f))
                texts.append(text)
    if not texts and not skipped:
        raise UserInputError("nothing to classify — give text files, folders, a CSV or --text \"...\"")
    return names, texts, skipped


def csv_texts(path: Path, text_columns: list[str]) -> list[str]:
    """The text of each row: the named columns joined by a blank line (as ``text_csv`` joined them)."""
    from engine.data.tables import TableError, read_table
    from engine.errors import UserInputError

    try:
        table = read_table(path)
    except (TableError, OSError) as exc:
        raise UserInputError(f"{path}: {exc}") from None
    if not text_columns:  # trained on built-in texts or a folder: no column name to follow
        text_columns = ["text"] if "text" in table.header else table.header[:1] if len(table.header) == 1 else []
        if not text_columns:
            raise UserInputError(f"{path}: this model was not trained from a CSV, so it names no text column — "
                                 f"call the column with the texts 'text' (the file has {', '.join(table.header)}), "
                                 "or give a CSV of one column")
    missing = [c for c in text_columns if c not in table.header]
    if missing:
        raise UserInputError(f"{path}: the model reads the column(s) {', '.join(text_columns)}, but the file has "
                             f"{', '.join(table.header)} — rename the column or give the texts another way")
    cols = [table.header.index(c) for c in text_columns]
    return [join_columns(row, cols) for row in table.rows]
