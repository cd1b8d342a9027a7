"""The search space: ``--param NODE.PARAM=SPEC`` parsed and checked against the step's declaration.

Specs: ``LO..HI`` (a number range; whole numbers for int params),
``log:LO..HI`` (searched on a log scale), ``A,B,C`` (a list of values; the
only form for choice and true/false params).  Every value is checked with
the param's own declaration (:mod:`engine.params`), so a sweep can never
ask for a value that ``loom run`` would refuse.  Each problem is one
:class:`UserInputError` line that starts with the ``--param`` it is about.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from engine.errors import UserInputError
from engine.params import Param, ParamError
from engine.workflow import Workflow

FLOAT, INT, CHOICE = "float", "int", "choice"
GRID_MAX_VALUES = 64  # an int range with more values than this is not a grid


@dataclass(frozen=True)
class SweepParam:
    """One searched parameter: a range (``float``/``int``, optionally ``log``) or a list of ``choices``."""

    node: str
    param: str
    kind: str  # FLOAT | INT | CHOICE
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    @property
    def key(self) -> str:
        return f"{self.node}.{self.param}"

    def spec(self) -> str:
        """The spec as a user writes it (``log:0.0001..0.1``, ``32,64``): for messages and the re-run line."""
        if self.kind == CHOICE:
            return ",".join(_text(c) for c in self.choices)
        return f"{'log:' if self.log else ''}{_text(self.low)}..{_text(self.high)}"

    def grid_values(self) -> list[Any] | None:
        """Every value of this param for a grid search, or None when it is a continuous range or too big."""
        if self.kind == CHOICE:
            return list(self.choices)
        if self.kind == INT and self.low is not None and self.high is not None:
            lo, hi = int(self.low), int(self.high)
            if hi - lo + 1 <= GRID_MAX_VALUES:
                return list(range(lo, hi + 1))
        return None

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "param": self.param, "kind": self.kind, "low": self.low, "high": self.high,
                "log": self.log, "choices": list(self.choices)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepParam:
        return cls(str(data["node"]), str(data["param"]), str(data["kind"]), data.get("low"), data.get("high"),
                   bool(data.get("log")), tuple(data.get("choices") or ()))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_sweep_param(text: str, workflow: Workflow) -> SweepParam:
    """``"train.lr=log:1e-4..1e-1"`` -> a checked :class:`SweepParam`; UserInputError in one clear line."""
    from engine.steps.registry import get_step

    where = f"--param {text.strip()}"
    target, sep, spec = text.partition("=")
    node_id, dot, name = target.strip().partition(".")
    if not sep or not dot or not node_id or not name:
        raise UserInputError(f"{where}: write NODE.PARAM=SPEC, e.g. train.lr=log:1e-4..1e-1, "
                             "train.batch_size=32,64,128 or model.width=16..64")
    node = workflow.node(node_id)
    if node is None:
        raise UserInputError(f"{where}: {workflow.missing_node(node_id)}")
    step = get_step(node.type)
    decl = step.param(name) if step is not None else None
    if step is None:
        raise UserInputError(f"{where}: node '{node_id}' has the unknown step type '{node.type}'")
    if decl is None:
        close = difflib.get_close_matches(name, [p.name for p in step.params], n=1)
        hint = f" — did you mean '{close[0]}'?" if close else f" — it has {', '.join(p.name for p in step.params)}"
        raise UserInputError(f"{where}: node '{node_id}' ({node.type}) has no parameter '{name}'{hint}")
    spec = spec.strip()
    if not spec:
        raise UserInputError(f"{where}: no values — give a range (LO..HI, log:LO..HI) or a list (A,B,C)")
    try:
        if ".." in spec and decl.kind in ("int", "float", "seed"):
            return _range(node_id, decl, spec)
        return _choices(node_id, decl, spec)
    except ParamError as exc:
        raise UserInputError(f"{where}: {exc}") from None


def _range(node_id: str, decl: Param, spec: str) -> SweepParam:
    log = spec.lower().startswith("log:")
    body = spec[4:] if log else spec
    lo_text, _, hi_text = body.partition("..")
    if not lo_text.strip() or not hi_text.strip():
        raise ParamError(f"the range '{body}' is empty — write LO..HI with both ends")
    whole = decl.kind in ("int", "seed")
    lo, hi = _number(lo_text, whole), _number(hi_text, whole)
    if lo > hi:
        raise ParamError(f"the range {lo_text.strip()}..{hi_text.strip()} is inverted — write the low end first: "
                         f"{'log:' if log else ''}{hi_text.strip()}..{lo_text.strip()}")
    if lo == hi:
        raise ParamError(f"the range {lo_text.strip()}..{hi_text.strip()} is empty (both ends are equal) — "
                         f"widen it, or fix the value with --set {node_id}.{decl.name}={hi_text.strip()}")
    if log and lo <= 0:
        raise ParamError(f"a log range needs both ends above 0 ({lo_text.strip()} is not) — drop 'log:' or "
                         "start the range above 0")
    decl.check(lo)
    decl.check(hi)
    return SweepParam(node_id, decl.name, INT if whole else FLOAT, float(lo), float(hi), log)


def _number(text: str, whole: bool) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ParamError(f"'{text.strip()}' is not a number") from None
    if not math.isfinite(value):
        raise ParamError(f"'{text.strip()}' is not a usable number")
    if whole and not value.is_integer():
        raise ParamError(f"'{text.strip()}' is not a whole number — this parameter takes whole numbers")
    return value


def _choices(node_id: str, decl: Param, spec: str) -> SweepParam:
    if decl.kind in ("str", "path"):
        raise ParamError(f"'{decl.name}' is text, which a sweep cannot search — search a number or choice param")
    if spec.lower().startswith("log:"):
        raise ParamError(f"'log:' needs a range LO..HI, and '{decl.name}' takes {decl.describe_range()}")
    if ".." in spec:
        raise ParamError(f"'{decl.name}' takes {decl.describe_range()}: list the values to try, e.g. "
                         f"{','.join(_text(c) for c in decl.choices[:3])}")
    parts = [p.strip() for p in spec.split(",")]
    if any(not p for p in parts):
        raise ParamError(f"'{spec}' has an empty value in its list — write values separated by commas")
    values: list[Any] = []
    for part in parts:
        value = decl.parse(part)
        if value not in values:
            values.append(value)
    if len(values) < 2:
        raise ParamError(f"only one value ({parts[0]}) — give two or more to search, or fix it with "
                         f"--set {node_id}.{decl.name}={parts[0]}")
    return SweepParam(node_id, decl.name, CHOICE, choices=tuple(values))


def apply_params(workflow: Workflow, values: dict[str, Any]) -> Workflow:
    """A copy of ``workflow`` with ``{"node.param": value}`` set, each value in its declared type."""
    from engine.steps.registry import get_step

    out = workflow.copy()
    for key, value in values.items():
        node_id, _, name = key.partition(".")
        node = out.node(node_id)
        step = get_step(node.type) if node is not None else None
        decl = step.param(name) if step is not None else None
        if node is None or decl is None:
            raise UserInputError(f"the study searches {key}, which this workflow does not have — "
                                 "use another --study name for this workflow")
        node.params[name] = decl.check(value)
    return out
