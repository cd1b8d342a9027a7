"""Parsers of free-text params: comma-separated lists of sizes, numbers or names.

They live here, free of torch, because validation calls them (through
``Text(..., parse=...)``) every time the GUI checks a form: a layer list that
does not parse is refused while the user types, never after a data node has
run.  Each raises ``ValueError`` whose text says what to write instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def split_list(text: str) -> list[str]:
    """'256, 128;64' -> ['256', '128', '64']: commas or semicolons, blanks ignored."""
    return [part.strip() for part in str(text).replace(";", ",").split(",") if part.strip()]


def parse_hidden(text: str) -> list[int]:
    """'256, 128' -> [256, 128]; empty text is no hidden layer (a linear classifier)."""
    sizes = split_list(text)
    try:
        out = [int(s) for s in sizes]
    except ValueError:
        raise ValueError(f"hidden sizes {text!r} must be whole numbers separated by commas, e.g. 256,128") from None
    if any(n < 1 or n > 65536 for n in out):
        raise ValueError(f"hidden sizes {text!r} must each be between 1 and 65536")
    return out


def parse_fractions(text: str) -> list[float]:
    """'0.01, 0.05' -> [0.01, 0.05]: numbers between 0 and 1 (pixel units); empty text -> []."""
    values = []
    for part in split_list(text):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{text!r} must be numbers separated by commas, e.g. 0.01,0.05") from None
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{part} is not between 0 and 1 — each value is in pixel units, e.g. 0.01,0.05")
        values.append(value)
    return values


def parse_names(text: str, allowed: Iterable[str], what: str) -> list[str]:
    """'Circle, star' -> ['circle', 'star'], each one of ``allowed``, none twice, at least one."""
    allowed = tuple(allowed)
    names = [n.lower() for n in split_list(text)]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(unknown)} — choose from {', '.join(allowed)}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} is listed twice — list each {what} once")
    if not names:
        raise ValueError(f"list at least one {what}, e.g. {','.join(allowed[:2])}")
    return names
