"""Tidy layout: columns by depth in the graph, rows ordered to keep links short."""

from __future__ import annotations

from engine.workflow import Workflow

COLUMN, ROW_GAP = 250.0, 40.0


def tidy_positions(wf: Workflow, heights: dict[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """Positions for every node: a node sits one column right of its deepest input.

    Within a column, nodes are ordered by the mean row of what feeds them, so
    links mostly run straight; columns are centred vertically on each other.
    """
    heights = heights or {}
    ids = [n.id for n in wf.nodes]
    depth: dict[str, int] = {}

    def level(node_id: str, trail: frozenset[str] = frozenset()) -> int:
        if node_id in depth:
            return depth[node_id]
        if node_id in trail:
            return 0  # a cycle: validation reports it; layout just stops
        parents = [lk.source.node for lk in wf.links_into(node_id) if lk.source.node in ids]
        value = 1 + max((level(p, trail | {node_id}) for p in parents), default=-1)
        depth[node_id] = value
        return value

    for node_id in ids:
        level(node_id)
    columns: dict[int, list[str]] = {}
    for node_id in ids:
        columns.setdefault(depth[node_id], []).append(node_id)
    row_of: dict[str, float] = {}
    positions: dict[str, tuple[float, float]] = {}
    for col in sorted(columns):
        members = columns[col]

        def barycentre(node_id: str) -> float:
            rows = [row_of[lk.source.node] for lk in wf.links_into(node_id) if lk.source.node in row_of]
            return sum(rows) / len(rows) if rows else float(ids.index(node_id))

        members.sort(key=barycentre)
        sizes = [heights.get(m, 120.0) for m in members]
        total = sum(sizes) + ROW_GAP * (len(members) - 1)
        y = -total / 2
        for i, (node_id, size) in enumerate(zip(members, sizes, strict=True)):
            row_of[node_id] = i
            positions[node_id] = (col * COLUMN, round(y))
            y += size + ROW_GAP
    return positions


def needs_layout(wf: Workflow) -> bool:
    """True when positions are missing or pile up (an imported or generated workflow)."""
    seen = {tuple(n.position) for n in wf.nodes}
    return len(wf.nodes) > 1 and len(seen) < len(wf.nodes)
