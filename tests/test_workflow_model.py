"""The workflow document: JSON round-trips, versioning and shape errors."""

from __future__ import annotations

import json

import pytest

from engine.workflow import SCHEMA_VERSION, Endpoint, Link, Node, Workflow, WorkflowFormatError
from tests.conftest import EXAMPLES


def test_save_and_load_round_trip_losslessly(tmp_path):
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.nodes[0].position = (12.5, -40.25)
    path = tmp_path / "flow.json"
    wf.save(path)
    again = Workflow.load(path)
    assert again.to_json() == wf.to_json()
    assert again.node("data").position == (12.5, -40.25)
    assert json.loads(path.read_text())["schema"] == SCHEMA_VERSION


def test_unique_ids_stay_readable():
    wf = Workflow(nodes=[Node("train", "train")])
    assert wf.unique_id("train") == "train_2"
    assert wf.unique_id("evaluate") == "evaluate"


def test_removing_a_node_returns_its_links_for_undo():
    wf = Workflow(
        nodes=[Node("a", "digits"), Node("b", "normalize")],
        links=[Link(Endpoint("a", "data"), Endpoint("b", "data"))],
    )
    removed = wf.remove_node("a")
    assert removed == [Link(Endpoint("a", "data"), Endpoint("b", "data"))]
    assert wf.links == [] and [n.id for n in wf.nodes] == ["b"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"nodes": []}, 'no "schema" field'),
        ({"schema": 99, "nodes": []}, "newer than this Loom understands"),
        ({"schema": 0, "nodes": []}, "not a known version"),
        ({"schema": 1, "nodes": [{"type": "digits"}]}, 'missing "id"'),
        ({"schema": 1, "nodes": [], "links": [{"source": "a", "target": "b.x"}]}, "node.port"),
        ([1, 2], "must hold a JSON object"),
    ],
)
def test_malformed_documents_are_refused_with_a_reason(document, expected):
    with pytest.raises(WorkflowFormatError) as err:
        Workflow.from_json(document, source="f.json")
    assert expected in str(err.value)


def test_invalid_json_names_line_and_column():
    with pytest.raises(WorkflowFormatError, match=r"line 1, column"):
        Workflow.loads("{nope", source="f.json")


def test_missing_file_is_a_user_error(tmp_path):
    from engine.errors import UserInputError

    with pytest.raises(UserInputError, match="no such file"):
        Workflow.load(tmp_path / "absent.json")
