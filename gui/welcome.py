"""The welcome screen: what an analyst sees on first launch and on an empty canvas.

Five big doors in two rows (images: classify, generate, fine-tune; texts:
classify, write), the shipped examples and the recent workflows.  On a
narrow central area (a 1024x700 screen with the docks open) the doors reflow
to two a row and the whole page scrolls, so no door or button is ever cut
off or squeezed under another.  It only
announces choices through signals; the wizards package decides what each
door opens, so this widget stays a plain view.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

DOORS = (  # the first row: pictures (and tables); the second: texts
    ("classify", "Classify images", "Teach a model to sort pictures into your classes\n(or rows of a CSV table)."),
    ("generate", "Generate images (GAN)", "Train a generator that draws new pictures\nlike yours, and watch it learn."),
    ("finetune", "Fine-tune a pretrained model", "Start from a model that already sees well:\nfewer images, less time."),
    ("classify_text", "Classify text", "Sort texts into your classes: reviews, tickets,\nlanguages (a CSV or folders of .txt)."),
    ("write", "Write like my text", "Train a language model on your texts and watch\nit learn to write like them."),
)
DOORS_PER_ROW = (3, 2)  # a 6-column grid: three doors of 2 columns, then two of 3 (each row fills the width)
MIN_PAGE = QSize(440, 300)
DOOR_MIN_WIDTH = 170
SPACING = 16
PAGE_MARGINS = 2 * 24 + 14  # the page's side margins and a vertical scroll bar


def door_columns(width: int) -> int:
    """How many doors fit side by side on a page ``width`` pixels wide (3, 2 or 1; 3 means the 3+2 design)."""
    for columns in (3, 2):
        if width >= columns * DOOR_MIN_WIDTH + (columns - 1) * SPACING + PAGE_MARGINS:
            return columns
    return 1


class DoorButton(QPushButton):
    """A push button whose height follows its wrapped labels, so no explanation is ever cut off."""

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return max(self.minimumHeight(), self.layout().totalHeightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """Its labels wrap, so the declared minimum width is enough; the height is what they need there."""
        return QSize(self.minimumWidth(), self.heightForWidth(self.minimumWidth()))

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = self.layout().totalSizeHint()
        return QSize(max(hint.width(), self.minimumWidth()), self.heightForWidth(max(hint.width(), self.minimumWidth())))


def _door_button(title: str, blurb: str) -> DoorButton:
    """A large button with a bold title and a wrapped explanation (labels let clicks through)."""
    button = DoorButton()
    button.setMinimumSize(DOOR_MIN_WIDTH, 90)  # taller when its text wraps (heightForWidth)
    policy = QSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
    policy.setHeightForWidth(True)
    button.setSizePolicy(policy)
    head = QLabel(title)
    font = QFont(head.font())
    font.setPointSizeF(font.pointSizeF() * 1.25)
    font.setBold(True)
    head.setFont(font)
    head.setWordWrap(True)
    text = QLabel(blurb.replace("\n", " "))
    text.setWordWrap(True)
    layout = QVBoxLayout(button)
    layout.setContentsMargins(16, 12, 16, 12)
    layout.addWidget(head)
    layout.addWidget(text, 1, Qt.AlignTop)
    for label in (head, text):
        label.setAttribute(Qt.WA_TransparentForMouseEvents)
    button.setAccessibleName(title)
    button.setToolTip(blurb.replace("\n", " "))
    return button


def _example_title(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data.get("name") or path.stem)
    except (OSError, ValueError):
        return path.stem


class WelcomeScreen(QWidget):
    wizard_requested = Signal(str)  # classify | generate | finetune | classify_text | write
    example_requested = Signal(Path)
    recent_requested = Signal(Path)
    canvas_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        # The central page's minimum is what the main window keeps for it when the screen is small: without
        # one, the docks keep their size and the page shrinks to a slit.  This much shows the title and a door
        # and still fits a 1024x700 screen beside the docks' own minimums.
        self.setMinimumSize(MIN_PAGE)
        title = QLabel("What would you like to do?")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("Each choice opens a short wizard that builds a workflow on the canvas and starts it. "
                          "You can open and change every step afterwards.")
        subtitle.setWordWrap(True)

        self.door_buttons: dict[str, QPushButton] = {}
        for key, text, blurb in DOORS:
            button = _door_button(text, blurb)
            button.setObjectName(f"door_{key}")
            button.clicked.connect(lambda _c=False, k=key: self.wizard_requested.emit(k))
            self.door_buttons[key] = button
        self.doors = QGridLayout()
        self.doors.setSpacing(SPACING)
        for col in range(6):
            self.doors.setColumnStretch(col, 1)
        self.columns = 0
        self._place_doors(3)

        self.examples = QListWidget()
        self.examples.setObjectName("examples")
        self.examples.setMinimumHeight(150)
        self.examples.itemActivated.connect(lambda item: self.example_requested.emit(Path(item.data(Qt.UserRole))))
        self.open_example = QPushButton("Open the example")
        self.open_example.clicked.connect(self._open_selected_example)
        self.recent = QListWidget()
        self.recent.setObjectName("recent")
        self.recent.setMinimumHeight(150)
        self.recent.itemActivated.connect(lambda item: self.recent_requested.emit(Path(item.data(Qt.UserRole))))
        self.open_recent = QPushButton("Open")
        self.open_recent.clicked.connect(self._open_selected_recent)
        self.empty_canvas = QPushButton("Start with an empty canvas")
        self.empty_canvas.clicked.connect(self.canvas_requested.emit)

        lists = QHBoxLayout()
        lists.setSpacing(16)
        lists.addLayout(self._column("Open an example", self.examples, self.open_example), 1)
        lists.addLayout(self._column("Recent workflows", self.recent, self.open_recent), 1)

        inner = QVBoxLayout()
        inner.setSpacing(14)
        inner.addWidget(title)
        inner.addWidget(subtitle)
        inner.addSpacing(8)
        inner.addLayout(self.doors)
        inner.addSpacing(8)
        inner.addLayout(lists, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.empty_canvas)
        inner.addLayout(row)
        frame = QFrame()
        frame.setLayout(inner)
        frame.setMaximumWidth(1100)
        page = QWidget()
        page.setObjectName("welcome_page")
        centred = QHBoxLayout(page)
        centred.setContentsMargins(24, 20, 24, 20)  # see PAGE_MARGINS
        centred.addStretch(1)
        centred.addWidget(frame, 10)
        centred.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.scroll.setWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)

    def _place_doors(self, columns: int) -> None:
        """Three doors then two on a wide page; two a row, or one, on a narrower one (a lone last door spans)."""
        if columns == self.columns:
            return
        self.columns = columns
        buttons = list(self.door_buttons.values())
        for button in buttons:
            self.doors.removeWidget(button)
        if columns == 3:
            placed = 0
            for row, count in enumerate(DOORS_PER_ROW):
                span = 6 // count
                for col, button in enumerate(buttons[placed:placed + count]):
                    self.doors.addWidget(button, row, col * span, 1, span)
                placed += count
            return
        span = 6 // columns
        for i, button in enumerate(buttons):
            alone = columns > 1 and i == len(buttons) - 1 and i % columns == 0
            self.doors.addWidget(button, i // columns, (i % columns) * span, 1, 6 if alone else span)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_doors(door_columns(event.size().width()))

    @staticmethod
    def _column(title: str, widget: QListWidget, button: QPushButton) -> QVBoxLayout:
        col = QVBoxLayout()
        label = QLabel(title)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        col.addWidget(label)
        col.addWidget(widget, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button)
        col.addLayout(row)
        return col

    def set_examples(self, paths: list[Path]) -> None:
        self.examples.clear()
        for path in paths:
            item = QListWidgetItem(_example_title(path))
            item.setData(Qt.UserRole, str(path))
            item.setToolTip(str(path))
            self.examples.addItem(item)
        if self.examples.count():
            self.examples.setCurrentRow(0)
        self.open_example.setEnabled(self.examples.count() > 0)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(Path(path).name)
            item.setData(Qt.UserRole, str(path))
            item.setToolTip(str(path))
            self.recent.addItem(item)
        if not paths:
            placeholder = QListWidgetItem("(none yet: workflows you save appear here)")
            placeholder.setFlags(Qt.NoItemFlags)
            self.recent.addItem(placeholder)
        else:
            self.recent.setCurrentRow(0)
        self.open_recent.setEnabled(bool(paths))

    def _open_selected_example(self) -> None:
        item = self.examples.currentItem()
        if item is not None:
            self.example_requested.emit(Path(item.data(Qt.UserRole)))

    def _open_selected_recent(self) -> None:
        item = self.recent.currentItem()
        if item is not None and item.data(Qt.UserRole):
            self.recent_requested.emit(Path(item.data(Qt.UserRole)))
