"""Application entry point: show the window first, import torch later."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("Loom")
    app.setOrganizationName("Loom")
    window = QMainWindow()
    window.setWindowTitle("Loom")
    window.setCentralWidget(QLabel("Loom"))
    window.resize(1280, 800)
    window.show()
    return app.exec()
