"""Loom's desktop app (PySide6). It edits workflows and renders engine events; it never trains."""
