"""Checking a workflow against the step declarations.

:func:`validate` reports *every* problem at once, each naming the node, the
field and what to do, so a user fixes a file in one pass.  The GUI uses the
same problems for node badges; the CLI prints one line each and exits 2.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from engine.params import ParamError
from engine.ports import accepts
from engine.problems import Problem, param_field
from engine.steps.registry import StepSpec, all_steps, get_step
from engine.text_checks import text_problems
from engine.workflow import Workflow

__all__ = ["Problem", "apply_overrides", "check_params", "resolved_params", "topological_order", "validate"]


def validate(wf: Workflow) -> list[Problem]:
    """Every problem of ``wf`` that its text alone shows; no file is opened (the GUI calls this as you type).

    The checks that read files (paths, weights, tables) are :func:`engine.preflight.preflight`'s.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    specs: dict[str, StepSpec] = {}
    for node in wf.nodes:
        if node.id in seen:
            problems.append(Problem(node.id, "id", "this id is used by more than one node — give each node its own id"))
            continue
        seen.add(node.id)
        spec = get_step(node.type)
        if spec is None:
            known = [s.type for s in all_steps()]
            close = difflib.get_close_matches(node.type, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "run `loom steps` for the list"
            problems.append(Problem(node.id, "type", f"unknown step type '{node.type}' — {hint}"))
            continue
        specs[node.id] = spec
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in node.position):
            problems.append(Problem(node.id, "position", "must be two finite numbers [x, y] — e.g. [0, 0]"))
        problems.extend(check_params(node.id, spec, node.params))

    problems.extend(_check_links(wf, specs))
    problems.extend(_check_cycles(wf))
    problems.extend(_check_inputs(wf, specs, {p.node_id for p in problems}))
    problems.extend(text_problems(wf, specs, {p.node_id for p in problems}))
    return problems


def check_params(node_id: str, spec: StepSpec, params: dict[str, Any]) -> list[Problem]:
    """Problems with one node's params (unknown names, types, ranges, choices, text that must parse).

    When each param is fine on its own, the step's declared ``check`` looks at
    them together (``kfold`` 1, ImageNet weights for a CNN...).
    """
    problems = []
    names = [p.name for p in spec.params]
    for name, value in params.items():
        decl = spec.param(name)
        if decl is None:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"'{spec.type}' takes: {', '.join(names) or 'no params'}"
            problems.append(Problem(node_id, param_field(name), f"unknown parameter — {hint}"))
            continue
        try:
            decl.check(value)
        except ParamError as exc:
            problems.append(Problem(node_id, param_field(name), str(exc)))
    for decl in spec.params:
        if decl.required and decl.name not in params and decl.default in (None, ""):
            problems.append(Problem(node_id, param_field(decl.name), f"is required — {decl.help or 'set a value'}"))
    if not problems and spec.check is not None:
        problems.extend(Problem(node_id, where, text) for where, text in spec.check(resolved_params(spec, params)))
    return problems


