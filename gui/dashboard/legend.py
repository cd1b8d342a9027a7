"""How the curves are told apart: their colours, and each plot's header row that names them.

Each plot's legend is its header row (the title, then one coloured entry per
curve), never a box inside the plot: a box over the view covers the very
curves it names as soon as they reach that corner, and its colours would need
a second theme of their own.  The palette is shared with the comparison view
(:mod:`gui.compare`), so one run's colours read the same everywhere.
"""

from __future__ import annotations

SERIES_COLORS = ("#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#c77700", "#0ca678", "#e03131", "#5c7cfa")  # >= 3:1 on both plot backgrounds
LEGEND_ONE_LINE = 30  # characters; a longer header puts the curves' names on a second line


def legend_html(group: str, entries: list[tuple[str, str, bool]], fg: str) -> str:
    """``group`` in bold, then "━ label" per curve in its colour (╌ for a dashed, overlaid run)."""
    from html import escape

    parts = [f"<span style='color:{color}'>{'╌' if dashed else '━'}&nbsp;{escape(label)}</span>"
             for label, color, dashed in entries]
    head = f"<b style='color:{fg}'>{escape(group)}</b>"
    if not parts:
        return head
    plain = len(group) + sum(len(label) + 4 for label, _c, _d in entries)
    sep = "<br>" if plain > LEGEND_ONE_LINE else "&nbsp;&nbsp;&nbsp;"
    return head + sep + "&nbsp;&nbsp;".join(parts)
