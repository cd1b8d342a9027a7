"""A CSV file's bytes -> its header and rows, saying plainly when the file is not a text table.

Real "CSV" files are sometimes an Excel workbook renamed, a UTF-16 export or
a Windows-1252 file from an old spreadsheet.  Decoding with
``errors="replace"`` would turn every accented letter into U+FFFD, silently
merging labels such as ``café`` and ``cafè`` into one class; so this module
decodes strictly and, when a file is not UTF-8, accepts Windows-1252 only
when the result reads as Western European text and no part of the file is
UTF-8 (a file mixing both reads wrong either way).  Anything else is refused
with the file, the byte offset and what to do.

Torch-free on purpose: the preflight reads the head of a table with it before
any node runs.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: File ▸ Save As ▸ CSV UTF-8) and try again"
SNIFF_BYTES = 64 * 1024

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
BINARY_MAGIC = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive",
     "open it in Excel and save it as CSV UTF-8"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)", "open it in Excel and save it as CSV UTF-8"),
    (b"%PDF", "a PDF document", "export the table from its source as CSV"),
    (b"\x89PNG", "a PNG image", "use an image_folder node for images"),
    (b"\xff\xd8\xff", "a JPEG image", "use an image_folder node for images"),
    (b"GIF8", "a GIF image", "use an image_folder node for images"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"SQLite format 3\x00", "an SQLite database", "export the table as CSV"),
    (b"PAR1", "a Parquet file", "convert it to CSV"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\f")
# Non-ASCII characters a Western European table plausibly holds, beyond the Latin-1 letters.
_CP1252_SYMBOLS = frozenset("€£¥¢°±µ§©®™«»‘’“”–—…•·¿¡²³¹½¼¾×÷¬¦¨´¸ªº¯\u00a0")
_CP1252_LETTERS = frozenset("ŒœŠšŽžŸ")
# A well-formed UTF-8 sequence of two to four bytes; Windows-1252 text almost never holds one.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


class TableError(ValueError):
    """A problem with the table the user must fix; the text says which and how."""


@dataclass
class TableText:
    """A decoded table and how it was decoded (recorded in the data report)."""

    header: list[str]
    rows: list[list[str]]
    encoding: str  # "utf-8", "utf-8 (BOM)", "utf-16", "utf-32" or "cp1252"
    replacement_chars: int = 0  # U+FFFD already in the file: an earlier conversion lost letters


def is_missing(value: str) -> bool:
    return value.strip().lower() in MISSING_TOKENS


def binary_reason(raw: bytes, name: str) -> str | None:
    """Why ``raw`` (the start of ``name``) is not a text CSV file, or None when it looks like text."""
    sample = raw[:SNIFF_BYTES]
    if any(sample.startswith(bom) for bom, _ in _BOMS):
        return None
    for magic, what, todo in BINARY_MAGIC:
        if sample.startswith(magic):
            return f"{name} is not a text CSV file (it looks like {what}) — {todo}"
    if b"\0" in sample:
        if looks_like_bomless_utf16(sample):
            return f"{name} looks like UTF-16 text without a byte-order mark — {SAVE_AS_UTF8}"
        return f"{name} is not a text CSV file (it looks binary) — export the table as CSV text (comma-separated)"
    controls = sum(1 for b in sample if (b < 32 and b not in _TEXT_CONTROLS) or b == 127)
    if sample and controls > 0.05 * len(sample):
        return f"{name} is not a text CSV file (it looks binary) — export the table as CSV text (comma-separated)"
    return None


def looks_like_bomless_utf16(sample: bytes) -> bool:
    """ASCII text in UTF-16 has a NUL in every other byte."""
    half = len(sample) // 2
    if half < 2:
        return False
    odd = sum(1 for b in sample[1::2] if b == 0)
    even = sum(1 for b in sample[0::2] if b == 0)
    return max(odd, even) > 0.4 * half and min(odd, even) < 0.05 * half


def decode_table_bytes(raw: bytes, name: str, final: bool = True) -> tuple[str, str]:
    """``raw`` as text and the encoding used; :class:`TableError` when it cannot be read unambiguously.

    ``final=False`` decodes the head of a larger file: a character cut in two
    at the end is not an error.
    """
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            label = "utf-8 (BOM)" if codec == "utf-8-sig" else codec
            try:
                return _decode(raw, codec, final), label
            except UnicodeDecodeError as exc:
                raise TableError(
                    f"{name} starts with a {label} byte-order mark but byte {exc.start} does not fit it "
                    f"({_where(raw, exc.start)}) — {SAVE_AS_UTF8}"
                ) from None
    try:
        return _decode(raw, "utf-8", final), "utf-8"
    except UnicodeDecodeError as exc:
        bad = exc.start
    if _UTF8_MULTIBYTE.search(raw):
        raise TableError(
            f"{name} mixes UTF-8 with another encoding: byte 0x{raw[bad]:02X} at offset {bad} ({_where(raw, bad)}) "
            f"is not UTF-8 while other accented letters are — {SAVE_AS_UTF8}"
        )
    text = _plausible_cp1252(raw)
    if text is not None:
        return text, "cp1252"
    raise TableError(
        f"{name} is not UTF-8 text: byte 0x{raw[bad]:02X} at offset {bad} ({_where(raw, bad)}) cannot be read, "
        f"and the file does not read unambiguously as Windows-1252 either — {SAVE_AS_UTF8}"
    )


def _decode(raw: bytes, codec: str, final: bool) -> str:
    return codecs.getincrementaldecoder(codec)(errors="strict").decode(raw, final=final)


def _where(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    return f"line {line}"


def _plausible_cp1252(raw: bytes) -> str | None:
    """The text in Windows-1252 (a superset of Latin-1's letters) if it reads as Western European text.

    Any byte string decodes in Latin-1, so decoding alone proves nothing: a
    Cyrillic or Chinese file would come out as accented gibberish.  Such text
    shows itself as runs of accented letters or symbols no table uses; Western
    European words have at most two accented letters in a row.
    """
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    run = letters = accented = 0
    for ch in text:
        if ch < "\x80":
            run = 0
            letters += ch.isalpha()
            continue
        if ch in _CP1252_SYMBOLS:
            run = 0
            continue
        if not (ch in _CP1252_LETTERS or ("\u00c0" <= ch <= "\u00ff" and unicodedata.category(ch).startswith("L"))):
            return None
        letters += 1
        accented += 1
        run += 1
        if run >= 3:
            return None
    return text if accented <= 0.3 * max(letters, 1) else None


def parse_table(text: str, name: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of decoded CSV text (delimiter sniffed among , ; tab |); blank lines are skipped."""
    if not text.strip():
        raise TableError(f"{name} is empty — give a CSV file with a header row and one row per sample")
    try:
        dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
    except csv.Error as exc:
        raise TableError(f"{name}, line {reader.line_num}: {exc} — check the quoting on that line") from None
    # A blank name (a trailing separator, as spreadsheets often write) gets its position, so it cannot clash.
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(rows[0])]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise TableError(f"{name}: column name(s) {', '.join(dup)} appear more than once in the header — rename them")
    width = len(header)
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    return header, body


