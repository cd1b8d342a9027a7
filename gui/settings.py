"""Remembered preferences: window geometry, recent files, theme (QSettings)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from gui.paths import settings_file

MAX_RECENT = 10


class AppSettings:
    """A thin typed wrapper so the keys live in one place."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        if qsettings is None:
            path = settings_file()
            qsettings = QSettings(str(path), QSettings.IniFormat) if path else QSettings("Loom", "Loom")
        self.q = qsettings

    # -- theme ---------------------------------------------------------------
    @property
    def theme(self) -> str:
        value = str(self.q.value("ui/theme", "light"))
        return value if value in ("light", "dark") else "light"

    @theme.setter
    def theme(self, value: str) -> None:
        self.q.setValue("ui/theme", value)

    # -- geometry ------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.q.value("ui/geometry"), self.q.value("ui/state")

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("ui/geometry", geometry)
        self.q.setValue("ui/state", state)

    # -- recent files --------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.q.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if Path(str(v)).exists()]

    def add_recent(self, path: str | Path) -> list[str]:
        path = str(Path(path).resolve())
        recent = [p for p in self.recent_files() if p != path]
        recent.insert(0, path)
        recent = recent[:MAX_RECENT]
        self.q.setValue("files/recent", recent)
        return recent

    def sync(self) -> None:
        self.q.sync()
