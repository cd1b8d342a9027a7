"""Checks that read files but train nothing, run before any node of a run starts.

:func:`engine.validation.validate` looks only at the workflow's text, so the
GUI can call it on every keystroke.  What needs the file system — a data
path that is missing or unreadable, a folder with no images, a CSV that is
binary or lacks the target column, a weights file that would need unpickling
— is found here, from the checks each step declares (``Path(...,
must_exist=True)`` and ``preflight=`` in the step registry).  ``loom
validate`` and :meth:`engine.runner.Engine.start` both run it, so ``loom
run`` refuses with every problem at once instead of failing one branch after
another branch has trained for minutes.
"""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.params import Param
from engine.problems import Problem, param_field
from engine.steps.registry import StepSpec, get_step
from engine.validation import check_params, resolved_params
from engine.workflow import Workflow

log = logging.getLogger(__name__)

_KIND_WORDS = {"file": "a file", "folder": "a folder", "any": "a file or folder"}


def preflight(wf: Workflow, skip: set[str] | frozenset[str] = frozenset()) -> list[Problem]:
    """Every file-system problem of ``wf``'s nodes, each naming the node, the param and what to do.

    Nodes whose params are already wrong (what :func:`validate` reports) and
    the nodes in ``skip`` are left out, so no problem is told twice.
    """
    problems: list[Problem] = []
    for node in wf.nodes:
        spec = get_step(node.type)
        if node.id in skip or spec is None or check_params(node.id, spec, node.params):
            continue
        problems.extend(node_preflight(node.id, spec, resolved_params(spec, node.params)))
    return problems


def node_preflight(node_id: str, spec: StepSpec, params: dict[str, Any]) -> list[Problem]:
    """One node's problems: its paths first, then (when they are usable) the step's own preflight."""
    problems = [
        Problem(node_id, param_field(decl.name), text)
        for decl in spec.params
        if decl.kind == "path" and decl.must_exist and str(params.get(decl.name) or "").strip()
        for text in [path_problem(params[decl.name], decl.path_mode)]
        if text
    ]
    if problems or spec.preflight is None:
        return problems
    try:
        issues = spec.preflight(params)
    except Exception:  # a bug in a check must not block a run: the step meets the problem when it runs
        log.warning("the preflight of node '%s' (%s) failed; it is checked when it runs", node_id, spec.type,
                    exc_info=True)
        return []
    return [Problem(node_id, where, text) for where, text in issues]


def path_problem(value: str, mode: str = "any") -> str | None:
    """Why ``value`` is not an existing, readable ``mode`` path ("file", "folder" or "any"), or None."""
    path = Path(str(value).strip()).expanduser()
    try:
        exists = path.exists()
    except (OSError, ValueError) as exc:
        return f"{path} cannot be checked ({getattr(exc, 'strerror', None) or exc}) — check the path"
    if not exists:
        return f"{path} does not exist — check the spelling{_did_you_mean(path)}"
    if mode == "folder" and not path.is_dir():
        return f"{path} is a file — give {_KIND_WORDS['folder']} here (the folder itself, not a file in it)"
    if mode == "file" and not path.is_file():
        return f"{path} is a folder — give {_KIND_WORDS['file']} here (the file itself)"
    try:
        if path.is_dir():
            with os.scandir(path) as entries:
                next(entries, None)
        else:
            with path.open("rb") as f:
                f.read(1)
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or type(exc).__name__}) — check its permissions"
    return None


def _did_you_mean(path: Path) -> str:
    """' (did you mean NAME?)' when the parent folder holds a close name; cheap, never raises."""
    try:
        names = [p.name for p in path.parent.iterdir()][:5000]
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, names, n=1)
    return f" (did you mean {path.parent / close[0]}?)" if close else ""


def require_path(node_id: str, decl: Param, value: str) -> Path:
    """``value`` as a usable path, or :class:`UserInputError` with the preflight's words.

    The step calls it when it runs too: the files may change between the
    preflight and the moment the node starts.
    """
    text = str(value or "").strip()
    if not text:
        raise UserInputError(f"node '{node_id}', {param_field(decl.name)}: choose {_KIND_WORDS[decl.path_mode]}")
    problem = path_problem(text, decl.path_mode)
    if problem:
        raise UserInputError(f"node '{node_id}', {param_field(decl.name)}: {problem}")
    return Path(text).expanduser()
