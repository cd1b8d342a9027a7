"""Following a run folder another process writes: each point once, in order, torn tails waited for, the end told.

The folder is written here by hand, step by step, the way the run store
writes it (run.json replaced atomically, metrics.csv and log.txt appended),
with the awkward moments a reader meets: a metric row cut in the middle, a
log line without its end, an artifact listed before this reader looked, a
metrics.csv rewritten by a resumed run, a damaged or vanished record.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import events as ev
from engine.errors import UserInputError
from engine.fileio import atomic_write_json
from engine.follow import RunFolderFollower, check_run_folder

HEADER = "step,epoch,node,name,value,time\n"


def record(**changes) -> dict:
    """A run.json as the store writes it while a run is under way."""
    info = {"run_id": "r1", "workflow": "tiny", "status": "running", "message": "", "device": "cpu",
            "device_reason": "requested", "started": "2026-03-04T09:00:00+00:00", "finished": None,
            "nodes": {"data": {"type": "digits", "state": "done"}, "train": {"type": "train_gan", "state": "running"}},
            "artifacts": []}
    info.update(changes)
    return info


def write_png(path: Path, value: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((6, 8, 3), value, dtype=np.uint8)).save(path)


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def points(events: list) -> list[tuple[int, str, float]]:
    return [(e.step, e.name, e.value) for e in events if isinstance(e, ev.MetricPoint)]


def of(kind: type, events: list) -> list:
    return [e for e in events if isinstance(e, kind)]


@pytest.fixture
def run(tmp_path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    atomic_write_json(folder / "workflow.json", {"schema": 1, "name": "tiny", "nodes": [
        {"id": "train", "type": "train_gan", "params": {"epochs": 2, "batch_size": 16}}], "links": []})
    atomic_write_json(folder / "run.json", record())
    (folder / "metrics.csv").write_text(HEADER)
    (folder / "log.txt").write_text("09:00:01 INFO    [train] training gan_mlp, 2 epochs x 3 steps, cpu, fp32\n")
    return folder


def test_a_folder_written_step_by_step_yields_each_point_once_in_order_and_the_final_status(run):
    follower = RunFolderFollower(run)
    first = follower.poll()
    assert isinstance(first[0], ev.RunStarted) and first[0].device == "cpu" and first[0].run_dir == str(run)
    assert [(e.node_id, e.state) for e in of(ev.NodeState, first)] == [("data", "done"), ("train", "running")]
    assert [e.message for e in of(ev.LogLine, first)] == ["training gan_mlp, 2 epochs x 3 steps, cpu, fp32"]
    assert points(first) == []

    seen = []
    append(run / "metrics.csv", "1,1,train,loss,0.9,100.0\n2,1,train,loss,0.8,101.0\n3,1,train,lo")  # torn tail
    batch = follower.poll()
    seen += points(batch)
    assert points(batch) == [(1, "loss", 0.9), (2, "loss", 0.8)]  # the cut row waits for its end
    progress = of(ev.Progress, batch)[-1]
    assert (progress.step, progress.total_steps, progress.epoch, progress.total_epochs) == (2, 6, 1, 2)
    assert progress.fraction == pytest.approx(2 / 6)
    assert progress.samples_per_s == pytest.approx(16.0)  # one step a second, 16 samples a step
    assert progress.eta_s == pytest.approx(4.0)
    assert points(follower.poll()) == []  # nothing new: nothing told again

    append(run / "metrics.csv", "ss,0.7,102.0\n4,2,train,loss,0.6,103.0\n")  # the row's end, and one more
    write_png(run / "train" / "samples" / "step_000004.png", 200)
    append(run / "log.txt", "09:00:05 INFO    [train] epoch 1 done\n09:00:06 WARN")  # half a log line
    atomic_write_json(run / "run.json", record(artifacts=[
        {"node": "train", "kind": "samples", "path": "train/samples/step_000004.png"},
        {"node": "train", "kind": "checkpoint", "path": "train/checkpoints/last.pt"}]))  # not written yet
    batch = follower.poll()
    seen += points(batch)
    assert points(batch) == [(3, "loss", 0.7), (4, "loss", 0.6)]
    image = of(ev.ImageReady, batch)
    assert [(i.node_id, i.name, i.step) for i in image] == [("train", "samples", 4)]
    assert image[0].pixels.shape == (6, 8, 3) and image[0].pixels[0, 0, 0] == 200
    assert [e.message for e in of(ev.LogLine, batch)] == ["epoch 1 done"]  # the cut line is not shown cut

    (run / "train" / "checkpoints").mkdir(parents=True)
    (run / "train" / "checkpoints" / "last.pt").write_bytes(b"weights")
    append(run / "metrics.csv", "5,2,train,loss,0.5,104.0\n6,2,train,loss,0.4,105.0\n")
    append(run / "log.txt", "ING [train] slow disk\n")
    atomic_write_json(run / "run.json", record(
        status="succeeded", message="", nodes={"data": {"type": "digits", "state": "done"},
                                               "train": {"type": "train_gan", "state": "done", "report": {"steps": 6}}},
        artifacts=[{"node": "train", "kind": "samples", "path": "train/samples/step_000004.png"},
                   {"node": "train", "kind": "checkpoint", "path": "train/checkpoints/last.pt"}]))
    batch = follower.poll()
    seen += points(batch)
    assert points(batch) == [(5, "loss", 0.5), (6, "loss", 0.4)]
    assert [(e.kind, Path(e.path).name) for e in of(ev.ArtifactSaved, batch)] == [("checkpoint", "last.pt")]
    assert of(ev.ImageReady, batch) == []  # the picture was told once
    assert [(e.node_id, e.state) for e in of(ev.NodeState, batch)] == [("train", "done")]
    assert of(ev.NodeReport, batch)[0].report == {"steps": 6}
    assert [(e.level, e.message) for e in of(ev.LogLine, batch)] == [("warning", "slow disk")]
    assert isinstance(batch[-1], ev.RunFinished) and batch[-1].status == "succeeded"
    assert follower.ended and follower.status == "succeeded"
    assert follower.poll() == []

    assert [s for s, _, _ in seen] == [1, 2, 3, 4, 5, 6]  # every point exactly once, in order
    assert [v for _, _, v in seen] == [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]


def test_a_torn_line_never_raises_whatever_it_holds(run):
    follower = RunFolderFollower(run)
    follower.poll()
    for torn in ("1", "1,1,train", "1,1,train,loss,0.", "\0\0\0", "é,ü", "1,1,train,loss,abc,5"):
        append(run / "metrics.csv", torn)
        assert points(follower.poll()) == []
        append(run / "metrics.csv", "\n")  # a garbage line, once whole, is skipped
        follower.poll()
    append(run / "metrics.csv", "7,1,train,loss,0.3,110.0\n")
    assert points(follower.poll()) == [(7, "loss", 0.3)]


def test_a_log_line_keeps_the_time_it_was_written(run):
    import datetime as dt

    lines = of(ev.LogLine, RunFolderFollower(run).poll())
    written = dt.datetime.fromtimestamp(lines[0].time)
    assert written.time() == dt.time(9, 0, 1)
    assert written.date() == dt.datetime.fromisoformat("2026-03-04T09:00:00+00:00").astimezone().date()


def test_a_rewritten_metrics_file_drops_the_points_it_replaced_and_repeats_none(run):
    follower = RunFolderFollower(run)
    append(run / "metrics.csv", "1,1,train,loss,0.9,100.0\n2,1,train,loss,0.8,101.0\n3,1,train,loss,0.7,102.0\n")
    assert [s for s, _, _ in points(follower.poll())] == [1, 2, 3]
    # A resumed run rewinds to its checkpoint at step 2: the store rewrites the file (os.replace) and goes on.
    replacement = run / "metrics.new"
    replacement.write_text(HEADER + "1,1,train,loss,0.9,100.0\n2,1,train,loss,0.8,101.0\n3,1,train,loss,0.65,200.0\n")
    replacement.replace(run / "metrics.csv")
    batch = follower.poll()
    rewinds = of(ev.Rewind, batch)
    assert [(r.node_id, r.step) for r in rewinds] == [("train", -1)]
    assert batch.index(rewinds[0]) < batch.index(of(ev.MetricPoint, batch)[0])  # dropped before they come again
    assert points(batch) == [(1, "loss", 0.9), (2, "loss", 0.8), (3, "loss", 0.65)]


def test_an_unreadable_record_is_read_again_and_said_once(run):
    follower = RunFolderFollower(run)
    follower.poll()
    (run / "run.json").write_text('{"status": "runn')  # a foreign writer, mid-write
    warnings = [e for e in follower.poll() + follower.poll() if isinstance(e, ev.LogLine)]
    assert len(warnings) == 1 and "run.json" in warnings[0].message and warnings[0].level == "warning"
    assert not follower.ended
    atomic_write_json(run / "run.json", record(status="stopped", message="stopped by the user"))
    batch = follower.poll()
    assert isinstance(batch[-1], ev.RunFinished) and batch[-1].status == "stopped"
    assert batch[-1].message == "stopped by the user"


def test_a_folder_that_vanishes_ends_the_following_with_a_warning(run):
    import shutil

    follower = RunFolderFollower(run)
    follower.poll()
    shutil.rmtree(run)
    batch = follower.poll()
    assert follower.ended and of(ev.RunFinished, batch) == []
    assert "gone" in of(ev.LogLine, batch)[0].message


def test_only_a_run_folder_can_be_followed(tmp_path):
    with pytest.raises(UserInputError, match="no such run folder"):
        check_run_folder(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(UserInputError, match=r"not a Loom run folder \(no run.json\)"):
        check_run_folder(tmp_path / "plain")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UserInputError, match="is a file, not a run folder"):
        check_run_folder(tmp_path / "file.txt")


def test_a_finished_folder_is_told_whole_then_ends(tmp_path):
    folder = tmp_path / "done"
    folder.mkdir()
    atomic_write_json(folder / "run.json", record(status="failed", message="train: out of memory"))
    (folder / "metrics.csv").write_text(HEADER + "1,1,train,loss,0.5,1.0\n")
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    batch = RunFolderFollower(folder).poll()
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before  # read, never written
    assert isinstance(batch[0], ev.RunStarted)
    assert points(batch) == [(1, "loss", 0.5)]
    assert isinstance(batch[-1], ev.RunFinished) and batch[-1].status == "failed"
    assert batch[-1].message == "train: out of memory"


def test_a_run_that_goes_quiet_is_said_once_to_perhaps_have_lost_its_writer(run):
    from tests.fakes import FakeClock

    clock = FakeClock()
    follower = RunFolderFollower(run, quiet_s=300, clock=clock)
    follower.poll()
    clock.advance(299)
    assert follower.poll() == []
    clock.advance(2)
    said = follower.poll()
    assert [e.level for e in said] == ["warning"] and "nothing new in run for 5 min" in said[0].message
    clock.advance(600)
    assert follower.poll() == []  # said once per quiet spell
    append(run / "metrics.csv", "1,1,train,loss,0.9,100.0\n")
    assert points(follower.poll()) == [(1, "loss", 0.9)]
    clock.advance(301)
    assert len(of(ev.LogLine, follower.poll())) == 1  # quiet again: said again
    assert not follower.ended
