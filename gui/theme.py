"""Light and dark palettes (Fusion style), plus the colours the canvas and plots use."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Colors:
    """Colours drawn by hand (canvas, plots) so they follow the theme."""

    dark: bool
    canvas_bg: str
    grid: str
    node_bg: str
    node_header: str
    node_border: str
    node_text: str
    link: str
    selection: str
    plot_bg: str
    plot_fg: str


LIGHT = Colors(False, "#f4f5f7", "#e2e5ea", "#ffffff", "#dfe6f0", "#9aa5b1", "#1f2933", "#5f6b7a", "#2f80ed", "#ffffff", "#333333")
DARK = Colors(True, "#1e2126", "#2a2e35", "#2d3139", "#3a4150", "#56606e", "#e6e9ee", "#9aa5b1", "#4c9aff", "#1b1d22", "#d0d4da")

# Port type -> colour, so compatible ports are recognisable at a glance (others: see port_color).
PORT_COLORS = {
    "ImageDataset": "#2f9e44",
    "TabularDataset": "#1c7ed6",
    "Dataset": "#0ca678",
    "Model": "#e67700",
    "GenerativeModel": "#d9480f",
    "TrainedModel": "#9c36b5",
    "TrainedGenerator": "#c2255c",
    "Metrics": "#5c7cfa",
    "Images": "#f08c00",
    "Texts": "#66a80f",
    "TextDataset": "#0b7285",
    "LanguageModel": "#e8590c",
    "TrainedLanguageModel": "#862e9c",
}



def port_color(port_type: str) -> str:
    """The colour of a port type: its own from PORT_COLORS, else a stable hue from its name.

    A kind of data added by a plugin (``engine.ports.register_port_type``) gets
    a colour of its own without editing this table, the same on every launch.
    """
    if port_type in PORT_COLORS:
        return PORT_COLORS[port_type]
    hue = zlib.crc32(port_type.encode("utf-8")) % 360
    return QColor.fromHsv(hue, 170, 190).name()


STATE_COLORS = {
    "queued": "#868e96",
    "running": "#1c7ed6",
    "done": "#2f9e44",
    "cached": "#0ca678",
    "failed": "#e03131",
    "skipped": "#adb5bd",
    "stopped": "#f08c00",
    "invalid": "#e03131",
}

_current = LIGHT


def colors() -> Colors:
    return _current


def apply_theme(app: QApplication, name: str) -> Colors:
    """Install the Fusion style with a light or dark palette; returns the drawing colours."""
    global _current
    app.setStyle("Fusion")
    dark = name == "dark"
    pal = QPalette()
    if dark:
        base, window, text, button = QColor("#1b1d22"), QColor("#25282e"), QColor("#e6e9ee"), QColor("#30343b")
        highlight = QColor("#4c9aff")
        disabled = QColor("#6c737d")
    else:
        base, window, text, button = QColor("#ffffff"), QColor("#eef0f3"), QColor("#1f2933"), QColor("#f7f8fa")
        highlight = QColor("#2f80ed")
        disabled = QColor("#9aa5b1")
    pal.setColor(QPalette.Window, window)
    pal.setColor(QPalette.WindowText, text)
    pal.setColor(QPalette.Base, base)
    pal.setColor(QPalette.AlternateBase, window)
    pal.setColor(QPalette.ToolTipBase, base)
    pal.setColor(QPalette.ToolTipText, text)
    pal.setColor(QPalette.Text, text)
    pal.setColor(QPalette.Button, button)
    pal.setColor(QPalette.ButtonText, text)
    pal.setColor(QPalette.BrightText, QColor("#ff6b6b"))
    pal.setColor(QPalette.Highlight, highlight)
    pal.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.Link, highlight)
    pal.setColor(QPalette.PlaceholderText, disabled)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, disabled)
    app.setPalette(pal)
    _current = DARK if dark else LIGHT
    return _current
