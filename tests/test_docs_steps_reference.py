"""docs/steps.md is what `loom steps --markdown` prints today: the declarations and the reference never drift apart."""

from __future__ import annotations

from pathlib import Path

from engine.cli.steps import markdown
from engine.steps.registry import all_steps

DOC = Path(__file__).resolve().parents[1] / "docs" / "steps.md"


def test_the_step_reference_is_regenerated_whenever_a_declaration_changes() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(all_steps()) + "\n", (
        "docs/steps.md is stale: run `loom steps --markdown > docs/steps.md`")
