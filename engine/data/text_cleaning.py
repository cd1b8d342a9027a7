"""Cleaning texts from any source, with a report of everything it did.

Sources (a CSV, a folder) turn what they read into :class:`TextItem`s — a
name a person can find (``row 12``, ``neg/review3.txt``), the text and its
class — and list what they could not read in :class:`TextCleaning`.  Then
:func:`clean_items` drops empty texts and exact duplicates and cuts overlong
texts, counting each, and :func:`assemble` makes the :class:`RawTexts` with
its classes and seeded, stratified splits.  Every count and name lands in
the node's report (run.json) and the log; nothing here raises for a bad text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch

from engine.data.splits import stratified_split
from engine.data.textread import clean_text
from engine.data.texts import RawTexts

LISTED = 200  # rows/files named per list in the report (the counts are always complete)
EXAMPLES_PER_CLASS = 3
EXAMPLE_CHARS = 300


@dataclass
class TextItem:
    """One text as read: where it came from, the text, its class name (None when unlabelled)."""

    name: str
    text: str
    label: str | None = None
    truncated: bool = False  # already cut while reading (a file longer than max_chars)


@dataclass
class TextCleaning:
    """What reading and cleaning did; becomes the node's report in run.json."""

    max_chars: int
    read: int = 0  # texts looked at (rows or files that could be read)
    empty: list[str] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)  # {text, same_as}
    other_label_duplicates: int = 0  # duplicates whose class differed from the text kept
    truncated: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {file, reason, detail}: could not be read
    empty_classes: list[str] = field(default_factory=list)  # class folders without a file, left out
    unusable_classes: list[str] = field(default_factory=list)  # classes whose every text was dropped
    missing_labels: list[str] = field(default_factory=list)  # rows without a class, dropped
    encodings: dict[str, int] = field(default_factory=dict)

    def skip(self, name: str, reason: str, detail: str = "") -> None:
        self.skipped.append({"file": name, "reason": reason, "detail": detail})

    def to_json(self) -> dict[str, Any]:
        by_reason: dict[str, int] = {}
        for s in self.skipped:
            by_reason[s["reason"]] = by_reason.get(s["reason"], 0) + 1
        return {
            "texts_read": self.read,
            "empty_texts": len(self.empty),
            "empty_text_items": self.empty[:LISTED],
            "duplicates": len(self.duplicates),
            "duplicate_items": self.duplicates[:LISTED],
            "duplicates_with_other_label": self.other_label_duplicates,
            "truncated": len(self.truncated),
            "truncated_items": self.truncated[:LISTED],
            "max_chars": self.max_chars,
            "missing_labels": len(self.missing_labels),
            "skipped": list(self.skipped),
            "skipped_count": len(self.skipped),
            "skipped_by_reason": by_reason,
            "empty_class_folders": list(self.empty_classes),
            "classes_without_texts": list(self.unusable_classes),
            "encodings": dict(self.encodings),
        }

    def warnings(self, limit: int = 20) -> list[str]:
        """The log's warning lines: each unreadable file (up to ``limit``), then one line per count."""
        lines = [f"skipped {s['file']}: {s['reason']}" + (f" ({s['detail']})" if s["detail"] else "")
                 for s in self.skipped[:limit]]
        if len(self.skipped) > limit:
            lines.append(f"... and {len(self.skipped) - limit} more skipped files (all listed in run.json)")
        lines += [f"class folder '{name}' holds no files — it was left out" for name in self.empty_classes]
        lines += [f"class '{name}' has no usable texts (every one was skipped, empty or a duplicate) — it was left "
                  "out" for name in self.unusable_classes]
        if self.missing_labels:
            lines.append(f"dropped {len(self.missing_labels)} text(s) without a class ({_some(self.missing_labels)})")
        if self.empty:
            lines.append(f"dropped {len(self.empty)} empty text(s) ({_some(self.empty)})")
        if self.duplicates:
            other = (f", {self.other_label_duplicates} of them with another class than the copy kept"
                     if self.other_label_duplicates else "")
            lines.append(f"dropped {len(self.duplicates)} exact duplicate text(s){other}")
        if self.truncated:
            lines.append(f"cut {len(self.truncated)} text(s) longer than {self.max_chars:,} characters "
                         f"({_some(self.truncated)}) — raise max_chars to keep more of them")
        return lines


