"""Where the desktop app keeps its files (settings, recovery, runs, examples).

Everything hangs off the same base folder as the engine's run index
(``$LOOM_HOME`` or ``~/.local/share/loom``), so a test that points
``LOOM_HOME`` elsewhere isolates the GUI too.
"""

from __future__ import annotations

import os
from pathlib import Path


def loom_home() -> Path:
    env = os.environ.get("LOOM_HOME")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "loom"


def runs_root() -> Path:
    """Default parent folder of the GUI's run folders."""
    return loom_home() / "runs"


def recovery_file() -> Path:
    """The autosave written every 30 s while a document has unsaved changes."""
    return loom_home() / "recovery" / "autosave.json"


def examples_dir() -> Path:
    """The example workflows shipped in ``resources/examples``."""
    return Path(__file__).resolve().parents[1] / "resources" / "examples"


def settings_file() -> Path | None:
    """An ini file under LOOM_HOME when it is set (tests, portable installs); else the platform default."""
    env = os.environ.get("LOOM_HOME")
    return Path(env) / "gui.ini" if env else None
