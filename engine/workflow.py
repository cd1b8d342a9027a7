"""The workflow document: nodes, links and params, saved as versioned JSON.

This module is pure data (no torch, no Qt): the GUI edits these objects, the
runner executes them, and :mod:`engine.validation` checks them.  Files are
read as JSON only, never unpickled, and written atomically.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.fileio import atomic_write_text, parse_json, read_json

SCHEMA_VERSION = 1

# A node id is a name, never a path: it becomes the node's folder in the run folder
# (RUN/<id>/), a `--set id.param=...` prefix and a log tag.
MAX_ID_LENGTH = 64
NODE_ID_RULE = re.compile(rf"[A-Za-z][A-Za-z0-9_-]{{0,{MAX_ID_LENGTH - 1}}}")
ID_RULE_TEXT = f"letters, digits, _ and -, starting with a letter, at most {MAX_ID_LENGTH} characters"
# Names Windows will not create as files or folders, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def node_id_problem(node_id: object) -> str | None:
    """Why ``node_id`` cannot be a node id (None when it can): ids are names, never paths."""
    if not isinstance(node_id, str) or not node_id:
        return "a node id must be a short name such as \"train\""
    shown = "".join(c if c.isprintable() else "?" for c in node_id[:80]) + ("..." if len(node_id) > 80 else "")
    if not NODE_ID_RULE.fullmatch(node_id):
        return f"the id '{shown}' is not a name: use {ID_RULE_TEXT} (e.g. \"train\")"
    if node_id.lower() in _RESERVED:
        return f"the id '{shown}' is a reserved device name on Windows — pick another name"
    return None


def safe_id(base: str) -> str:
    """``base`` made into a valid id (for ids built from step types or pasted names)."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", str(base)).strip("_-")
    if not text or not text[0].isalpha():
        text = f"node_{text}".rstrip("_")
    text = text[:MAX_ID_LENGTH]
    return f"{text}_node" if text.lower() in _RESERVED else text


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "params": copy.deepcopy(self.params),
            "position": [float(self.position[0]), float(self.position[1])],
        }


@dataclass(frozen=True)
class Endpoint:
    """One end of a link: ``node.port``."""

    node: str
    port: str

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        node, sep, port = str(text).rpartition(".")
        if not sep or not node or not port:
            raise ValueError(f"{text!r} is not of the form node.port")
        return cls(node, port)

    def __str__(self) -> str:
        return f"{self.node}.{self.port}"


@dataclass(frozen=True)
class Link:
    source: Endpoint
    target: Endpoint

    def to_json(self) -> dict[str, str]:
        return {"source": str(self.source), "target": str(self.target)}


