"""Training wizards: from nothing to a trained model, leaving an ordinary workflow on the canvas.

``install_wizards(main_window)`` adds the welcome screen, the Start menu
(Classify images, Generate, Fine-tune, Classify text, Write like my text) and the
results page to the main window.
:mod:`gui.wizards.recipes` and :mod:`gui.wizards.text_recipes` are the Qt-free part: choices -> Workflow.
"""

from __future__ import annotations

from typing import Any


def install_wizards(main_window: Any):
    """See :func:`gui.wizards.install.install_wizards`."""
    from gui.wizards.install import install_wizards as _install

    return _install(main_window)


__all__ = ["install_wizards"]
