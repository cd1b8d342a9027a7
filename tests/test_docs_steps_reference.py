"""docs/steps.md is what `loom steps --markdown` prints today: the declarations and the reference never drift apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "steps.md"


def test_the_step_reference_is_regenerated_whenever_a_declaration_changes() -> None:
    # a fresh process: other tests register step types of their own in this one's registry
    printed = subprocess.run([sys.executable, "-m", "engine.cli", "steps", "--markdown"], cwd=ROOT,
                             capture_output=True, text=True, encoding="utf-8", check=True, timeout=300).stdout
    assert DOC.read_text(encoding="utf-8") == printed, "docs/steps.md is stale: run `loom steps --markdown > docs/steps.md`"