def _some(names: list[str], n: int = 3) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def clean_items(items: Iterable[TextItem], report: TextCleaning, dedupe: bool = True,
                labelled: bool = True) -> list[TextItem]:
    """Drop empty and (with ``dedupe``) exactly repeated texts, cut overlong ones; count each in ``report``."""
    kept: list[TextItem] = []
    seen: dict[str, TextItem] = {}
    for item in items:
        report.read += 1
        if labelled and item.label is None:
            report.missing_labels.append(item.name)
            continue
        text = clean_text(item.text)
        if not text:
            report.empty.append(item.name)
            continue
        if len(text) > report.max_chars:
            text, item.truncated = text[:report.max_chars], True
        if item.truncated:
            report.truncated.append(item.name)
        if dedupe:
            first = seen.get(text)
            if first is not None:
                report.duplicates.append({"text": item.name, "same_as": first.name})
                report.other_label_duplicates += first.label != item.label
                continue
        cleaned = TextItem(item.name, text, item.label if labelled else None, item.truncated)
        if dedupe:
            seen[text] = cleaned
        kept.append(cleaned)
    return kept


def assemble(items: list[TextItem], classes: list[str], report: TextCleaning, *, name: str,
             fractions: tuple[float, float, float], seed: int, source: dict[str, Any]) -> RawTexts:
    """Cleaned items -> :class:`RawTexts` with contiguous labels and seeded, stratified splits.

    ``classes`` is every class the source knew, in order; those left without
    a text are dropped and named in the report.  Unlabelled when ``classes`` is empty.
    """
    labels = None
    kept_classes: list[str] = []
    if classes:
        present = {item.label for item in items}
        kept_classes = [c for c in classes if c in present]
        report.unusable_classes += [c for c in classes if c not in present]
        index = {c: k for k, c in enumerate(kept_classes)}
        labels = torch.tensor([index[str(item.label)] for item in items], dtype=torch.long)
    splits = stratified_split(labels, len(items), fractions, seed)
    return RawTexts(texts=[item.text for item in items], labels=labels, classes=kept_classes, name=name,
                    splits=splits, source=dict(source))


def class_order(values: Iterable[str]) -> list[str]:
    """Distinct class names, sorted; names that are all numbers sort numerically ('2' before '10')."""
    uniq = sorted(set(values))
    try:
        return sorted(uniq, key=float)
    except ValueError:
        return uniq


def shorten(text: str, limit: int = EXAMPLE_CHARS) -> str:
    """A text for a preview: one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


def examples(data: RawTexts, per_class: int = EXAMPLES_PER_CLASS, max_classes: int = 10) -> list[dict[str, str]]:
    """A few training texts of each class (or of the whole set, unlabelled), shortened, for the preview."""
    train = data.split("train").tolist()
    if data.labels is None:
        return [{"class": "", "text": shorten(data.texts[i])} for i in train[:per_class * 2]]
    out = []
    for k, cls in enumerate(data.classes[:max_classes]):
        mine = [i for i in train if int(data.labels[i]) == k][:per_class]
        out += [{"class": cls, "text": shorten(data.texts[i])} for i in mine]
    return out


def preview_text(data: RawTexts, shown: list[dict[str, str]]) -> str:
    """The preview as a person reads it: counts per class, then the example texts."""
    lines = [f"{data.name}: {len(data)} texts" + (f", {data.num_classes} classes" if data.labels is not None
                                                 else " (unlabelled)")]
    if data.labels is not None:
        counts = torch.bincount(data.labels, minlength=data.num_classes).tolist()
        lines += [f"  {cls}: {n}" for cls, n in zip(data.classes, counts, strict=True)]
    lines.append("")
    lines += [f"[{ex['class']}] {ex['text']}" if ex["class"] else ex["text"] for ex in shown]
    return "\n".join(lines) + "\n"
