"""Typed step parameters.

A :class:`Param` is declared once per step and drives everything that touches
the value: validation of workflow files, coercion of ``--set node.param=value``
strings, the inspector form in the GUI and the generated docs.  Keeping the
rules here (and only here) is what lets those four agree.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

PARAM_KINDS = ("int", "float", "bool", "choice", "str", "path", "seed")


class ParamError(ValueError):
    """A value that does not fit its declaration; the text says what to do."""


@dataclass(frozen=True)
class Param:
    """Declaration of one step parameter.

    ``kind`` is one of :data:`PARAM_KINDS`.  ``path`` params hold a file or
    folder (``path_mode`` says which, for the GUI's picker); ``seed`` params
    are integers the GUI offers to re-roll.
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

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"param {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"param {self.name!r}: a choice param needs choices")

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
        return {"int": "a whole number", "seed": "a whole number", "float": "a number"}.get(
            self.kind, "text"
        )

    def check(self, value: Any) -> Any:
        """Return ``value`` in canonical form or raise :class:`ParamError`."""
        if value is None:
            if self.required:
                raise ParamError(f"is required — set it to {self.describe_range()}")
            return None
        kind = self.kind
        if kind in ("int", "seed"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"{value!r} is not a whole number — use {self.describe_range()}")
            if isinstance(value, float):
                if not value.is_integer():
                    raise ParamError(f"{value!r} is not a whole number — use {self.describe_range()}")
                value = int(value)
            return self._check_range(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"{value!r} is not a number — use {self.describe_range()}")
            return self._check_range(float(value))
        if kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"{value!r} is not true or false")
            return value
        if kind == "choice":
            if value in self.choices:
                return value
            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            raise ParamError(f"{value!r} is not {self.describe_range()}{hint}")
        if not isinstance(value, str):
            raise ParamError(f"{value!r} is not text")
        if self.required and not value.strip():
            raise ParamError("is required — it is empty")
        return value

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
            raise ParamError(f"{text!r} is not {self.describe_range()}") from None
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
        if self.advanced:
            out["advanced"] = True
        return out


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


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


def Text(name: str, default: str = "", help: str = "", **kw: Any) -> Param:  # noqa: N802
    return Param(name, "str", default, help, **kw)


def Path(name: str, default: str = "", help: str = "", mode: str = "file", **kw: Any) -> Param:  # noqa: N802
    return Param(name, "path", default, help, path_mode=mode, **kw)


def Seed(name: str = "seed", default: int = 0, help: str = "Random seed; the same seed gives the same result.", **kw: Any) -> Param:  # noqa: N802,E501
    return Param(name, "seed", default, help, 0, 2**31 - 1, **kw)
