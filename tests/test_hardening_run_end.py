"""A run always ends with a true record: full disks, read-only folders, a broken index (issue 18, item 4)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import engine.store
from engine.store import read_run
from tests.hardening_support import assert_refused, loom, tiny_classifier, tiny_gan

DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def gan_flow(tmp_path) -> Path:
    path = tmp_path / "gan.json"
    tiny_gan().save(path)
    return path


@pytest.fixture
def classifier_flow(tmp_path) -> Path:
    path = tmp_path / "classifier.json"
    tiny_classifier().save(path)
    return path


def test_a_full_disk_while_checkpointing_fails_the_run_naming_the_disk_and_keeps_the_last_checkpoint(
        tmp_path, capsys, monkeypatch, gan_flow):
    real_replace, saved = os.replace, []

    def disk_fills_after_two_checkpoints(src, dst, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if str(dst).endswith("last.pt"):
            if len(saved) == 2:
                raise OSError(errno.ENOSPC, "No space left on device", str(dst))
            saved.append(dst)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", disk_fills_after_two_checkpoints)
    run = tmp_path / "run"
    outcome = loom(capsys, "run", gan_flow, "--out", run, "-q")

    assert outcome.code == 1 and "Traceback" not in outcome.err
    assert f"no space left on device in {run / 'train' / 'checkpoints'}; free" in outcome.err
    assert "MB and `loom run WORKFLOW --resume" in outcome.err
    info = read_run(run)
    assert info["status"] == "failed" and "no space left on device" in info["message"]
    kept = torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert kept["position"]["step"] == 8  # the second checkpoint (every 4 steps), intact


def test_a_full_disk_at_the_final_record_still_leaves_the_final_status(tmp_path, capsys, monkeypatch,
                                                                      classifier_flow):
    real_write = engine.store.atomic_write_json

    def full_when_finishing(path, obj):  # noqa: ANN001
        if Path(path).name == "run.json" and obj.get("finished"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, obj)

    monkeypatch.setattr(engine.store, "atomic_write_json", full_when_finishing)
    run = tmp_path / "run"
    outcome = loom(capsys, "run", classifier_flow, "--out", run, "-q")

    assert outcome.code == 0, outcome.err
    info = read_run(run)  # rewritten in place, within the blocks the file already had
    assert info["status"] == "succeeded" and info["finished"]


def test_when_the_final_record_cannot_be_written_at_all_the_cli_says_so_and_fails(tmp_path, capsys, monkeypatch,
                                                                                  classifier_flow):
    real_write = engine.store.atomic_write_json

    def full_when_finishing(path, obj):  # noqa: ANN001
        if Path(path).name == "run.json" and obj.get("finished"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, obj)

    monkeypatch.setattr(engine.store, "atomic_write_json", full_when_finishing)
    monkeypatch.setattr(engine.store, "_overwrite_in_place", lambda path, info: False)
    run = tmp_path / "run"
    outcome = loom(capsys, "run", classifier_flow, "--out", run, "-q")

    assert outcome.code == 1 and "Traceback" not in outcome.err
    assert f"{run / 'run.json'} could not be written with the final status 'succeeded'" in outcome.err
    assert "no space left on device" in outcome.err
    assert read_run(run)["status"] == "running"  # the file says less than the CLI, and the CLI says so


def test_metrics_that_cannot_be_saved_fail_the_run_instead_of_claiming_success(tmp_path, capsys, monkeypatch,
                                                                              classifier_flow):
    import csv

    real_writer = csv.writer

    class FullDiskWriter:
        def __init__(self, f) -> None:  # noqa: ANN001
            self.inner, self.rows = real_writer(f), 0

        def writerow(self, row):  # noqa: ANN001
            self.rows += 1
            if self.rows > 1:  # the header fits, the first metric row does not
                raise DISK_FULL
            return self.inner.writerow(row)

    monkeypatch.setattr(engine.store, "csv", SimpleNamespace(writer=FullDiskWriter))  # only the recorder's file
    run = tmp_path / "run"
    outcome = loom(capsys, "run", classifier_flow, "--out", run, "-q")

    assert outcome.code == 1 and "Traceback" not in outcome.err
    info = read_run(run)
    assert info["status"] == "failed"
    assert info["message"].startswith("the run's record is incomplete: metrics.csv could not be written: no space "
                                      "left on device in")
    assert info["message"] in outcome.err


def test_an_index_folder_that_cannot_be_written_still_ends_the_run_with_a_true_record(
        tmp_path, capsys, monkeypatch, classifier_flow):
    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LOOM_HOME", str(blocker))
    run = tmp_path / "run"
    outcome = loom(capsys, "run", classifier_flow, "--out", run, "-q")

    assert outcome.code == 0, outcome.err
    assert f"loom: warning: the run index {blocker / 'runs.sqlite'} was not updated" in outcome.err
    info = read_run(run)
    assert info["status"] == "succeeded" and info["finished"] and isinstance(info["duration_s"], float)


def test_a_read_only_output_folder_is_refused_with_one_line(tmp_path, capsys, monkeypatch, classifier_flow):
    def read_only(path, obj):  # noqa: ANN001
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(engine.store, "atomic_write_json", read_only)
    outcome = loom(capsys, "run", classifier_flow, "--out", tmp_path / "run")
    assert_refused(outcome, f"{tmp_path / 'run'}: cannot write the run folder (read-only file system)")
    assert len(outcome.lines) == 1
    assert not (tmp_path / "run").exists()  # nothing left behind to trip the next try


def test_an_output_folder_under_a_file_is_refused_with_one_line(tmp_path, capsys, classifier_flow):
    (tmp_path / "file").write_text("in the way")
    outcome = loom(capsys, "run", classifier_flow, "--out", tmp_path / "file" / "run")
    assert_refused(outcome, "cannot write the run folder (a file is in the way of a folder)")
    assert len(outcome.lines) == 1
