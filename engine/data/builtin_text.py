"""Built-in text that needs no network: it ships with Python and with PySide6.

* ``ui_languages`` — *which language is this user-interface string in?*  The
  translations of Qt's own interface strings (buttons, menus, dialogs, error
  messages), written by Qt's translators and shipped in the PySide6 wheel as
  ``qtbase_<lang>.qm`` catalogs: 15 languages in the Latin alphabet, 900
  strings each.  Real human-written text; a TF-IDF + logistic-regression
  baseline on words scores about 84 %, so there is something to learn.
  The catalogs are read as bytes (the ``.qm`` format is simple); Qt itself is
  never imported, so the engine stays Qt-free.
* ``python_docs`` — the Python documentation topics in the standard library
  (``pydoc_data.topics``, about 460,000 characters of English), split into
  paragraphs: a corpus for a language model to learn to write from.

Both are deterministic: the same texts and the same splits on every machine
with the same Python and PySide6 (no random numbers are involved).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import struct
from pathlib import Path

import torch

from engine.data.texts import RawTexts
from engine.errors import UserInputError

UI_LANGUAGES = {"ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German", "es": "Spanish", "fi": "Finnish",
                "fr": "French", "hr": "Croatian", "hu": "Hungarian", "it": "Italian", "nl": "Dutch",
                "nn": "Norwegian Nynorsk", "pl": "Polish", "pt_BR": "Portuguese (Brazil)", "tr": "Turkish"}
QM_MAGIC = bytes.fromhex("3cb86418caef9c95cd211cbf60a1bddd")
MESSAGES_SECTION = 0x69
_TAGS = re.compile(r"<[^>]+>")
_LETTERS = re.compile(r"[^\W\d_]{3}")  # a run of three letters: a word, not a code or a number


def read_qm(path: Path) -> list[tuple[str | None, list[str]]]:
    """A Qt ``.qm`` catalog's messages as (English source or None, [translations, plural forms included]).

    The format (qtbase's ``qtranslator.cpp``): a 16-byte magic, then sections
    ``<tag:u8><length:u32 BE><payload>``; in the messages section each message
    is a run of ``<tag:u8>[<length:u32 BE><bytes>]`` items ending with tag 1:
    3 = a translation (UTF-16-BE), 6 = the source (UTF-8), 2/4/7/8 = other text,
    5 = a 4-byte hash, 9 = nothing.
    """
    raw = path.read_bytes()
    if not raw.startswith(QM_MAGIC):
        raise ValueError(f"{path}: not a Qt translation catalog")
    sections: dict[int, bytes] = {}
    p = 16
    while p + 5 <= len(raw):
        (n,) = struct.unpack_from(">I", raw, p + 1)
        sections[raw[p]] = raw[p + 5:p + 5 + n]
        p += 5 + n
    messages, source, translations = [], None, []
    m, p = sections.get(MESSAGES_SECTION, b""), 0
    while p < len(m):
        tag, p = m[p], p + 1
        if tag == 1:
            messages.append((source, translations))
            source, translations = None, []
        elif tag in (2, 3, 4, 6, 7, 8):
            (n,) = struct.unpack_from(">I", m, p)
            p += 4
            if n == 0xFFFFFFFF:  # a null string
                continue
            data, p = m[p:p + n], p + n
            if tag == 3:
                translations.append(data.decode("utf-16-be", "replace"))
            elif tag == 6:
                source = data.decode("utf-8", "replace")
        elif tag == 5:
            p += 4
        elif tag != 9:
            raise ValueError(f"{path}: unknown message tag {tag} at byte {p - 1}")
    return messages


def qt_translations_folder() -> Path:
    """Where the installed PySide6 keeps its catalogs, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    roots = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for root in roots:
        for folder in (root / "Qt" / "translations", root / "translations"):  # Linux/macOS, Windows wheels
            if (folder / "qtbase_de.qm").is_file():
                return folder
    raise UserInputError("the built-in 'ui_languages' texts come from PySide6's translation catalogs "
                         "(qtbase_*.qm), which this installation lacks — reinstall PySide6-Essentials")


def _clean(text: str) -> str:
    text = _TAGS.sub(" ", text).replace("&nbsp;", " ").replace("&", "")  # rich text, "&File" shortcut markers
    return " ".join(text.split())


def ui_languages(per_class: int = 900, min_chars: int = 8) -> RawTexts:
    """Interface strings labelled with their language (see the module doc).

    Per language: every translation, cleaned; strings under ``min_chars``,
    without a word, or equal to their English source are dropped, and so is
    any string found in more than one language ("PostScript"); the rest are
    ordered by the SHA-1 of their text and the first ``per_class`` kept.  The
    i-th kept string of each language is test when i % 10 == 9, validation
    when i % 10 == 4: a stratified 80/10/10 split that needs no random numbers.
    """
    folder = qt_translations_folder()
    by_code: dict[str, set[str]] = {}
    for code in UI_LANGUAGES:
        keep: set[str] = set()
        for source, translations in read_qm(folder / f"qtbase_{code}.qm"):
            english = _clean(source) if source else None
            for t in translations:
                text = _clean(t)
                if len(text) >= min_chars and _LETTERS.search(text) and text != english:
                    keep.add(text)
        by_code[code] = keep
    counts: dict[str, int] = {}
    for keep in by_code.values():
        for text in keep:
            counts[text] = counts.get(text, 0) + 1
    classes = sorted(UI_LANGUAGES.values())
    texts, labels, splits = [], [], {"train": [], "val": [], "test": []}
    for code, name in UI_LANGUAGES.items():
        pool = sorted((t for t in by_code[code] if counts[t] == 1),
                      key=lambda t: hashlib.sha1(t.encode("utf-8")).hexdigest())[:per_class]
        for i, text in enumerate(pool):
            splits["test" if i % 10 == 9 else "val" if i % 10 == 4 else "train"].append(len(texts))
            texts.append(text)
            labels.append(classes.index(name))
    report = {"source": f"Qt's interface translations in PySide6 ({folder})", "languages": len(UI_LANGUAGES),
              "per_class": per_class}
    return RawTexts(texts, torch.tensor(labels), classes, name="ui_languages",
                    splits={k: torch.tensor(v, dtype=torch.long) for k, v in splits.items()}, report=report)


def python_docs(min_repeat_chars: int = 80) -> RawTexts:
    """The Python documentation topics as paragraphs (unlabelled), every tenth for validation.

    Topics in sorted order, split at blank lines; a paragraph of at least
    ``min_repeat_chars`` characters that appeared before (the topics repeat
    some sections) is dropped, so validation text is not training text.
    """
    from pydoc_data.topics import topics

    seen: set[str] = set()
    paragraphs: list[str] = []
    for key in sorted(topics):
        for para in re.split(r"\n[ \t]*\n", topics[key].replace("\r\n", "\n")):
            para = para.strip("\n")
            if not para.strip() or (len(para) >= min_repeat_chars and para in seen):
                continue
            seen.add(para)
            paragraphs.append(para)
    val = [i for i in range(len(paragraphs)) if i % 10 == 9]
    train = [i for i in range(len(paragraphs)) if i % 10 != 9]
    report = {"source": "the Python documentation topics (pydoc_data.topics)",
              "characters": sum(len(p) for p in paragraphs)}
    return RawTexts(paragraphs, None, [], name="python_docs", report=report,
                    splits={"train": torch.tensor(train, dtype=torch.long), "val": torch.tensor(val, dtype=torch.long),
                            "test": torch.zeros(0, dtype=torch.long)})


BUILTIN_TEXTS = {"ui_languages": ui_languages, "python_docs": python_docs}
