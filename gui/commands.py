"""Undoable edits of the workflow document.

Every change the analyst makes on the canvas or in the inspector is one of
these commands pushed on the document's ``QUndoStack``; the document applies
it to the engine's plain :class:`~engine.workflow.Workflow` and announces it,
and the scene redraws from those announcements.  Commands hold only data
(ids, positions, values), never graphics items, so undo cannot dangle.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from engine.workflow import Link, Node

if TYPE_CHECKING:
    from gui.document import WorkflowDocument

_UNSET = object()
SET_PARAM_ID = 1001


class Macro(QUndoCommand):
    """A group of commands undone as one step.

    The children are plain Python references, not Qt children: with Qt
    parent pointers, Qt and Python would both believe they own the Python
    subclasses, and undo-stack cleanup could free them twice.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.children_: list[QUndoCommand] = []

    def add(self, command: QUndoCommand) -> QUndoCommand:
        self.children_.append(command)
        return command

    def redo(self) -> None:
        for command in self.children_:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.children_):
            command.undo()


class AddNode(QUndoCommand):
    def __init__(self, doc: WorkflowDocument, node: Node, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Add {node.id}", parent)
        self.doc, self.node = doc, copy.deepcopy(node)

    def redo(self) -> None:
        self.doc.apply_add_node(copy.deepcopy(self.node))

    def undo(self) -> None:
        self.doc.apply_remove_node(self.node.id)


class RemoveNode(QUndoCommand):
    """Removes a node and its links; undo puts both back exactly."""

    def __init__(self, doc: WorkflowDocument, node_id: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Delete {node_id}", parent)
        self.doc, self.node_id = doc, node_id
        self.node: Node | None = None
        self.links: list[Link] = []

    def redo(self) -> None:
        self.node, self.links = self.doc.apply_remove_node(self.node_id)

    def undo(self) -> None:
        assert self.node is not None
        self.doc.apply_add_node(self.node)
        for link in self.links:
            self.doc.apply_add_link(link)


class AddLink(QUndoCommand):
    def __init__(self, doc: WorkflowDocument, link: Link, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Link {link.source} → {link.target}", parent)
        self.doc, self.link = doc, link

    def redo(self) -> None:
        self.doc.apply_add_link(self.link)

    def undo(self) -> None:
        self.doc.apply_remove_link(self.link)


class RemoveLink(QUndoCommand):
    def __init__(self, doc: WorkflowDocument, link: Link, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Unlink {link.source} → {link.target}", parent)
        self.doc, self.link = doc, link

    def redo(self) -> None:
        self.doc.apply_remove_link(self.link)

    def undo(self) -> None:
        self.doc.apply_add_link(self.link)


class MoveNodes(QUndoCommand):
    def __init__(
        self,
        doc: WorkflowDocument,
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        text: str = "Move",
        parent: QUndoCommand | None = None,
    ) -> None:
        super().__init__(text, parent)
        self.doc, self.moves = doc, dict(moves)

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.doc.apply_position(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.doc.apply_position(node_id, old)


class SetParam(QUndoCommand):
    """One parameter edit; consecutive keystrokes in the same field merge into one step."""

    def __init__(self, doc: WorkflowDocument, node_id: str, name: str, value: Any, parent: QUndoCommand | None = None) -> None:
        super().__init__(f"Set {node_id}.{name}", parent)
        self.doc, self.node_id, self.name = doc, node_id, name
        node = doc.workflow.node(node_id)
        self.old = copy.deepcopy(node.params.get(name, _UNSET)) if node else _UNSET
        self.new = copy.deepcopy(value)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetParam) or (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.apply_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        self.doc.apply_param(self.node_id, self.name, None if self.old is _UNSET else self.old, remove=self.old is _UNSET)
