"""Loom's desktop app (PySide6). It edits workflows and renders engine events; it never trains."""

from gui import qtfix as _qtfix

_qtfix.apply()  # before any signal is emitted (see gui/qtfix.py)
