"""The wizards remember the analyst's last choices (QSettings), so a second run is a few clicks.

Choices are the recipe dataclasses, stored as JSON under ``wizards/<kind>``.
A stored value that no longer fits (an older Loom, a hand-edited file) is
ignored field by field: remembering must never stop a wizard from opening.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from PySide6.QtCore import QSettings

from gui.paths import settings_file

T = TypeVar("T")


def _qsettings() -> QSettings:
    path = settings_file()
    return QSettings(str(path), QSettings.IniFormat) if path else QSettings("Loom", "Loom")


def _to_plain(obj: Any) -> Any:
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


def _from_plain(cls: type[T], data: Any) -> T:
    """Rebuild ``cls`` from a dict, keeping defaults for missing or mistyped fields."""
    obj = cls()
    if not isinstance(data, dict):
        return obj
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        current, value = getattr(obj, f.name), data[f.name]
        if dataclasses.is_dataclass(current):
            setattr(obj, f.name, _from_plain(type(current), value))
        elif isinstance(current, bool):
            if isinstance(value, bool):
                setattr(obj, f.name, value)
        elif isinstance(current, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
            setattr(obj, f.name, type(current)(value))
        elif isinstance(current, str) and isinstance(value, str):
            setattr(obj, f.name, value)
    return obj


class WizardMemory:
    """Load and save one wizard's last choices."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or _qsettings()

    def load(self, kind: str, cls: type[T]) -> T:
        raw = self.q.value(f"wizards/{kind}", "")
        try:
            data = json.loads(raw) if raw else None
        except (TypeError, ValueError):
            data = None
        return _from_plain(cls, data)

    def save(self, kind: str, choices: Any) -> None:
        self.q.setValue(f"wizards/{kind}", json.dumps(_to_plain(choices)))
        self.q.sync()

    def forget(self, kind: str) -> None:
        self.q.remove(f"wizards/{kind}")
