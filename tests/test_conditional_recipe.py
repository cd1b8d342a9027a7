"""The recipes: gan_digits.json and the Generate wizard's defaults train a class-conditional DCGAN with EMA for
a time budget (what measured best in 5 minutes on 2 CPU cores; see bench/judge_classes.py)."""

from __future__ import annotations

from pathlib import Path

from engine.validation import validate
from engine.workflow import Workflow
from gui.wizards.recipes import Budget, DataChoice, GenerateChoices, generate_workflow

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def test_the_digits_example_draws_classes_with_ema_for_a_time_budget() -> None:
    wf = Workflow.load(EXAMPLES / "gan_digits.json")
    assert validate(wf) == []
    assert wf.node("data").params["size"] == 16
    assert wf.node("model").params["conditional"] == "auto"
    train = wf.node("train").params
    assert 0 < train["time_budget"] < 5 and train["epochs"] >= 10_000  # the clock decides, within 5 minutes
    assert train["ema"] > 0 and train["diversity"] > 0  # mode seeking: many hands per digit, not one


def test_the_wizard_defaults_train_digits_conditionally_for_five_minutes() -> None:
    wf = generate_workflow(GenerateChoices())
    assert validate(wf) == []
    assert wf.node("data").type == "digits" and wf.node("data").params["size"] == 16
    assert wf.node("model").params.get("conditional", "auto") == "auto"  # digits have labels: one row per digit
    assert wf.node("train").params["time_budget"] == 5.0
    assert wf.node("train").params.get("ema", 0.999) > 0 and wf.node("train").params["diversity"] > 0


def test_the_wizard_keeps_epochs_when_asked_and_a_folder_stays_unlabelled(tmp_path: Path) -> None:
    wf = generate_workflow(GenerateChoices(budget=Budget(kind="epochs", epochs=7)))
    assert wf.node("train").params["epochs"] == 7 and "time_budget" not in wf.node("train").params
    folder = generate_workflow(GenerateChoices(data=DataChoice("folder", str(tmp_path)), resolution=32))
    assert folder.node("data").params["labels"] == "none"  # so auto trains without classes
