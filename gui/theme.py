"""Light and dark palettes (Fusion style), plus the colours the canvas and plots use.

Fusion draws check-box and radio-button outlines a shade darker than the
window and Qt's standard toolbar glyphs (arrows, play, pause, stop) in dark
grey: both vanish on a dark window.  :class:`LoomStyle` outlines the
indicators in a readable grey on the dark theme, and :func:`apply_theme`
wraps every action's icon so its dark glyph is drawn light there.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QIconEngine, QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget


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


INDICATOR_OUTLINE_DARK = "#9aa5b1"  # check-box / radio outlines on the dark theme (contrast > 6:1 on #1b1d22)


class LoomStyle(QProxyStyle):
    """Fusion, with check-box and radio-button outlines that stay visible on the dark theme."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element, option: QStyleOption, painter: QPainter, widget: QWidget | None = None) -> None:  # noqa: N802
        super().drawPrimitive(element, option, painter, widget)
        if not _current.dark or element not in (QStyle.PE_IndicatorCheckBox, QStyle.PE_IndicatorRadioButton):
            return
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(INDICATOR_OUTLINE_DARK), 1.2))
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        if element == QStyle.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 1.5, 1.5)
        painter.restore()


def lighten_glyph(image: QImage) -> QImage:
    """Dark, greyish pixels turned light (their lightness mirrored); coloured pixels kept as they are."""
    out = image.convertToFormat(QImage.Format_ARGB32)
    for y in range(out.height()):
        for x in range(out.width()):
            pixel = out.pixelColor(x, y)
            if pixel.alpha() == 0 or pixel.hsvSaturation() > 90 or pixel.lightness() >= 128:
                continue
            pixel.setHsl(pixel.hslHue(), pixel.hslSaturation(), 255 - pixel.lightness(), pixel.alpha())
            out.setPixelColor(x, y, pixel)
    return out


class ThemedIconEngine(QIconEngine):
    """An icon that draws its dark glyph light while the dark theme is on (decided at paint time)."""

    def __init__(self, icon: QIcon) -> None:
        super().__init__()
        self.icon = QIcon(icon)
        self._cache: dict[tuple[int, int, int, int], QPixmap] = {}

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        base = self.icon.pixmap(size, mode, state)
        if not _current.dark or base.isNull():
            return base
        key = (base.cacheKey(), size.width(), size.height(), int(mode.value) * 2 + int(state.value))
        if key not in self._cache:
            light = QPixmap.fromImage(lighten_glyph(base.toImage()))
            light.setDevicePixelRatio(base.devicePixelRatio())
            self._cache[key] = light
        return self._cache[key]

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.drawPixmap(rect, self.pixmap(rect.size(), mode, state))

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:  # noqa: N802
        return self.icon.actualSize(size, mode, state)

    def availableSizes(self, mode: QIcon.Mode = QIcon.Normal, state: QIcon.State = QIcon.Off) -> list[QSize]:  # noqa: N802
        return self.icon.availableSizes(mode, state)

    def clone(self) -> QIconEngine:
        return ThemedIconEngine(self.icon)


THEMED = "loomThemedIcon"  # action property: its icon already follows the theme


def theme_action_icons(app: QApplication) -> None:
    """Give every action with an icon a theme-following one (once), and repaint the windows."""
    for top in app.topLevelWidgets():
        for action in top.findChildren(QAction):
            if action.icon().isNull() or action.property(THEMED):
                continue
            action.setIcon(QIcon(ThemedIconEngine(action.icon())))
            action.setProperty(THEMED, True)
        top.update()


def apply_theme(app: QApplication, name: str) -> Colors:
    """Install the Fusion style with a light or dark palette; returns the drawing colours."""
    global _current
    if not isinstance(app.style(), LoomStyle):
        app.setStyle(LoomStyle())
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
    _current = DARK if dark else LIGHT
    app.setPalette(pal)
    theme_action_icons(app)
    return _current