HEAD_BYTES = 1 << 20  # a preflight reads this much of a CSV: header, encoding, and the whole of small tables


def read_table_head(path: Path, limit: int = HEAD_BYTES) -> tuple[TableText, bool]:
    """The first ``limit`` bytes of a CSV, parsed; True when that was the whole file.  Raises TableError."""
    with path.open("rb") as f:
        raw = f.read(limit + 1)
    complete = len(raw) <= limit
    return read_table_bytes(raw[:limit], path.name, complete), complete


def read_table_bytes(raw: bytes, name: str, complete: bool = True) -> TableText:
    """Sniff, decode and parse a CSV; ``complete=False`` for the head of a larger file (its last line is dropped)."""
    reason = binary_reason(raw, name)
    if reason:
        raise TableError(reason)
    text, encoding = decode_table_bytes(raw, name, final=complete)
    if not complete:
        text = text[: text.rfind("\n") + 1] or text
    header, rows = parse_table(text, name)
    if complete and not rows:
        raise TableError(f"{name} has a header but no rows — add one row per sample below the header")
    return TableText(header, rows, encoding, text.count("\ufffd"))


def require_target(name: str, header: list[str], rows: list[list[str]], target: str, complete: bool = True) -> int:
    """The target column's index; :class:`TableError` when it is absent or, in a complete table, empty."""
    if target not in header:
        close = difflib.get_close_matches(target, header, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        raise TableError(f"{name} has no column '{target}'{hint} (columns: {', '.join(header)})")
    t = header.index(target)
    if complete and all(is_missing(r[t]) for r in rows):
        raise TableError(f"column '{target}' of {name} is empty in every row — pick a column with the class")
    return t
