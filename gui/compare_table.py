"""The comparison table: one column per run (or per group of seeds), one row per setting or score.

It only lays out what :class:`engine.compare.Comparison` computed.  Built to
stay readable with dozens of runs: columns keep a readable width and scroll
sideways instead of shrinking to nothing, run names are elided with the full
name (and folder) in a tooltip, and a pinned baseline's column is starred
while every other column's scores carry their difference from it, green when
better and red when worse (which way is better is the engine's knowledge:
:mod:`engine.metric_direction`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from engine.compare import Comparison
from engine.compare_stats import ScoreDelta, SeedGroup, baseline_deltas
from gui.theme import colors

STRETCH_UP_TO = 6  # columns; more runs get a fixed readable width and a horizontal scroll bar
COLUMN_WIDTH = 132  # px per run when there are many
BASELINE_MARK = "★ "


def distinct_short(labels: list[str], elide: Callable[[str, Qt.TextElideMode], str]) -> list[str]:
    """Labels shortened by ``elide`` so they still tell the runs apart.

    Run folders share a workflow slug at the end ("20261201-101500-classify-digits")
    and a sweep's trials share a long start: a suffix common to all is dropped
    (when something is left), then the elision (right, middle or left) that keeps
    the most labels distinct wins.
    """
    stems = _without_common_suffix(labels)
    too_long = [i for i, stem in enumerate(stems) if elide(stem, Qt.ElideRight) != stem]
    if len(too_long) > 1:  # the names that must be shortened may share an ending the short ones do not
        for i, stem in zip(too_long, _without_common_suffix([stems[i] for i in too_long]), strict=True):
            stems[i] = stem
    best: list[str] = []
    for mode in (Qt.ElideRight, Qt.ElideMiddle, Qt.ElideLeft):
        texts = [elide(stem, mode) for stem in stems]
        if len(set(texts)) > len(set(best)):
            best = texts
    return best


def _without_common_suffix(labels: list[str]) -> list[str]:
    """``labels`` less the ending they all share, cut at a separator ("…-101500-classify" keeps its time)."""
    suffix = os.path.commonprefix([label[::-1] for label in labels])[::-1] if len(labels) > 1 else ""
    seps = [i for i, c in enumerate(suffix) if c in "-_."]  # not a space: a group's " +2" must stay
    cut = suffix[seps[0]:] if seps else ""
    return [label[: len(label) - len(cut)] if cut and len(label) > len(cut) else label for label in labels]


def elide_chars(limit: int) -> Callable[[str, Qt.TextElideMode], str]:
    """An elider by characters (for rich text, where a width in pixels is not at hand)."""
    def elide(text: str, mode: Qt.TextElideMode) -> str:
        if len(text) <= limit:
            return text
        keep = limit - 1
        if mode == Qt.ElideRight:
            return text[:keep] + "…"
        if mode == Qt.ElideLeft:
            return "…" + text[-keep:]
        return text[: keep // 2] + "…" + text[-(keep - keep // 2):]
    return elide


def better_worse_colors() -> tuple[str, str]:
    """Foreground colours of an improvement and a regression (readable on the theme's table background)."""
    return ("#69db7c", "#ff8787") if colors().dark else ("#2b8a3e", "#c92a2a")


@dataclass
class TableView:
    """What the table shows: the options the dialog's controls set."""

    differences_only: bool = True
    group_seeds: bool = False
    baseline: int | None = None  # index of the baseline run in comparison.runs


def group_of(groups: list[SeedGroup], run_index: int, comparison: Comparison) -> int:
    """The index of the group holding run number ``run_index``."""
    run = comparison.runs[run_index]
    return next(i for i, g in enumerate(groups) if any(r is run for r in g.runs))


def fill_table(table: QTableWidget, comparison: Comparison, view: TableView) -> list[str]:
    """Lay ``comparison`` out in ``table`` as ``view`` says; returns the full label of each column."""
    if view.group_seeds:
        groups = comparison.seed_groups()
        rows = comparison.group_rows(groups, differences_only=view.differences_only)
        labels = [g.label for g in groups]
        tips = ["\n".join(str(r.run_dir) for r in g.runs) for g in groups]
        base = None if view.baseline is None else group_of(groups, view.baseline, comparison)
        deltas = {} if base is None else baseline_deltas(comparison.score_keys, [g.means for g in groups], base)
    else:
        rows = comparison.rows(differences_only=view.differences_only)
        labels = [r.label for r in comparison.runs]
        tips = [str(r.run_dir) for r in comparison.runs]
        base = view.baseline
        deltas = {} if base is None else comparison.baseline_deltas(base)
    table.clear()
    table.setRowCount(len(rows))
    table.setColumnCount(len(labels))
    _set_headers(table, labels, tips, base)
    table.setVerticalHeaderLabels([name for _section, name, _values in rows])
    highlight = QBrush(QColor("#5c4a00" if colors().dark else "#fff3bf"))
    bold = QFont()
    bold.setBold(True)
    better, worse = (QBrush(QColor(c)) for c in better_worse_colors())
    for i, (section, name, values) in enumerate(rows):
        row_deltas = deltas.get(name) if section == "score" else None
        for j, text in enumerate(values):
            delta: ScoreDelta | None = row_deltas[j] if row_deltas else None
            item = QTableWidgetItem(f"{text}  ({delta.text})" if delta else text)
            if section == "changed":
                item.setBackground(highlight)
                item.setFont(bold)
                item.setToolTip("This setting differs between the runs")
            elif delta is not None:
                if delta.better is not None:
                    item.setForeground(better if delta.better else worse)
                item.setToolTip(f"{delta.text} against the baseline {labels[base]}"
                                + ("" if delta.better is None else " (better)" if delta.better else " (worse)"))
            if j == base and section == "score":
                item.setFont(bold)
            table.setItem(i, j, item)
    return labels


def _set_headers(table: QTableWidget, labels: list[str], tips: list[str], base: int | None) -> None:
    """Column headers elided to the column width, the whole name and folder in the tooltip."""
    header = table.horizontalHeader()
    many = len(labels) > STRETCH_UP_TO
    header.setSectionResizeMode(QHeaderView.Interactive if many else QHeaderView.Stretch)
    header.setTextElideMode(Qt.ElideMiddle)
    metrics = QFontMetrics(header.font())
    room = COLUMN_WIDTH - 14 - metrics.horizontalAdvance(BASELINE_MARK)
    short = distinct_short(labels, lambda text, mode: metrics.elidedText(text, mode, room)) if many else labels
    for j, (label, tip) in enumerate(zip(labels, tips, strict=True)):
        full = (BASELINE_MARK if j == base else "") + label
        item = QTableWidgetItem((BASELINE_MARK if j == base else "") + short[j])
        item.setToolTip(f"{full}\n{tip}" + ("\n(the baseline: other runs' scores show their difference from it)"
                                           if j == base else "\nRight-click: use as baseline"))
        table.setHorizontalHeaderItem(j, item)
        if many:
            table.setColumnWidth(j, COLUMN_WIDTH)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
