"""Validation reports every problem at once, naming node, field and remedy."""

from __future__ import annotations

import pytest

from engine.params import Choice, Float, Int, ParamError
from engine.validation import apply_overrides, topological_order, validate
from engine.workflow import Endpoint, Link, Node, Workflow
from tests.conftest import EXAMPLES


def example() -> Workflow:
    return Workflow.load(EXAMPLES / "classify_digits.json")


def link(a: str, b: str) -> Link:
    return Link(Endpoint.parse(a), Endpoint.parse(b))


def test_the_example_is_valid():
    assert validate(example()) == []


def test_five_planted_errors_give_five_specific_problems():
    wf = example()
    wf.node("train").params["epochs"] = 0  # out of range
    wf.node("train").params["optimizer"] = "adamm"  # not a choice
    wf.node("model").params["dropout"] = "lots"  # wrong type
    wf.nodes.append(Node("extra", "no_such_step"))  # unknown type
    wf.links = [lk for lk in wf.links if lk.target != Endpoint("evaluate", "data")]  # missing input
    problems = validate(wf)
    text = [str(p) for p in problems]
    assert len(problems) == 5, text
    assert any("node 'train', param 'epochs'" in t and "below the minimum 1" in t for t in text)
    assert any("node 'train', param 'optimizer'" in t and "did you mean 'adam'" in t for t in text)
    assert any("node 'model', param 'dropout'" in t and "not a number" in t for t in text)
    assert any("node 'extra', type" in t and "unknown step type" in t for t in text)
    assert any("node 'evaluate', input 'data'" in t and "not connected" in t for t in text)


def test_incompatible_link_names_both_types():
    wf = example()
    wf.links.append(link("model.model", "evaluate.data"))
    wf.links = [lk for lk in wf.links if lk != link("preprocess.data", "evaluate.data")]
    [problem] = validate(wf)
    assert problem.node_id == "evaluate" and "takes Dataset but 'model.model' gives Model" in problem.message


def test_duplicate_ids_cycles_and_unknown_ports_are_reported():
    wf = Workflow(
        nodes=[Node("a", "normalize"), Node("b", "normalize"), Node("a", "digits")],
        links=[link("a.data", "b.data"), link("b.data", "a.data"), link("b.nothing", "a.data")],
    )
    text = " | ".join(str(p) for p in validate(wf))
    assert "used by more than one node" in text
    assert "part of a cycle" in text
    assert "output 'nothing'" in text


def test_unknown_param_suggests_the_close_name():
    wf = example()
    wf.node("train").params["epoch"] = 3
    [problem] = validate(wf)
    assert problem.field == "param 'epoch'" and "did you mean 'epochs'" in problem.message


def test_topological_order_puts_sources_first():
    order = topological_order(example())
    assert order.index("data") < order.index("preprocess") < order.index("train") < order.index("evaluate")
    assert order.index("model") < order.index("train")


def test_overrides_are_typed_and_checked():
    wf = example()
    assert apply_overrides(wf, ["train.epochs=5", "train.lr=0.01", "train.optimizer=SGD"]) == []
    assert wf.node("train").params["epochs"] == 5
    assert wf.node("train").params["lr"] == 0.01
    assert wf.node("train").params["optimizer"] == "sgd"
    problems = apply_overrides(wf, ["train.epochs=many", "nobody.x=1", "train.lrr=1", "oops"])
    assert len(problems) == 4


def test_param_declarations_check_and_parse():
    epochs = Int("epochs", 10, 1, 100)
    assert epochs.parse("7") == 7 and epochs.check(7.0) == 7
    for bad in (0, 101, 2.5, True, "7"):
        try:
            epochs.check(bad)
        except ParamError:
            continue
        raise AssertionError(f"{bad!r} should be refused")
    assert Float("lr", 0.1, 0.0, 1.0).parse("1e-3") == 0.001
    assert Choice("size", 8, (8, 16)).parse("16") == 16


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_shipped_example_is_valid_or_only_waits_for_your_data(example):
    problems = validate(Workflow.load(EXAMPLES / example))
    assert all("param 'path': is required" in str(p) for p in problems), problems
