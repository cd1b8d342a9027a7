"""Shared test setup: every test gets its own cache and run index, and Qt runs offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"


@pytest.fixture(autouse=True)
def isolated_loom_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the node cache and run index at fresh folders, never the user's."""
    base = tmp_path_factory.mktemp("loom-home")
    monkeypatch.setenv("LOOM_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("LOOM_HOME", str(base / "home"))
    return base
