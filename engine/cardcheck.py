"""Checks shared by the readers of Loom's JSON cards (model cards, generator cards, a kind's own fields).

Each returns '' when the value is sound, else the end of a sentence naming
the field, so a damaged card is described in words before anything is built.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engine.fileio import json_type


def whole_in(value: Any, low: int, high: int) -> bool:
    """A JSON whole number (not a bool) within [low, high]."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def normalization_problem(norm: Any) -> str:
    """A per-channel ``{"mean": [...], "std": [...]}`` with finite numbers and no zero std."""
    if not isinstance(norm, dict) or not all(
        isinstance(norm.get(k), list) and 1 <= len(norm[k]) <= 4 and all(finite_number(v) for v in norm[k])
        for k in ("mean", "std")
    ) or any(v == 0 for v in norm["std"]):
        return "\"normalization\" is not {\"mean\": [numbers], \"std\": [non-zero numbers]}"
    return ""


def sibling_file_problem(field: str, name: Any) -> str:
    """A plain file name next to the card: never a path that could reach elsewhere."""
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        return f"\"{field}\" is {json_type(name)}, not a file name next to the card"
    return ""
