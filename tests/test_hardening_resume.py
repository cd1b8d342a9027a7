"""Runs are never overwritten: --resume checks the workflow, --out never replaces a run (issue 18, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import Engine
from engine import events as ev
from engine.errors import UserInputError
from engine.run_folder import RunLock
from engine.store import read_run
from tests.hardening_support import (
    assert_refused,
    copy_run,
    finished_run,
    loom,
    snapshot,
    tiny_classifier,
    tiny_gan,
)


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory) -> Path:
    return finished_run(tiny_classifier(), tmp_path_factory.mktemp("resume") / "classifier")


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory) -> Path:
    return finished_run(tiny_gan(), tmp_path_factory.mktemp("resume") / "gan")


@pytest.fixture
def classifier_flow(tmp_path) -> Path:
    path = tmp_path / "classifier.json"
    tiny_classifier().save(path)
    return path


def test_resuming_a_gan_run_with_a_classifier_workflow_leaves_the_gan_run_untouched(
        tmp_path, capsys, gan_run, classifier_flow):
    run = copy_run(gan_run, tmp_path / "gan")
    before = snapshot(run)
    outcome = loom(capsys, "run", classifier_flow, "--resume", run)
    assert_refused(outcome, f"cannot resume {run}", "node 'train' was a 'train_gan' step there but is a 'train' "
                   "step now", "start a fresh run")
    assert snapshot(run) == before


def test_resuming_with_another_learning_rate_is_refused_naming_the_node_and_the_param(
        tmp_path, capsys, classifier_run, classifier_flow):
    run = copy_run(classifier_run, tmp_path / "run")
    before = snapshot(run)
    outcome = loom(capsys, "run", classifier_flow, "--resume", run, "--set", "train.lr=0.1",
                   "--set", "model.hidden=32")
    assert_refused(outcome, "node 'train', param 'lr': 0.001 there, 0.1 now", "node 'model', param 'hidden'",
                   "was left untouched")
    assert snapshot(run) == before


def test_resuming_with_more_epochs_is_allowed_and_the_change_is_recorded(tmp_path, capsys, classifier_run,
                                                                         classifier_flow):
    run = copy_run(classifier_run, tmp_path / "run")
    first = read_run(run)
    outcome = loom(capsys, "run", classifier_flow, "--resume", run, "--set", "train.epochs=2", "-q")
    assert outcome.code == 0, outcome.err
    assert "resuming with a changed setting: node 'train', param 'epochs': 1 there, 2 now" in outcome.err
    info = read_run(run)
    assert info["status"] == "succeeded" and info["started"] == first["started"]
    assert info["changed_on_resume"] == ["node 'train', param 'epochs': 1 there, 2 now"]
    assert info["segments"][0]["status"] == "succeeded"
    assert {json.dumps(a, sort_keys=True) for a in first["artifacts"]} <= {
        json.dumps(a, sort_keys=True) for a in info["artifacts"]}


def test_resuming_a_folder_that_does_not_exist_is_refused_and_creates_nothing(tmp_path, capsys, classifier_flow):
    outcome = loom(capsys, "run", classifier_flow, "--resume", tmp_path / "typo")
    assert_refused(outcome, f"--resume {tmp_path / 'typo'}: no such run folder")
    assert not (tmp_path / "typo").exists() and not (Path.cwd() / "runs" / "typo").exists()


def test_resume_and_a_different_out_folder_together_are_refused(tmp_path, capsys, classifier_run, classifier_flow):
    run = copy_run(classifier_run, tmp_path / "run")
    outcome = loom(capsys, "run", classifier_flow, "--resume", run, "--out", tmp_path / "other")
    assert_refused(outcome, "drop --out")
    assert not (tmp_path / "other").exists()


def test_a_run_another_process_is_writing_is_not_resumed(tmp_path, capsys, classifier_run, classifier_flow):
    run = copy_run(classifier_run, tmp_path / "run")
    held = RunLock(run)
    assert held.acquire()
    try:
        before = read_run(run)
        outcome = loom(capsys, "run", classifier_flow, "--resume", run)
        assert_refused(outcome, "another Loom run is writing this folder")
        assert read_run(run) == before
    finally:
        held.release()


def test_a_resume_that_fails_before_anything_ran_leaves_run_json_byte_for_byte(
        tmp_path, capsys, monkeypatch, classifier_run, classifier_flow):
    import engine.device

    run = copy_run(classifier_run, tmp_path / "run")
    record, workflow, metrics = ((run / f).read_bytes() for f in ("run.json", "workflow.json", "metrics.csv"))

    def no_gpu(preference: str) -> tuple[str, str]:
        raise UserInputError("--device cuda: no CUDA GPU is visible — use --device cpu")

    monkeypatch.setattr(engine.device, "select_device", no_gpu)
    outcome = loom(capsys, "run", classifier_flow, "--resume", run, "-q")
    assert outcome.code == 2 and "no CUDA GPU" in outcome.err and "Traceback" not in outcome.err
    assert (run / "run.json").read_bytes() == record
    assert (run / "workflow.json").read_bytes() == workflow
    assert (run / "metrics.csv").read_bytes() == metrics
    assert "nothing ran: run.json left as it was" in (run / "log.txt").read_text()


def test_after_a_resume_run_json_lists_the_artifacts_of_every_segment(tmp_path):
    wf = tiny_gan(epochs=2)
    engine = Engine()  # the disk cache makes the data nodes 'cached' when resumed: they save nothing new
    holder: dict = {}

    def stop_at_step_6(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and e.name == "loss_g" and e.step == 6:
            holder["handle"].stop()

    holder["handle"] = engine.start(wf, out_dir=tmp_path / "run", device="cpu", on_event=stop_at_step_6)
    assert holder["handle"].wait().status == "stopped"
    first = read_run(tmp_path / "run")["artifacts"]
    assert {"node": "data", "kind": "preview", "path": "data/preview.png"} in first

    resumed = Engine().run(wf, resume_from=tmp_path / "run", device="cpu")
    assert resumed.status == "succeeded", resumed.message
    info = read_run(tmp_path / "run")
    assert info["nodes"]["data"]["state"] == "cached"
    listed = info["artifacts"]
    assert all(a in listed for a in first if a["kind"] != "checkpoint"), "an earlier segment's artifact was dropped"
    assert {"node": "generate", "kind": "images", "path": "generate/images"} in listed  # the new segment's too
    assert [a["kind"] for a in listed].count("checkpoint") == 1  # the newest checkpoint only
    assert info["segments"] == [{"status": "stopped", "message": "stopped by the user",
                                 "finished": info["segments"][0]["finished"],
                                 "duration_s": info["segments"][0]["duration_s"], "device": "cpu"}]
    assert all((tmp_path / "run" / a["path"]).exists() for a in listed)


def test_out_pointing_at_an_existing_run_is_refused_and_the_run_is_untouched(tmp_path, capsys, classifier_run,
                                                                             classifier_flow):
    run = copy_run(classifier_run, tmp_path / "run")
    before = snapshot(run)
    outcome = loom(capsys, "run", classifier_flow, "--out", run)
    assert_refused(outcome, f"--out {run}: already holds a run", "--force", f"--resume {run}")
    assert snapshot(run) == before


def test_force_moves_the_earlier_run_aside_and_never_deletes_it(tmp_path, capsys, classifier_flow):
    out = tmp_path / "run"
    assert loom(capsys, "run", classifier_flow, "--out", out, "-q").code == 0
    before = snapshot(out)

    outcome = loom(capsys, "run", classifier_flow, "--out", out, "--force", "-q")

    assert outcome.code == 0, outcome.err
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("run.old-")]
    assert f"moved the earlier {out} aside to {aside}" in outcome.err
    assert snapshot(aside) == before
    assert read_run(out)["status"] == read_run(aside)["status"] == "succeeded"
    listed = json.loads(loom(capsys, "runs", "--json").out)
    assert {str(out.resolve()), str(aside.resolve())} <= {r["run_dir"] for r in listed}


@pytest.mark.parametrize("occupant", ["a folder with files", "a file", "inside a run"])
def test_out_pointing_at_something_that_is_not_an_empty_folder_is_refused(tmp_path, capsys, classifier_run,
                                                                          classifier_flow, occupant):
    if occupant == "a folder with files":
        out = tmp_path / "photos"
        out.mkdir()
        (out / "holiday.jpg").write_bytes(b"not really")
        needle = "already exists and is not empty"
    elif occupant == "a file":
        out = tmp_path / "notes.txt"
        out.write_text("mine")
        needle = "is a file"
    else:
        run = copy_run(classifier_run, tmp_path / "run")
        out = run / "train" / "again"
        needle = f"is inside the run folder {run}"
    before = snapshot(tmp_path)
    assert_refused(loom(capsys, "run", classifier_flow, "--out", out), needle)
    assert snapshot(tmp_path) == before


def test_an_empty_out_folder_is_used(tmp_path, capsys, classifier_flow):
    out = tmp_path / "fresh"
    out.mkdir()
    assert loom(capsys, "run", classifier_flow, "--out", out, "-q").code == 0
    assert read_run(out)["status"] == "succeeded"


def test_a_run_folder_with_a_link_leading_out_of_it_is_not_resumed(tmp_path, capsys, classifier_run,
                                                                   classifier_flow):
    run = copy_run(classifier_run, tmp_path / "run")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checkpoints = run / "train" / "checkpoints"
    for f in checkpoints.iterdir():
        f.rename(elsewhere / f.name)
    checkpoints.rmdir()
    checkpoints.symlink_to(elsewhere)  # a checkpoint written "in the run" would land in elsewhere/
    before = snapshot(elsewhere)
    assert_refused(loom(capsys, "run", classifier_flow, "--resume", run), f"{checkpoints}: is a link out of the run")
    assert snapshot(elsewhere) == before
