"""The open workflow: the engine's plain Workflow plus an undo stack and a file path.

This is the model of the model/view split (as in orange-canvas-core): the
:class:`~engine.workflow.Workflow` stays Qt-free and is exactly what gets
saved and run; this wrapper turns edits into undoable commands and announces
every change with a signal that the scene, inspector and validator follow.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.ports import accepts, why_not
from engine.workflow import Endpoint, Link, Node, Workflow
from gui import commands as cmd

CLIPBOARD_MIME = "application/x-loom-nodes"


class WorkflowDocument(QObject):
    node_added = Signal(str)
    node_removed = Signal(str)
    node_moved = Signal(str)
    params_changed = Signal(str)
    link_added = Signal(object)
    link_removed = Signal(object)
    reset = Signal()  # the whole workflow was replaced
    changed = Signal()  # anything changed (validation, autosave and title follow this)
    path_changed = Signal()
    name_changed = Signal()  # the workflow took a new name (Save As)

    def __init__(self, catalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.workflow = Workflow()
        self.path: Path | None = None
        self.undo_stack = QUndoStack(self)

    # -- document level --------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def set_workflow(self, workflow: Workflow, path: str | Path | None = None) -> None:
        """Replace the document (New, Open, a wizard); clears the undo history."""
        self.undo_stack.clear()
        self.workflow = workflow
        self.path = Path(path) if path else None
        self.undo_stack.setClean()
        self.reset.emit()
        self.path_changed.emit()
        self.changed.emit()

    def save(self, path: str | Path | None = None, rename: bool = False) -> Path:
        """Write the workflow; ``rename`` (Save As) names it after the file first.

        The name is what runs and the run index are called by, so after *Save As my_digits.json* the next
        run is a ``my_digits`` run, not one named after the example the workflow started from.
        """
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no path to save to")
        old_name = self.workflow.name
        if rename and target.stem:
            self.workflow.name = target.stem
        try:
            self.workflow.save(target)
        except BaseException:
            self.workflow.name = old_name  # nothing was saved: nothing was renamed
            raise
        if self.workflow.name != old_name:
            self.name_changed.emit()
        if target != self.path:
            self.path = target
            self.path_changed.emit()
        self.undo_stack.setClean()
        return target

    # -- edits (undoable) ---------------------------------------------------------
    def new_node_id(self, step_type: str) -> str:
        spec = self.catalog.get(step_type)
        base = "data" if spec is not None and spec.category == "data" else step_type
        return self.workflow.unique_id(base)

    def add_node(self, step_type: str, position: tuple[float, float]) -> str:
        node = Node(self.new_node_id(step_type), step_type, {}, (float(position[0]), float(position[1])))
        self.undo_stack.push(cmd.AddNode(self, node))
        return node.id

    def remove(self, node_ids: list[str], links: list[Link] = ()) -> None:
        node_ids = [n for n in node_ids if self.workflow.node(n)]
        links = [lk for lk in links if lk in self.workflow.links and lk.source.node not in node_ids
                 and lk.target.node not in node_ids]
        if not node_ids and not links:
            return
        macro = cmd.Macro(f"Delete {len(node_ids) + len(links)} item(s)")
        for link in links:
            macro.add(cmd.RemoveLink(self, link))
        for node_id in node_ids:
            macro.add(cmd.RemoveNode(self, node_id))
        self.undo_stack.push(macro)

    def link_problem(self, source: Endpoint, target: Endpoint) -> str:
        """Why ``source`` may not feed ``target`` (empty when it may)."""
        src_node, dst_node = self.workflow.node(source.node), self.workflow.node(target.node)
        if src_node is None or dst_node is None:
            return "that node no longer exists"
        if source.node == target.node:
            return "a step cannot feed itself"
        src_spec, dst_spec = self.catalog.get(src_node.type), self.catalog.get(dst_node.type)
        out = src_spec.output(source.port) if src_spec else None
        inp = dst_spec.input(target.port) if dst_spec else None
        if out is None or inp is None:
            return "unknown port"
        if not accepts(inp.type, out.type):
            return why_not(inp.type, out.type)
        if self._reaches(target.node, source.node):
            return "that link would make a loop"
        return ""

    def _reaches(self, start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current in seen:
                continue
            seen.add(current)
            stack.extend(lk.target.node for lk in self.workflow.links_from(current))
        return False

    def add_link(self, source: Endpoint, target: Endpoint) -> str:
        """Link two ports (replacing what fed the input before); returns the refusal reason or ''."""
        problem = self.link_problem(source, target)
        if problem:
            return problem
        link = Link(source, target)
        if link in self.workflow.links:
            return ""
        macro = cmd.Macro(f"Link {source} → {target}")
        for old in [lk for lk in self.workflow.links if lk.target == target]:
            macro.add(cmd.RemoveLink(self, old))
        macro.add(cmd.AddLink(self, link))
        self.undo_stack.push(macro)
        return ""

    def move_nodes(self, moves: dict[str, tuple[tuple[float, float], tuple[float, float]]], text: str = "Move") -> None:
        moves = {k: v for k, v in moves.items() if v[0] != v[1]}
        if moves:
            self.undo_stack.push(cmd.MoveNodes(self, moves, text))

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        node = self.workflow.node(node_id)
        if node is None or node.params.get(name, object()) == value:
            return
        self.undo_stack.push(cmd.SetParam(self, node_id, name, value))

    # -- clipboard ---------------------------------------------------------------
    def fragment(self, node_ids: list[str]) -> str:
        """JSON of the given nodes and the links among them (the clipboard format)."""
        ids = set(node_ids)
        nodes = [n.to_json() for n in self.workflow.nodes if n.id in ids]
        links = [lk.to_json() for lk in self.workflow.links if lk.source.node in ids and lk.target.node in ids]
        return json.dumps({"nodes": nodes, "links": links})

    def paste(self, text: str, offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Insert a fragment with fresh ids, shifted by ``offset``; returns the new ids."""
        try:
            data = json.loads(text)
            raw_nodes, raw_links = list(data["nodes"]), list(data.get("links", []))
        except (ValueError, KeyError, TypeError):
            return []
        macro = cmd.Macro("Paste")
        renamed: dict[str, str] = {}
        taken = {n.id for n in self.workflow.nodes}
        for raw in raw_nodes:
            base = str(raw["id"]).rstrip("0123456789").rstrip("_") or str(raw["type"])
            new_id, i = base, 2
            while new_id in taken:
                new_id, i = f"{base}_{i}", i + 1
            taken.add(new_id)
            renamed[raw["id"]] = new_id
            x, y = raw.get("position", (0, 0))
            node = Node(new_id, str(raw["type"]), copy.deepcopy(raw.get("params", {})), (x + offset[0], y + offset[1]))
            macro.add(cmd.AddNode(self, node))
        for raw in raw_links:
            src, dst = Endpoint.parse(raw["source"]), Endpoint.parse(raw["target"])
            if src.node in renamed and dst.node in renamed:
                macro.add(cmd.AddLink(self, Link(Endpoint(renamed[src.node], src.port), Endpoint(renamed[dst.node], dst.port))))
        if renamed:
            self.undo_stack.push(macro)
        return list(renamed.values())

    # -- primitive mutations: the undo commands' half of an edit (everything else edits through commands) --
    def apply_add_node(self, node: Node) -> None:
        self.workflow.add_node(node)
        self.node_added.emit(node.id)
        self.changed.emit()

    def apply_remove_node(self, node_id: str) -> tuple[Node, list[Link]]:
        node = copy.deepcopy(self.workflow.node(node_id))
        links = [lk for lk in self.workflow.links if node_id in (lk.source.node, lk.target.node)]
        for link in links:
            self.apply_remove_link(link)
        self.workflow.remove_node(node_id)
        self.node_removed.emit(node_id)
        self.changed.emit()
        return node, links

    def apply_add_link(self, link: Link) -> None:
        if link not in self.workflow.links:
            self.workflow.links.append(link)
            self.link_added.emit(link)
            self.changed.emit()

    def apply_remove_link(self, link: Link) -> None:
        if link in self.workflow.links:
            self.workflow.links.remove(link)
            self.link_removed.emit(link)
            self.changed.emit()

    def apply_position(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.workflow.node(node_id)
        if node is not None:
            node.position = (float(position[0]), float(position[1]))
            self.node_moved.emit(node_id)
            self.changed.emit()

    def apply_param(self, node_id: str, name: str, value: Any, remove: bool = False) -> None:
        node = self.workflow.node(node_id)
        if node is None:
            return
        if remove:
            node.params.pop(name, None)
        else:
            node.params[name] = copy.deepcopy(value)
        self.params_changed.emit(node_id)
        self.changed.emit()
