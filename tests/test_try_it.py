"""Try it: a finished classifier run answers new inputs, in the engine and in the app's panel.

The trained runs and the 20 real digit images come from tests/trained_runs.py
(trained once per test session).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from engine import Engine, Workflow
from engine.errors import UserInputError
from gui.testing import HANG_MS
from tests.conftest import screenshots_dir
from tests.trained_runs import digits_cnn_workflow

pytestmark = pytest.mark.timeout(600)
SHOTS = screenshots_dir()


# -- the engine ----------------------------------------------------------------------------------------
def test_a_run_without_an_export_step_leaves_a_model_card_that_loads(digits_run: Path) -> None:
    from engine.export.load import load_export
    from engine.export.trained import trained_model_folder

    folder = trained_model_folder(digits_run)
    assert folder == digits_run / "train" / "model"
    assert sorted(p.name for p in folder.iterdir()) == ["model.safetensors", "model_card.json"]
    kinds = {a["kind"]: a["path"] for a in json.loads((digits_run / "run.json").read_text())["artifacts"]}
    assert kinds["classifier"] == "train/model/model_card.json"
    model = load_export(folder)
    assert model.classes == [str(d) for d in range(10)] and model.card["input"]["height"] == 16


def test_the_engine_predictor_names_the_right_digit(digits_run: Path, digit_pngs) -> None:
    from engine.try_model import load_run_classifier, predict_files

    model = load_run_classifier(digits_run)
    guesses = predict_files(model, [p for p, _ in digit_pngs])
    assert [g.best for g in guesses] == [label for _, label in digit_pngs]
    for g in guesses:
        assert len(g.top) == 5 and g.top[0][1] >= g.top[1][1] and 0 < sum(p for _, p in g.top) <= 1.0001


def test_unreadable_inputs_get_their_own_message_and_the_others_their_answer(digits_run: Path, digit_pngs,
                                                                           tmp_path: Path) -> None:
    from engine.try_model import load_run_classifier, predict_files, predict_texts

    model = load_run_classifier(digits_run)
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture")
    good, label = digit_pngs[0]
    guesses = predict_files(model, [fake, good, tmp_path / "missing.png"])
    assert [g.name for g in guesses] == [str(fake), str(good), str(tmp_path / "missing.png")]
    assert "not an image" in guesses[0].error and guesses[0].top == []
    assert guesses[1].best == label and not guesses[1].error
    assert guesses[2].error == "no such file or folder"
    with pytest.raises(UserInputError, match="classifies images, not texts"):
        predict_texts(model, ["seven"])


def test_loom_predict_reads_a_run_without_an_export_step(digits_run: Path, digit_pngs, tmp_path: Path) -> None:
    """The train step's card is enough for the command line too: no Export step needed to predict."""
    from engine.cli import main

    out = tmp_path / "preds.csv"
    assert main(["predict", str(digits_run), *[str(p) for p, _ in digit_pngs], "--out", str(out)]) == 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    predicted = {Path(r["file"]).name: r["prediction"] for r in rows}
    assert predicted == {p.name: label for p, label in digit_pngs}


def test_a_run_with_no_finished_classifier_says_why(tmp_path: Path) -> None:
    from engine.try_model import load_run_classifier

    run = tmp_path / "stopped"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "stopped", "nodes": {}, "artifacts": [
        {"node": "train", "kind": "checkpoint", "path": "train/checkpoints/last.pt"}]}))
    with pytest.raises(UserInputError, match="stopped before training ended; continue it first"):
        load_run_classifier(run)
    old = tmp_path / "old"
    old.mkdir()
    (old / "run.json").write_text(json.dumps({"status": "succeeded", "nodes": {}, "artifacts": [
        {"node": "train", "kind": "checkpoint", "path": "train/checkpoints/last.pt"}]}))
    with pytest.raises(UserInputError, match="older Loom.*run the workflow again"):
        load_run_classifier(old)
    gan = tmp_path / "gan"
    gan.mkdir()
    (gan / "run.json").write_text(json.dumps({"status": "succeeded", "nodes": {}, "artifacts": [
        {"node": "train", "kind": "generator", "path": "train/generator/card.json"}]}))
    with pytest.raises(UserInputError, match="generative model"):
        load_run_classifier(gan)


