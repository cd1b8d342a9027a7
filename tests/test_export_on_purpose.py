"""Export model, on purpose: a finished run's classifier as files, with no retraining, no new run, no new step.

The engine (:func:`engine.export.from_run.export_run`), the CLI (``loom export``)
and the app's Export dialog opened from the results page all write the same
files an Export step writes, from what the run saved, into a new folder.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.errors import UserInputError
from engine.export import from_run
from engine.export.from_run import describe_export, export_run
from engine.run_files import read_run
from engine.run_index import RunIndex
from gui.testing import HANG_MS
from tests.conftest import screenshots_dir
from tests.hardening_support import assert_refused, finished_run, loom, snapshot, tiny_classifier

pytestmark = pytest.mark.timeout(600)  # a hang (a modal prompt) fails instead of stalling CI
SHOTS = screenshots_dir()
ALL_FILES = {"model.safetensors", "model_card.json", "model.torchscript.pt", "model.onnx"}


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory) -> Path:
    """One tiny finished classifier run WITHOUT an Export step (its train step left train/model/)."""
    base = tmp_path_factory.mktemp("export-on-purpose")
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: keep the user's cache and run index out of it
        mp.setenv("LOOM_HOME", str(base / "home"))
        mp.setenv("LOOM_CACHE_DIR", str(base / "cache"))
        return finished_run(tiny_classifier(), base / "run")


def an_image(run: Path) -> Path:
    return run / "data" / "preview.png"


def test_export_run_writes_the_export_step_files_from_the_saved_weights(classifier_run: Path, tmp_path: Path,
                                                                         capsys) -> None:
    before = snapshot(classifier_run)
    dest = tmp_path / "shared" / "digits-export"  # parents are made as needed

    files = export_run(classifier_run, dest, None)

    assert {p.name for p in files} == ALL_FILES and all(p.is_file() for p in files)
    assert {p.name for p in dest.iterdir()} == ALL_FILES  # no staging folder or temp file left beside them
    assert [p.name for p in dest.parent.iterdir()] == ["digits-export"]
    card = json.loads((dest / "model_card.json").read_text())
    assert card["files"] == {"weights": "model.safetensors", "torchscript": "model.torchscript.pt",
                             "onnx": "model.onnx"}
    assert card["exported_from"] == {"run": str(classifier_run.resolve()), "folder": "train/model"}
    evaluation = read_run(classifier_run)["nodes"]["evaluate"]["report"]
    assert card["metrics"]["accuracy"] == evaluation["accuracy"]  # the run's evaluation rides along
    assert card["checks"]["onnx_max_abs_diff"] < 1e-3
    assert snapshot(classifier_run) == before, "the run folder is only read"

    # loom predict works on the new folder and agrees with the model the run saved
    out = loom(capsys, "predict", dest, an_image(classifier_run))
    assert out.code == 0, out.err
    assert out.out == loom(capsys, "predict", classifier_run / "train" / "model", an_image(classifier_run)).out


def test_a_text_classifier_is_exported_with_its_tokenizer(tmp_path: Path, capsys) -> None:
    from tests.text_flows import classify_texts

    run = finished_run(classify_texts("gru", epochs=1, export=False), tmp_path / "run")
    plan = describe_export(run, ["safetensors"])
    assert [name for name, _ in plan.files] == ["model.safetensors", "model_card.json", "tokenizer.json"]

    files = export_run(run, tmp_path / "texts", None)

    assert {"model.safetensors", "model_card.json", "tokenizer.json"} <= {p.name for p in files}
    tokenizer = (tmp_path / "texts" / "tokenizer.json").read_bytes()
    assert tokenizer == (run / "train" / "model" / "tokenizer.json").read_bytes()
    asked = ["--text", "The referee stopped the match.", "--text", "Add flour to the pastry."]
    exported = loom(capsys, "predict", tmp_path / "texts", *asked)
    assert exported.code == 0, exported.err
    assert exported.out == loom(capsys, "predict", run / "train" / "model", *asked).out


def test_the_plan_names_exactly_the_files_written_for_the_chosen_formats(classifier_run: Path,
                                                                        tmp_path: Path) -> None:
    plan = describe_export(classifier_run, ["safetensors"])
    assert [name for name, _what in plan.files] == ["model.safetensors", "model_card.json"]
    assert plan.architecture == "mlp" and len(plan.classes) == 10
    assert [n for n, _ in describe_export(classifier_run).only(["onnx"])] == ["model.safetensors",
                                                                              "model_card.json", "model.onnx"]
    written = export_run(classifier_run, tmp_path / "weights-only", ["safetensors"])
    assert sorted(p.name for p in written) == ["model.safetensors", "model_card.json"]


def test_exported_files_follow_the_umask(classifier_run: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        files = export_run(classifier_run, tmp_path / "modes", ["safetensors"])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "modes").stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}


def test_an_occupied_destination_is_refused_and_left_alone(classifier_run: Path, tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"
    export_run(classifier_run, earlier, ["safetensors"])
    kept = snapshot(earlier)
    with pytest.raises(UserInputError, match="already holds model.safetensors and 1 more"):
        export_run(classifier_run, earlier, None)  # even a previous Loom export is never written over
    assert snapshot(earlier) == kept
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(UserInputError, match="is a file"):
        export_run(classifier_run, tmp_path / "a-file", None)
    with pytest.raises(UserInputError, match="the export cannot be written there"):
        export_run(classifier_run, tmp_path / "a-file" / "inside", None)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert {p.name for p in export_run(classifier_run, empty, ["safetensors"])} == {"model.safetensors",
                                                                                   "model_card.json"}


def test_loom_export_writes_the_files_and_adds_no_run(classifier_run: Path, tmp_path: Path, capsys) -> None:
    RunIndex().record(classifier_run, read_run(classifier_run))
    runs_before = RunIndex().list()

    out = loom(capsys, "export", classifier_run, "--out", tmp_path / "cli", "--format", "safetensors,onnx")

    assert out.code == 0, out.err
    assert {p.name for p in (tmp_path / "cli").iterdir()} == {"model.safetensors", "model_card.json", "model.onnx"}
    assert out.lines[-1].startswith("exported 3 file(s) to ")
    assert RunIndex().list() == runs_before


def gan_like_run(tmp_path: Path) -> Path:
    """A finished run folder that trained no classifier (a generator's record, written by hand)."""
    run = tmp_path / "gan-run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({
        "run_id": "gan-run", "workflow": "GAN", "status": "succeeded", "nodes": {},
        "artifacts": [{"node": "train", "kind": "generator", "path": "train/generator.json"}]}))
    return run


