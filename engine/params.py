"""Typed step parameters.

A :class:`Param` is declared once per step and drives everything that touches
the value: validation of workflow files, coercion of ``--set node.param=value``
strings, the inspector form in the GUI and the generated docs.  Keeping the
rules here (and only here) is what lets those four agree.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PARAM_KINDS = ("int", "float", "bool", "choice", "str", "path", "seed")


class ParamError(ValueError):
    """A value that does not fit its declaration; the text says what to do."""


@dataclass(frozen=True)
class Param:
    """Declaration of one step parameter.

    ``kind`` is one of :data:`PARAM_KINDS`.  ``path`` params hold a file or
    folder (``path_mode`` says which, for the GUI's picker); ``must_exist``
    asks the preflight (not :meth:`check`, which must stay free of file I/O so
    the GUI can call it as the user types) to confirm it is there and readable.
    ``seed`` params are integers the GUI offers to re-roll.  ``parser`` turns a
    free-text param (``"256,128"``) into what the step uses and raises
    ``ValueError`` with a readable reason; :meth:`check` calls it, so a bad
    list is refused when the workflow is validated, not when its node runs.
    """

    name: str
    kind: str
    default: Any = None
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    unit: str = ""
    required: bool = False
    path_mode: str = "file"  # "file" | "folder" | "any"; GUI picker hint
    label: str = ""
    advanced: bool = False
    parser: Callable[[str], Any] | None = None
    must_exist: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"param {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"param {self.name!r}: a choice param needs choices")
        if self.parser is not None and self.kind != "str":
            raise ValueError(f"param {self.name!r}: only text params take a parser")
        if self.must_exist and self.kind != "path":
            raise ValueError(f"param {self.name!r}: only path params can be required to exist")

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def describe_range(self) -> str:
        """Human text of the allowed values, used in messages and docs."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"between {_fmt(lo)} and {_fmt(hi)}"
        if lo is not None:
            return f"at least {_fmt(lo)}"
        if hi is not None:
            return f"at most {_fmt(hi)}"
        if self.kind == "path" and self.path_mode in ("file", "folder"):
            return f"a {self.path_mode} path"  # "any" paths (weights) also take words such as none: plain text
        return {"int": "a whole number", "seed": "a whole number", "float": "a number"}.get(
            self.kind, "text"
        )

    def check(self, value: Any) -> Any:
        """Return ``value`` in canonical form or raise :class:`ParamError`.

        Null is refused for every kind: a param left out takes its default,
        so a ``null`` in a file (or ``None`` from code) is a mistake, and
        letting it through would hand a step ``None`` where it expects a value.
        """
        if value is None:
            raise ParamError(f"is empty (null) — {self._remedy()}")
        kind = self.kind
        if kind in ("int", "seed", "float"):
            return self._check_number(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"{_show(value)} is not true or false")
            return value
        if kind == "choice":
            if value in self.choices:
                return value
            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            raise ParamError(f"{_show(value)} is not {self.describe_range()}{hint}")
        if not isinstance(value, str):
            raise ParamError(f"{_show(value)} is not text — write it in quotes")
        if "\0" in value:
            raise ParamError(f"{value!r} holds a NUL character — retype the value")
        if self.required and not value.strip():
            raise ParamError("is required — it is empty")
        if self.parser is not None:
            try:
                self.parser(value)
            except ValueError as exc:
                raise ParamError(str(exc)) from None
        return value

    def _remedy(self) -> str:
        """What to write instead of a bad value: the allowed values, and the default when there is one."""
        use = f"use {self.describe_range()}"
        if self.required or self.default in (None, ""):
            return use
        return f"{use}, or leave the param out for the default ({_show(self.default)})"

    def _check_number(self, value: Any) -> int | float:
        whole = self.kind in ("int", "seed")
        wanted = "a whole number" if whole else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"{_show(value)} is not {wanted} — {self._remedy()}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{_show(value)} is not a usable number — {self._remedy()}")
        if whole and isinstance(value, float):
            if not value.is_integer():
                raise ParamError(f"{_show(value)} is not a whole number — {self._remedy()}")
            value = int(value)
        return self._check_range(value if whole else float(value))

    def _check_range(self, value: float) -> float:
        if self.minimum is not None and value < self.minimum:
            raise ParamError(
                f"{_fmt(value)} is below the minimum {_fmt(self.minimum)} — use {self.describe_range()}"
            )
        if self.maximum is not None and value > self.maximum:
            raise ParamError(
                f"{_fmt(value)} is above the maximum {_fmt(self.maximum)} — use {self.describe_range()}"
            )
        return value

    def parse(self, text: str) -> Any:
        """Coerce a command-line string (``--set node.param=TEXT``) and check it."""
        text = text.strip()
        kind = self.kind
        try:
            if kind in ("int", "seed"):
                value: Any = int(float(text)) if _is_integral(text) else float(text)
            elif kind == "float":
                value = float(text)
            elif kind == "bool":
                low = text.lower()
                if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ParamError(f"{text!r} is not true or false")
                value = low in ("true", "1", "yes", "on")
            elif kind == "choice":
                value = _match_choice(text, self.choices)
            else:
                value = text
        except ValueError as exc:
            if isinstance(exc, ParamError):
                raise
            what = {"int": "a whole number", "seed": "a whole number", "float": "a number"}.get(self.kind, "valid")
            raise ParamError(f"{text!r} is not {what} — use {self.describe_range()}") from None
        return self.check(value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": self.default}
        for key in ("help", "unit", "label"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.choices:
            out["choices"] = list(self.choices)
        if self.required:
            out["required"] = True
        if self.kind == "path":
            out["path_mode"] = self.path_mode
        if self.must_exist:
            out["must_exist"] = True
        if self.advanced:
            out["advanced"] = True
        return out


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _show(value: Any) -> str:
    """A value as the user wrote it in a workflow file: JSON spelling for true/false/null/NaN."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _is_integral(text: str) -> bool:
    try:
        return float(text).is_integer()
    except ValueError:
        return False


def _match_choice(text: str, choices: tuple[Any, ...]) -> Any:
    """Map CLI text onto a declared choice, keeping the choice's own type."""
    for choice in choices:
        if str(choice) == text:
            return choice
    for choice in choices:
        if str(choice).lower() == text.lower():
            return choice
    return text  # check() then reports it with a suggestion


# Short constructors keep step declarations on one line each.
def Int(name: str, default: int, lo: float | None = None, hi: float | None = None, help: str = "", **kw: Any) -> Param:  # noqa: N802,E501
    return Param(name, "int", default, help, lo, hi, **kw)


def Float(name: str, default: float, lo: float | None = None, hi: float | None = None, help: str = "", **kw: Any) -> Param:  # noqa: N802,E501
    return Param(name, "float", default, help, lo, hi, **kw)


def Bool(name: str, default: bool, help: str = "", **kw: Any) -> Param:  # noqa: N802
    return Param(name, "bool", default, help, **kw)


def Choice(name: str, default: Any, choices: tuple[Any, ...] | list[Any], help: str = "", **kw: Any) -> Param:  # noqa: N802,E501
    return Param(name, "choice", default, help, choices=tuple(choices), **kw)


def Text(name: str, default: str = "", help: str = "", parse: Callable[[str], Any] | None = None, **kw: Any) -> Param:  # noqa: N802,E501
    """A free-text param; ``parse`` (text -> value, ``ValueError`` when bad) is checked at validation."""
    return Param(name, "str", default, help, parser=parse, **kw)


def Path(name: str, default: str = "", help: str = "", mode: str = "file", must_exist: bool = False, **kw: Any) -> Param:  # noqa: N802,E501
    """A file or folder; ``must_exist`` has the preflight check it is there and readable before any node runs."""
    return Param(name, "path", default, help, path_mode=mode, must_exist=must_exist, **kw)


def Seed(name: str = "seed", default: int = 0, help: str = "Random seed; the same seed gives the same result.", **kw: Any) -> Param:  # noqa: N802,E501
    return Param(name, "seed", default, help, 0, 2**31 - 1, **kw)