def resolved_params(spec: StepSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with the node's own (already validated) values, canonicalised."""
    out = spec.defaults()
    for name, value in params.items():
        decl = spec.param(name)
        if decl is not None:
            out[name] = decl.check(value)
    return out


def _check_links(wf: Workflow, specs: dict[str, StepSpec]) -> list[Problem]:
    problems: list[Problem] = []
    fed: dict[tuple[str, str], str] = {}
    for link in wf.links:
        src, dst = link.source, link.target
        src_node, dst_node = wf.node(src.node), wf.node(dst.node)
        if src_node is None:
            problems.append(Problem(dst.node, "link", f"comes from unknown node '{src.node}' — remove the link or add that node"))
            continue
        if dst_node is None:
            problems.append(Problem(src.node, "link", f"goes to unknown node '{dst.node}' — remove the link or add that node"))
            continue
        src_spec, dst_spec = specs.get(src.node), specs.get(dst.node)
        if src_spec is None or dst_spec is None:
            continue  # unknown type already reported
        out_port, in_port = src_spec.output(src.port), dst_spec.input(dst.port)
        if out_port is None:
            outs = ", ".join(p.name for p in src_spec.outputs) or "none"
            problems.append(Problem(src.node, f"output '{src.port}'", f"'{src_spec.type}' has no such output (it has: {outs})"))
            continue
        if in_port is None:
            ins = ", ".join(p.name for p in dst_spec.inputs) or "none"
            problems.append(Problem(dst.node, f"input '{dst.port}'", f"'{dst_spec.type}' has no such input (it has: {ins})"))
            continue
        if not accepts(in_port.type, out_port.type):
            problems.append(
                Problem(
                    dst.node,
                    f"input '{dst.port}'",
                    f"takes {in_port.type} but '{src}' gives {out_port.type} — connect a {in_port.type} output instead",
                )
            )
        key = (dst.node, dst.port)
        if key in fed:
            problems.append(Problem(dst.node, f"input '{dst.port}'", f"has two links (from '{fed[key]}' and '{src}') — keep one"))
        fed[key] = str(src)
    for node_id, spec in specs.items():
        for port in spec.inputs:
            if not port.optional and (node_id, port.name) not in fed:
                problems.append(
                    Problem(node_id, f"input '{port.name}'", f"is not connected — link a {port.type} output to it")
                )
    return problems


def _check_inputs(wf: Workflow, specs: dict[str, StepSpec], flawed: set[str]) -> list[Problem]:
    """Rules between linked nodes, declared by the receiving step; nodes with problems of their own are left out."""
    problems: list[Problem] = []
    sound = {n.id: n for n in wf.nodes if n.id in specs and n.id not in flawed}  # duplicated ids are flawed
    for node_id, node in sound.items():
        check = specs[node_id].check_inputs
        if check is None:
            continue
        upstream = {
            link.target.port: (sound[link.source.node].type,
                               resolved_params(specs[link.source.node], sound[link.source.node].params))
            for link in wf.links_into(node_id)
            if link.source.node in sound
        }
        params = resolved_params(specs[node_id], node.params)
        problems.extend(Problem(node_id, where, text) for where, text in check(params, upstream))
    return problems


def _check_cycles(wf: Workflow) -> list[Problem]:
    try:
        topological_order(wf)
    except CycleError as exc:
        return [Problem(exc.nodes[0], "link", f"is part of a cycle ({' -> '.join(exc.nodes)}) — remove one of those links")]
    return []


class CycleError(ValueError):
    def __init__(self, nodes: list[str]) -> None:
        super().__init__("cycle: " + " -> ".join(nodes))
        self.nodes = nodes


def topological_order(wf: Workflow) -> list[str]:
    """Node ids so that every node comes after the nodes feeding it.

    Ties keep file order, so runs are reproducible and read naturally.
    """
    ids = [n.id for n in wf.nodes]
    known = set(ids)
    deps = {i: {lk.source.node for lk in wf.links_into(i) if lk.source.node in known} for i in ids}
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(ids):
        ready = [i for i in ids if i not in done and deps[i] <= done]
        if not ready:
            remaining = [i for i in ids if i not in done]
            raise CycleError(_find_cycle(remaining, deps))
        for i in ready:
            order.append(i)
            done.add(i)
    return order


def _find_cycle(nodes: list[str], deps: dict[str, set[str]]) -> list[str]:
    start = nodes[0]
    path = [start]
    current = start
    while True:
        nxt = next(d for d in sorted(deps[current]) if d in nodes)
        if nxt in path:
            cycle = path[path.index(nxt):] + [nxt]
            return list(reversed(cycle))
        path.append(nxt)
        current = nxt


def apply_overrides(wf: Workflow, assignments: list[str]) -> list[Problem]:
    """Apply ``node.param=value`` strings (the CLI's ``--set``) in place."""
    problems = []
    for text in assignments:
        target, sep, value = text.partition("=")
        node_id, dot, name = target.strip().partition(".")
        if not sep or not dot or not name:
            problems.append(Problem("", "--set", f"'{text}' is not of the form node.param=value"))
            continue
        node = wf.node(node_id)
        if node is None:
            problems.append(Problem(node_id, "--set", wf.missing_node(node_id)))
            continue
        spec = get_step(node.type)
        decl = spec.param(name) if spec else None
        if spec is None:
            continue  # reported by validate()
        if decl is None:
            close = difflib.get_close_matches(name, [p.name for p in spec.params], n=1)
            hint = f" — did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(node_id, f"param '{name}'", f"unknown parameter{hint}"))
            continue
        try:
            node.params[name] = decl.parse(value)
        except ParamError as exc:
            problems.append(Problem(node_id, f"param '{name}'", str(exc)))
    return problems