@pytest.mark.parametrize(("case", "needle"), [
    ("no such run", "no such run folder"),
    ("run without a classifier", "trained a generative model"),
    ("non-empty destination", "already holds"),
    ("unknown format", "format 'tflite': choose from safetensors, torchscript, onnx"),
])
def test_loom_export_refuses_bad_input_in_one_line(classifier_run: Path, tmp_path: Path, capsys,
                                                   case: str, needle: str) -> None:
    run, out, extra = classifier_run, tmp_path / "out", []
    if case == "no such run":
        run = tmp_path / "nowhere"
    elif case == "run without a classifier":
        run = gan_like_run(tmp_path)
    elif case == "non-empty destination":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    else:
        extra = ["--format", "tflite"]

    outcome = loom(capsys, "export", run, "--out", out, *extra)

    assert_refused(outcome, needle)
    assert len(outcome.lines) == 1
    assert case == "non-empty destination" or not out.exists()
    if case == "non-empty destination":
        assert [p.name for p in out.iterdir()] == ["notes.txt"]


# -- the app: Export model from the results page -------------------------------------------------------------------
def test_export_model_on_the_results_page_opens_a_dialog_and_writes_the_files(
        wizard_window, qtbot, classifier_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QDesktopServices

    from gui.export_dialog import ExportDialog

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window, controller = wizard_window, wizard_window.wizards
    RunIndex().record(classifier_run, read_run(classifier_run))
    runs_before = len(RunIndex().list())
    window.load_workflow(tiny_classifier())
    nodes_before = {n.id: (n.type, dict(n.params)) for n in window.doc.workflow.nodes}
    items_before = set(window.scene.nodes)
    controller.wizard_runs[str(classifier_run)] = "classify"
    controller.show_results(classifier_run)
    assert controller.results.export_button.isEnabled()

    qtbot.mouseClick(controller.results.export_button, Qt.LeftButton)
    dialog = window.findChild(ExportDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=HANG_MS)
    assert "Loom exports" in dialog.dest_edit.text()  # a sensible new folder is proposed
    assert "model.onnx" in dialog.will_write.text() and "model.torchscript.pt" in dialog.will_write.text()
    dialog.format_checks["torchscript"].setChecked(False)  # the list follows the boxes as they are ticked
    assert "model.torchscript.pt" not in dialog.will_write.text()
    assert not dialog.format_checks["safetensors"].isEnabled()  # the weights and card are always written

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    dialog.dest_edit.setText(str(occupied))
    assert "already holds files" in dialog.message.text() and not dialog.export_button.isEnabled()
    dest = tmp_path / "exports" / "digits"
    dialog.dest_edit.setText(str(dest))
    assert dialog.export_button.isEnabled() and str(dest) in dialog.will_write.text()
    dialog.resize(640, 420)
    dialog.grab().save(str(SHOTS / "export_dialog.png"))

    gate = threading.Event()  # holds the background export until the busy state is checked (no race)
    real_export = from_run.export_run
    monkeypatch.setattr(from_run, "export_run", lambda *a, **k: gate.wait(HANG_MS / 1000) and real_export(*a, **k))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert dialog.busy.isVisible() and not dialog.export_button.isEnabled() and not dialog.dest_edit.isEnabled()
    gate.set()
    qtbot.waitUntil(lambda: bool(dialog.written) or "failed" in dialog.message.text(), timeout=HANG_MS)
    assert {p.name for p in dest.iterdir()} == {"model.safetensors", "model_card.json", "model.onnx"}
    assert "Exported 3 files to" in dialog.source.text()
    assert all(name in dialog.will_write.text() for name in ("model.safetensors", "model_card.json", "model.onnx"))
    assert dialog.open_button.isVisible() and not dialog.export_button.isVisible()
    dialog.grab().save(str(SHOTS / "export_dialog_done.png"))
    qtbot.mouseClick(dialog.open_button, Qt.LeftButton)
    assert opened == [str(dest)]

    assert len(RunIndex().list()) == runs_before, "no new run"
    assert not window.runs.active
    assert {n.id: (n.type, dict(n.params)) for n in window.doc.workflow.nodes} == nodes_before
    assert set(window.scene.nodes) == items_before, "nothing placed on the canvas"
    assert window.pages.currentWidget() is controller.results  # the analyst stays where they were
    dialog.close()


def test_the_dialog_says_in_words_when_a_run_has_no_classifier(wizard_window, qtbot, tmp_path: Path) -> None:
    from gui.export_dialog import open_export_dialog

    dialog = open_export_dialog(wizard_window, gan_like_run(tmp_path))
    qtbot.waitUntil(lambda: bool(dialog.message.text()), timeout=HANG_MS)
    assert "trained a generative model" in dialog.message.text()
    assert not dialog.export_button.isEnabled()
    dialog.close()