def test_a_cached_train_step_writes_its_card_into_the_new_run(tmp_path: Path) -> None:
    from engine.export.trained import trained_model_folder

    wf = Workflow.from_json({"schema": 1, "name": "tiny", "nodes": [
        {"id": "data", "type": "digits", "params": {}},
        {"id": "model", "type": "mlp", "params": {"hidden": "16"}},
        {"id": "train", "type": "train", "params": {"epochs": 1}},
    ], "links": [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"}]})
    engine = Engine(disk_cache=False)
    assert engine.run(wf, out_dir=tmp_path / "first", device="cpu").status == "succeeded"
    second = engine.run(wf, out_dir=tmp_path / "second", device="cpu")
    assert second.node_states["train"] == "cached"
    assert trained_model_folder(tmp_path / "second") == tmp_path / "second" / "train" / "model"
    first_weights = (tmp_path / "first" / "train" / "model" / "model.safetensors").read_bytes()
    assert (tmp_path / "second" / "train" / "model" / "model.safetensors").read_bytes() == first_weights


def test_the_export_folder_is_preferred_when_the_run_has_one(tmp_path: Path) -> None:
    from engine.export.trained import trained_model_folder

    result = Engine(disk_cache=False).run(digits_cnn_workflow(epochs=1, export=True), out_dir=tmp_path / "run",
                                          device="cpu")
    assert result.status == "succeeded", result.message
    assert trained_model_folder(tmp_path / "run") == tmp_path / "run" / "export"
    assert trained_model_folder(tmp_path / "run", node="train") == tmp_path / "run" / "train" / "model"


def drop_files(widget, paths: list[Path]) -> None:
    """Drop files on ``widget`` as a file manager does (a drag enter, then the drop, with file URLs)."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPointF(widget.rect().center()), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    widget.dropEvent(QDropEvent(QPointF(widget.rect().center()), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


# -- the app -------------------------------------------------------------------------------------------
def test_try_panel_on_the_results_page_names_20_real_digits(qtbot, digits_run: Path, digit_pngs,
                                                             tmp_path: Path) -> None:
    from gui.results import ResultsPage

    page = ResultsPage()
    qtbot.addWidget(page)
    page.resize(1280, 900)
    page.show()
    with qtbot.waitSignal(page.try_panel.model_loaded, timeout=HANG_MS):
        page.show_run(digits_run, can_export=True, is_generator=False)
    panel = page.try_panel
    assert panel.isVisible() and panel.model is not None and panel.pick_button.isEnabled()
    assert panel.empty.isVisibleTo(panel) and "Drop images here" in panel.empty.text()
    assert not page.continue_button.isVisible()  # a finished run has nothing to continue
    with qtbot.waitSignal(panel.predicted, timeout=HANG_MS):
        drop_files(panel, [p for p, _ in digit_pngs])
    assert [g.best for g in panel.guesses] == [label for _, label in digit_pngs]
    assert not panel.empty.isVisibleTo(panel)
    rows = panel.rows.findChildren(QLabel)
    assert any(lb.text() == f"<b>{digit_pngs[0][1]}</b>" for lb in rows)
    assert "20 classified" in panel.hint.text()
    qtbot.waitUntil(lambda: page.mistakes.heading.text() and "Loading" not in page.mistakes.heading.text(),
                    timeout=HANG_MS)
    first = panel.rows_layout.itemAt(1).widget()  # after the placeholder; Qt shows and lays out new rows on its next turns
    qtbot.waitUntil(lambda: first.isVisible() and first.height() >= first.sizeHint().height(), timeout=HANG_MS)
    page.grab().save(str(SHOTS / "results_try_it.png"))

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with qtbot.waitSignal(panel.predicted, timeout=HANG_MS):
        panel.try_files([bad, digit_pngs[3][0]])
    assert "not an image" in panel.guesses[0].error and panel.guesses[1].best == digit_pngs[3][1]
    errors = [lb.text() for lb in panel.rows.findChildren(QLabel) if lb.objectName() == "try_error"]
    assert len(errors) == 1 and "not an image" in errors[0]
    assert "1 could not be read" in panel.hint.text()


def test_try_dialog_opens_for_any_finished_classifier_run(qtbot, digits_run: Path, digit_pngs, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog, QWidget

    from gui.try_panel import open_try_dialog

    host = QWidget()
    qtbot.addWidget(host)
    dialog = open_try_dialog(host, digits_run)
    assert not dialog.isModal() and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.try_panel.model is not None, timeout=HANG_MS)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(digit_pngs[-1][0])], ""))
    with qtbot.waitSignal(dialog.try_panel.predicted, timeout=HANG_MS):
        dialog.try_panel.pick_button.click()
    assert dialog.try_panel.guesses[0].best == digit_pngs[-1][1]
    dialog.close()


def test_try_panel_says_in_words_when_the_run_has_no_classifier(qtbot, tmp_path: Path) -> None:
    from gui.try_panel import TryPanel

    run = tmp_path / "stopped"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "stopped", "nodes": {}, "artifacts": []}))
    panel = TryPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.model_loaded, timeout=HANG_MS):
        panel.set_run(run)
    assert panel.model is None and not panel.pick_button.isEnabled()
    assert "continue it first" in panel.hint.text()


def test_a_stopped_run_offers_continue_training(qtbot, tmp_path: Path) -> None:
    from gui.results import ResultsPage

    run = tmp_path / "stopped"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"run_id": "stopped", "status": "stopped", "message": "stopped by the user",
                                              "nodes": {}, "artifacts": []}))
    page = ResultsPage()
    qtbot.addWidget(page)
    page.show()
    page.show_run(run, can_export=True, is_generator=False)
    assert page.continue_button.isVisible() and not page.try_panel.isVisible()
    with qtbot.waitSignal(page.continue_requested, timeout=HANG_MS):
        page.continue_button.click()


# -- a text classifier --------------------------------------------------------------------------------
def test_a_text_run_is_tried_by_typing(qtbot, text_run: Path) -> None:
    from gui.try_panel import TryPanel

    assert (text_run / "train" / "model" / "tokenizer.json").is_file()  # the card's tokenizer travels with it
    panel = TryPanel()
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.model_loaded, timeout=HANG_MS):
        panel.set_run(text_run)
    assert panel.noun == "texts" and panel.text.isVisible() and not panel.pick_button.isVisible()
    panel.text.setPlainText("Garlic sauce in the oven.\nThe referee stopped the match.")
    with qtbot.waitSignal(panel.predicted, timeout=HANG_MS):
        panel.classify_button.click()
    assert [g.best for g in panel.guesses] == ["cooking", "sport"]
    assert panel.guesses[0].name == "Garlic sauce in the oven."


def test_only_the_latest_drop_is_shown(qtbot, digits_run: Path, digit_pngs) -> None:
    from gui import tasks
    from gui.try_panel import TryPanel

    panel = TryPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.model_loaded, timeout=HANG_MS):
        panel.set_run(digits_run)
    panel.try_files([p for p, _ in digit_pngs])  # a big batch, then at once a single image
    with qtbot.waitSignal(panel.predicted, timeout=HANG_MS):
        panel.try_files([digit_pngs[5][0]])
    qtbot.waitUntil(lambda: not tasks.live_tasks(panel), timeout=HANG_MS)  # the first batch has ended too

    assert [g.name for g in panel.guesses] == [str(digit_pngs[5][0])]


def test_the_runs_panel_offers_try_it_and_export_for_a_finished_classifier(wizard_window, qtbot, digits_run: Path,
                                                                           digit_pngs) -> None:
    """Any finished classifier run, not only the one just trained: right-click it in the Runs panel."""
    from PySide6.QtWidgets import QDialog

    from engine.run_index import RunIndex

    window = wizard_window
    RunIndex().record(digits_run, json.loads((digits_run / "run.json").read_text()))
    window.past_runs.refresh()
    qtbot.waitUntil(lambda: window.history.list.count() == 1, timeout=HANG_MS)
    key = str(digits_run.resolve())
    menu = window.past_runs.menu_for([key])
    entries = {a.text(): a for a in menu.actions() if not a.isSeparator()}
    assert entries["Try it…"].isEnabled() and entries["Export model…"].isEnabled()
    assert not entries["Generate more images…"].isEnabled() and not entries["Continue training"].isEnabled()

    entries["Try it…"].trigger()
    dialog = next(d for d in window.findChildren(QDialog) if d.windowTitle().startswith("Try it"))
    qtbot.waitUntil(lambda: dialog.try_panel.model is not None, timeout=HANG_MS)
    with qtbot.waitSignal(dialog.try_panel.predicted, timeout=HANG_MS):
        dialog.try_panel.try_files([digit_pngs[0][0]])
    assert dialog.try_panel.guesses[0].best == digit_pngs[0][1]
    dialog.close()

    entries["Show results"].trigger()
    page = window.wizards.results
    assert window.pages.currentWidget() is page and page.try_panel.isVisible()
    assert page.export_button.isEnabled() and not page.continue_button.isVisible()