@dataclass
class Workflow:
    name: str = "Untitled"
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    description: str = ""

    # -- lookups -------------------------------------------------------------
    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def missing_node(self, node_id: str) -> str:
        """The one wording for a node id the workflow lacks (``--set``, ``--node``, ``--param``)."""
        return f"no such node '{node_id}' (the workflow has: {', '.join(n.id for n in self.nodes)})"

    def links_into(self, node_id: str) -> list[Link]:
        return [link for link in self.links if link.target.node == node_id]

    def links_from(self, node_id: str) -> list[Link]:
        return [link for link in self.links if link.source.node == node_id]

    # -- edits (used by the GUI's undo commands and by --set) ----------------
    def add_node(self, node: Node) -> None:
        if self.node(node.id):
            raise ValueError(f"a node with id {node.id!r} already exists")
        self.nodes.append(node)

    def remove_node(self, node_id: str) -> list[Link]:
        """Remove a node and its links; returns the removed links (for undo)."""
        removed = [lk for lk in self.links if node_id in (lk.source.node, lk.target.node)]
        self.links = [lk for lk in self.links if lk not in removed]
        self.nodes = [n for n in self.nodes if n.id != node_id]
        return removed

    def unique_id(self, base: str) -> str:
        """A readable, valid id not yet used: ``train``, ``train_2``, ``train_3``...

        ``base`` may be anything (a step type, a pasted name): it is made a
        valid id first.  Ids differing only in case count as taken, because
        their folders would be one folder on macOS and Windows.
        """
        base = safe_id(base)
        taken = {n.id.lower() for n in self.nodes}
        if base.lower() not in taken:
            return base
        i = 2
        while True:
            suffix = f"_{i}"
            candidate = base[: MAX_ID_LENGTH - len(suffix)] + suffix
            if candidate.lower() not in taken:
                return candidate
            i += 1

    def id_problems(self) -> list[tuple[str, str]]:
        """``(node id, why)`` for every id that cannot name a run folder entry.

        :meth:`from_json` already refuses these; this covers workflows built in
        code (the GUI, scripts), which the runner checks before it writes anything.
        """
        out: list[tuple[str, str]] = []
        folded: dict[str, str] = {}
        for node in self.nodes:
            why = node_id_problem(node.id)
            if why is not None:
                out.append((str(node.id), why))
                continue
            other = folded.setdefault(node.id.lower(), node.id)
            if other != node.id:
                out.append((node.id, f"differs from '{other}' only in case — their run folders would clash on "
                                     "macOS and Windows; rename one"))
        return out

    def copy(self) -> Workflow:
        return Workflow.from_json(self.to_json())

    # -- JSON ----------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA_VERSION, "name": self.name}
        if self.description:
            out["description"] = self.description
        out["nodes"] = [n.to_json() for n in self.nodes]
        out["links"] = [lk.to_json() for lk in self.links]
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

    def save(self, path: str | Path) -> None:
        atomic_write_text(Path(path), self.dumps())

    @classmethod
    def from_json(cls, data: Any, source: str = "workflow") -> Workflow:
        """Build from parsed JSON, checking only the document's *shape*.

        Shape problems (not an object, a node without an id...) are collected
        and raised together as one :class:`WorkflowFormatError`; meaning
        problems (unknown step, bad param) are :mod:`engine.validation`'s job.
        """
        problems: list[str] = []
        if not isinstance(data, dict):
            raise WorkflowFormatError(source, [f"{source}: the file must hold a JSON object"])
        schema = data.get("schema")
        if schema is None:
            problems.append(f"{source}: no \"schema\" field — add \"schema\": {SCHEMA_VERSION}")
        elif not isinstance(schema, int) or isinstance(schema, bool):
            problems.append(f"{source}: \"schema\" must be a whole number, not {schema!r}")
        elif schema > SCHEMA_VERSION:
            problems.append(
                f"{source}: schema {schema} is newer than this Loom understands "
                f"({SCHEMA_VERSION}) — update Loom to open it"
            )
        elif schema < 1:
            problems.append(f"{source}: schema {schema} is not a known version (expected {SCHEMA_VERSION})")

        wf = cls(name=str(data.get("name", "Untitled")), description=str(data.get("description", "")))
        raw_nodes = data.get("nodes", [])
        if not isinstance(raw_nodes, list):
            problems.append(f"{source}: \"nodes\" must be a list")
            raw_nodes = []
        folded: dict[str, str] = {}
        for i, raw in enumerate(raw_nodes):
            node = _parse_node(raw, i, problems, source)
            if node is None:
                continue
            other = folded.setdefault(node.id.lower(), node.id)
            if other != node.id:
                problems.append(f"{source}: node ids '{other}' and '{node.id}' differ only in case — their run "
                                "folders would clash on macOS and Windows; rename one")
            wf.nodes.append(node)
        raw_links = data.get("links", [])
        if not isinstance(raw_links, list):
            problems.append(f"{source}: \"links\" must be a list")
            raw_links = []
        for i, raw in enumerate(raw_links):
            try:
                if not isinstance(raw, dict):
                    raise ValueError("must be an object with source and target")
                wf.links.append(Link(Endpoint.parse(raw["source"]), Endpoint.parse(raw["target"])))
            except (KeyError, ValueError) as exc:
                problems.append(f"{source}: link #{i + 1}: {exc} — write it as {{\"source\": \"node.port\", \"target\": \"node.port\"}}")  # noqa: E501
        if problems:
            raise WorkflowFormatError(source, problems)
        return wf

    @classmethod
    def loads(cls, text: str, source: str = "workflow") -> Workflow:
        text = text.removeprefix("\ufeff")  # a BOM from a Windows editor
        try:
            data = parse_json(text, source, expect=None)
        except UserInputError as exc:
            raise WorkflowFormatError(source, [str(exc)]) from None
        return cls.from_json(data, source)

    @classmethod
    def load(cls, path: str | Path, advice: str = "") -> Workflow:
        """Read a workflow file; every way it can be wrong is a UserInputError naming the file.

        ``advice`` ends the message when the file is damaged (e.g. a run folder's copy).
        """
        path = Path(path)
        if not path.exists() and not path.is_symlink():
            raise UserInputError(f"{path}: no such file — " + (advice or "check the path"))
        try:
            data = read_json(path, advice, expect=None)
        except UserInputError as exc:
            raise WorkflowFormatError(str(path), [str(exc)]) from None
        return cls.from_json(data, source=str(path))


class WorkflowFormatError(UserInputError):
    """The file is not a well-formed workflow; ``problems`` lists every issue."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.source = source
        self.problems = problems


def _parse_node(raw: Any, index: int, problems: list[str], source: str) -> Node | None:
    where = f"{source}: node #{index + 1}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object with id, type and params")
        return None
    node_id, step_type = raw.get("id"), raw.get("type")
    if node_id is None or node_id == "":
        problems.append(f"{where}: missing \"id\" — give it a short readable id such as \"train\"")
        return None
    why = node_id_problem(node_id)
    if why is not None:
        problems.append(f"{where}: {why}")
        return None
    if not isinstance(step_type, str) or not step_type:
        problems.append(f"node '{node_id}': missing \"type\" — run `loom steps` for the list")
        return None
    params = raw.get("params", {})
    if not isinstance(params, dict):
        problems.append(f"node '{node_id}': \"params\" must be an object")
        params = {}
    pos = raw.get("position", [0, 0])
    try:
        position = (float(pos[0]), float(pos[1]))
    except (TypeError, ValueError, IndexError, KeyError):
        problems.append(f"node '{node_id}': \"position\" must be [x, y]")
        position = (0.0, 0.0)
    return Node(node_id, step_type, dict(params), position)
