"""Every file Loom reads can be damaged: one line naming the file and the fault, exit 2 (issue 18, item 8).

Each command is fed each file it reads, damaged in each way a disk, an
editor or an attacker damages files; the user always gets exit 2 and a
``loom: FILE: what is wrong`` line, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening_support import assert_refused, copy_run, finished_run, loom, tiny_classifier, tiny_gan


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("damaged")
    return {"classifier": finished_run(tiny_classifier(export=True), base / "classifier"),
            "gan": finished_run(tiny_gan(), base / "gan")}


def garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 8)


def empty(path: Path) -> None:
    path.write_text("")


def a_folder_in_its_place(path: Path) -> None:
    path.unlink()
    path.mkdir()


def a_list_instead_of_an_object(path: Path) -> None:
    path.write_text("[1, 2, 3]")


def nested_100000_levels(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000)


def cut_in_half(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


def edit(**changes: object) -> Callable[[Path], None]:
    """A damage that sets keys to the given values (a value of ``...`` deletes the key)."""
    def damage(path: Path) -> None:
        data = json.loads(path.read_text())
        for key, value in changes.items():
            if value is ...:
                data.pop(key, None)
            else:
                data[key] = value
        path.write_text(json.dumps(data))
    damage.__name__ = "_".join(f"{k}_{'missing' if v is ... else type(v).__name__}" for k, v in changes.items())
    return damage


COMMON = [garbage, empty, a_folder_in_its_place, a_list_instead_of_an_object, nested_100000_levels, cut_in_half]

# (command, run, damaged file, damage): every file each command reads, damaged every way.
CASES = [
    *[("compare", "classifier", "run.json", d) for d in
      [*COMMON, edit(status=3), edit(nodes=[]), edit(nodes={"train": "done"}), edit(status=...)]],
    *[("compare", "classifier", "workflow.json", d) for d in [*COMMON, edit(nodes="all")]],
    *[("predict", "classifier", "run.json", d) for d in
      [*COMMON, edit(artifacts="all"), edit(artifacts=[{"node": "x", "kind": "model_card", "path": "/etc/passwd"}])]],
    *[("predict", "classifier", "export/model_card.json", d) for d in
      [*COMMON, edit(classes=7), edit(input_shape=...), edit(input={"height": "big"}), edit(card_version="two"),
       edit(normalization={"mean": [0], "std": [0]}), edit(files={"weights": "../../../etc/passwd"})]],
    *[("generate", "gan", "run.json", d) for d in
      [*COMMON, edit(artifacts=...), edit(artifacts=[7]),
       edit(artifacts=[{"node": "train", "kind": "generator", "path": "../../outside.json"}])]],
    *[("generate", "gan", "train/generator.json", d) for d in
      [*COMMON, edit(arch="resnet"), edit(sample_shape=...), edit(sample_shape=[1, 16]),
       edit(params={"latent_dim": 10**9}), edit(weights="/etc/passwd"), edit(normalization="none")]],
    *[("resume", "gan", f, d) for f in ("run.json", "workflow.json") for d in
      [*COMMON, edit(nodes="all")]],
    *[("resume", "gan", "metrics.csv", d) for d in [garbage, a_folder_in_its_place]],
]


def command_line(command: str, run: Path, tmp_path: Path, flow: Path, other: Path) -> list[object]:
    return {
        "compare": ["compare", other, run],
        "predict": ["predict", run, other / "data" / "preview.png"],
        "generate": ["generate", run, "--n", 2, "--out", tmp_path / "images"],
        "resume": ["run", flow, "--resume", run],
    }[command]


@pytest.mark.parametrize(("command", "kind", "name", "damage"), CASES,
                         ids=[f"{c}-{n}-{d.__name__}" for c, _k, n, d in CASES])
def test_a_damaged_file_is_named_with_what_is_wrong(tmp_path, capsys, runs, command, kind, name, damage):
    run = copy_run(runs[kind], tmp_path / "run")
    other = copy_run(runs["classifier"], tmp_path / "other")
    flow = tmp_path / "flow.json"
    tiny_gan().save(flow)
    damage(run / name)
    before = (run / "run.json").read_bytes() if (run / "run.json").is_file() else None

    outcome = loom(capsys, *command_line(command, run, tmp_path, flow, other))

    assert_refused(outcome, str(run / name))
    if before is not None:
        assert (run / "run.json").read_bytes() == before  # reading never rewrites the record


def test_a_metrics_file_damaged_in_the_middle_is_refused_on_resume_but_a_torn_last_line_is_not(tmp_path, capsys,
                                                                                              runs):
    flow = tmp_path / "flow.json"
    tiny_gan().save(flow)
    run = copy_run(runs["gan"], tmp_path / "run")
    lines = (run / "metrics.csv").read_text().splitlines()
    (run / "metrics.csv").write_text("\n".join([*lines[:3], "7,1,train,loss_g", *lines[3:]]) + "\n")
    assert_refused(loom(capsys, "run", flow, "--resume", run), f"{run / 'metrics.csv'}: line 4 is not")

    torn = copy_run(runs["gan"], tmp_path / "torn")
    (torn / "metrics.csv").write_text("\n".join(lines) + "\n12,1,train,los")  # a crash mid-write
    assert loom(capsys, "run", flow, "--resume", torn, "-q").code == 0


def test_a_garbage_checkpoint_on_resume_is_named_and_the_run_keeps_its_artifacts(tmp_path, capsys, runs):
    flow = tmp_path / "flow.json"
    tiny_gan().save(flow)
    run = copy_run(runs["gan"], tmp_path / "run")
    artifacts = json.loads((run / "run.json").read_text())["artifacts"]
    garbage(run / "train" / "checkpoints" / "last.pt")

    outcome = loom(capsys, "run", flow, "--resume", run, "-q")

    assert outcome.code == 2 and "Traceback" not in outcome.err
    assert str(run / "train" / "checkpoints" / "last.pt") in outcome.err
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and info["segments"][-1]["status"] == "succeeded"
    assert all(a in info["artifacts"] for a in artifacts)


@pytest.mark.parametrize("where", ["a folder", "under a file", "in a missing folder", "in a read-only folder"])
def test_output_paths_that_cannot_be_files_are_refused_before_any_work(tmp_path, capsys, monkeypatch, runs, where):
    (tmp_path / "blocker").write_text("a file")
    target = {"a folder": tmp_path, "under a file": tmp_path / "blocker" / "out.csv",
              "in a missing folder": tmp_path / "no" / "such" / "out.csv",
              "in a read-only folder": tmp_path / "out.csv"}[where]
    if where == "in a read-only folder":  # chmod means nothing to root (CI), so the OS's answer is simulated
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == tmp_path else
                            real_access(p, mode, **kw))
    run = runs["classifier"]
    image = run / "data" / "preview.png"
    assert_refused(loom(capsys, "predict", run, image, "--out", target), f"--out {target}")
    assert_refused(loom(capsys, "compare", run, run, "--csv", target), f"--csv {target}")
    assert (tmp_path / "blocker").read_text() == "a file" and not (tmp_path / "no").exists()


@pytest.mark.parametrize(("args", "needle"), [
    (["--seed", "-1"], "--seed -1"),
    (["--seed", str(2**63)], f"--seed {2**63}"),
    (["--n", "0"], "--n 0"),
    (["--interpolate", "1"], "--interpolate 1"),
    (["--n", "1000", "--interpolate", "1000"], "keep it to 100000"),
])
def test_generate_numbers_out_of_range_are_refused(tmp_path, capsys, runs, args, needle):
    outcome = loom(capsys, "generate", runs["gan"], "--out", tmp_path / "images", *args)
    assert_refused(outcome, needle)
    assert len(outcome.lines) == 1 and not (tmp_path / "images").exists()


def test_generate_into_a_file_is_refused(tmp_path, capsys, runs):
    (tmp_path / "images").write_text("a file")
    assert_refused(loom(capsys, "generate", runs["gan"], "--out", tmp_path / "images"), "is a file")


def test_a_missing_weights_file_is_named(tmp_path, capsys, runs):
    run = copy_run(runs["classifier"], tmp_path / "run")
    (run / "export" / "model.safetensors").unlink()
    assert_refused(loom(capsys, "predict", run, run / "data" / "preview.png"), "model.safetensors")
    shutil.rmtree(run)


def test_a_workflow_saved_with_a_byte_order_mark_by_a_windows_editor_still_loads(tmp_path, capsys):
    path = tmp_path / "flow.json"
    path.write_bytes(b"\xef\xbb\xbf" + tiny_gan().dumps().encode("utf-8"))
    outcome = loom(capsys, "validate", path)
    assert outcome.code == 0 and "valid" in outcome.err
