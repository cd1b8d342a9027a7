"""Node ids are names, never paths: no workflow can make Loom write outside its run folder (issue 18, item 2)."""

from __future__ import annotations

import json

import pytest

from engine import Engine, Workflow, WorkflowInvalid
from engine import events as ev
from engine.context import RunControl, StepContext, path_in_run
from engine.errors import UserInputError
from engine.steps.registry import all_steps
from engine.workflow import MAX_ID_LENGTH, Node, node_id_problem
from tests.hardening_support import assert_refused, loom, rename_node, tiny_classifier

PATH_LIKE_IDS = ["/some/where", "a/b", "..", "../escape", "a.b", "C:\\temp\\x", "~root", "tr ain", "9lives",
                 "x" * (MAX_ID_LENGTH + 1), "con", "NUL"]


@pytest.mark.parametrize("bad_id", PATH_LIKE_IDS)
def test_a_workflow_file_whose_node_id_is_a_path_is_refused_naming_the_file_and_the_id(tmp_path, capsys, bad_id):
    flow = rename_node(tiny_classifier(export=True), "export", bad_id).to_json()
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow))
    shown = bad_id[:80]

    assert_refused(loom(capsys, "validate", path), str(path), shown)
    assert_refused(loom(capsys, "run", path, "--out", tmp_path / "run"), str(path), shown)
    assert not (tmp_path / "run").exists()


def test_an_export_node_with_an_absolute_id_writes_nothing_outside_the_run(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "model.safetensors").write_bytes(b"someone else's weights")
    wf = rename_node(tiny_classifier(export=True), "export", str(outside))  # built in code: no load-time check

    with pytest.raises(WorkflowInvalid) as err:
        Engine(disk_cache=False).start(wf, out_dir=tmp_path / "run", device="cpu")

    assert err.value.problems[0].node_id == str(outside) and "is not a name" in str(err.value)
    assert [p.name for p in outside.iterdir()] == ["model.safetensors"]
    assert (outside / "model.safetensors").read_bytes() == b"someone else's weights"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("part", ["/etc", "../sibling", "a/../../x", "."])
def test_a_step_cannot_resolve_a_path_outside_its_run_folder(tmp_path, part):
    with pytest.raises(UserInputError, match="outside the run folder"):
        path_in_run(tmp_path / "run", part)


def test_a_node_folder_that_is_a_symlink_out_of_the_run_is_refused(tmp_path):
    run, outside = tmp_path / "run", tmp_path / "outside"
    run.mkdir()
    outside.mkdir()
    (run / "train").symlink_to(outside)
    ctx = StepContext(node_id="train", params={}, inputs={}, device="cpu", run_dir=run, bus=ev.EventBus(),
                      control=RunControl())
    with pytest.raises(UserInputError, match="outside the run folder"):
        _ = ctx.node_dir
    assert list(outside.iterdir()) == []


def test_new_node_ids_are_valid_and_unique_for_every_step_type_and_any_pasted_name():
    wf = Workflow()
    bases = [s.type for s in all_steps()] + ["a/b", "../x", "", "9", "con", "x" * 100, "Train", "train"]
    for base in bases * 3:
        node_id = wf.unique_id(base)
        assert node_id_problem(node_id) is None, (base, node_id)
        assert node_id.lower() not in {n.id.lower() for n in wf.nodes}
        wf.add_node(Node(node_id, "digits"))
    assert wf.unique_id("train_gan") == "train_gan" or wf.unique_id("train_gan").startswith("train_gan_")


def test_two_node_ids_that_differ_only_in_case_are_refused(tmp_path, capsys):
    flow = rename_node(tiny_classifier(), "model", "Train").to_json()
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow))
    assert_refused(loom(capsys, "validate", path), "'Train' and 'train' differ only in case")


def test_a_set_aimed_at_a_path_is_refused_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "flow.json"
    tiny_classifier().save(path)
    outcome = loom(capsys, "run", path, "--out", tmp_path / "run", "--set", "/tmp/evil.epochs=1")
    assert_refused(outcome, "no such node")
    assert not (tmp_path / "run").exists()
