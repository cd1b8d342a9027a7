"""Clicking through the two text wizards in the real main window, to a finished run, like an analyst.

Each flow clicks the wizard's own buttons and fields, checks what lands on the
canvas, and waits (for events, with ceilings that only catch hangs) until the
run has succeeded and the results page shows it.  Budgets are tiny (one
epoch on a few hundred strings, one epoch on a few KB of text), so each run
takes seconds.  Every page is saved as wizard_text_*.png / wizard_write_*.png
(see tests.conftest.screenshots_dir).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWizard

from gui.testing import HANG_MS
from gui.wizards.recipes import Budget
from gui.wizards.text_recipes import TextClassifyChoices, TextDataChoice, WriteChoices
from tests.test_wizard_flows import Clicker, finish_button, next_button, shot, wizard_of

pytestmark = pytest.mark.timeout(1800)  # a hang fails instead of stalling CI; training on 2 cores does not


@pytest.fixture(autouse=True)
def no_local_models(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models folder and Hugging Face cache: the pretrained preset sees what the test puts there."""
    base = tmp_path_factory.mktemp("models")
    monkeypatch.setenv("LOOM_MODELS_DIR", str(base / "loom"))
    monkeypatch.setenv("HF_HUB_CACHE", str(base / "hf"))
    return base / "loom"


@pytest.fixture
def window(wizard_window):
    """The real main window with the wizards installed (tests.conftest.wizard_window)."""
    return wizard_window


def corpus(folder: Path) -> Path:
    """Ten short stories, a few KB: enough for one epoch of the small writer and a validation text."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, animal in enumerate(("fox", "owl", "hare", "bear", "wren", "deer", "mole", "frog", "lynx", "seal")):
        lines = [f"Once upon a time a little {animal} lived at the edge of the wood, number {n}." for n in range(8)]
        (folder / f"story_{i}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_classify_text_wizard_runs_to_the_results(window, qtbot) -> None:
    click = Clicker(qtbot)
    controller = window.wizards
    qtbot.waitUntil(lambda: window.pages.currentWidget() is controller.welcome, timeout=HANG_MS)
    # 20 strings per language keeps the run to seconds; every choice below is still clicked
    controller.open_wizard("classify_text", choices=TextClassifyChoices(data=TextDataChoice(per_class=20)))
    wiz = wizard_of(window, qtbot)
    assert wiz.windowTitle() == "Classify text"
    data = wiz.data_page
    assert data.source_buttons["builtin"].isChecked() and "13,500" in data.summary.text()
    shot(wiz, "text_1_data")
    click(next_button(wiz))

    page = wiz.preset_page
    assert wiz.currentPage() is page
    qtbot.waitUntil(lambda: page.models is not None, timeout=HANG_MS)  # the search for local models ended
    pretrained = page.buttons["pretrained"]
    assert not pretrained.isEnabled() and "No pretrained text model" in page.found_note.text()
    assert str(Path(page.found_note.text().split("Loom looks in ")[1].split(" and")[0])) in pretrained.toolTip()
    click(page.buttons["transformer"])
    click(page.buttons["fast_gru"])
    shot(wiz, "text_2_model")
    click(next_button(wiz))

    budget = wiz.budget_page
    assert budget.minutes_radio.isChecked() and budget.minutes.value() == 3.0  # 3 minutes by default
    assert "texts" in budget.subTitle()
    click(budget.epochs_radio)
    click.type_into(budget.epochs, "1")
    shot(wiz, "text_3_budget")
    click(next_button(wiz))
    assert wiz.currentPage() is wiz.review_page and "tokenize" in wiz.review_page.text.text()
    shot(wiz, "text_4_review")
    click(finish_button(wiz))

    wf = window.doc.workflow
    assert {n.id: n.type for n in wf.nodes} == {"data": "text_builtin", "tokenize": "tokenize", "model": "gru",
                                                "train": "train", "evaluate": "evaluate", "export": "export"}
    assert wf.node("data").params == {"dataset": "ui_languages", "per_class": 20}
    assert wf.node("train").params["epochs"] == 1 and "time_budget" not in wf.node("train").params
    assert window.runs.active, "Finish starts the run"
    qtbot.waitUntil(lambda: window.pages.currentWidget() is controller.results, timeout=HANG_MS)
    results = controller.results
    assert results.info["status"] == "succeeded"
    assert results.visual.currentWidget() is results.confusion
    shown = {label.text() for label in results.findChildren(QLabel)}
    assert "Accuracy on held-out texts" in shown and "F1 score (all classes alike)" in shown
    assert not results.generate_button.isVisibleTo(results)
    qtbot.wait(50)
    shot(window, "text_results")

    from gui.wizards.text_classify import TextClassifyWizard  # the wizard remembers the last choices

    again = TextClassifyWizard()
    qtbot.addWidget(again)
    assert again.choices.data.per_class == 20 and again.budget_page.epochs_radio.isChecked()


def test_write_wizard_on_a_folder_of_texts_runs_and_writes_more(window, qtbot, tmp_path: Path) -> None:
    folder = corpus(tmp_path / "stories")
    click = Clicker(qtbot)
    controller = window.wizards
    qtbot.waitUntil(lambda: window.pages.currentWidget() is controller.welcome, timeout=HANG_MS)
    click(controller.welcome.door_buttons["write"])
    wiz = wizard_of(window, qtbot)
    assert wiz.windowTitle() == "Write like my text"
    data = wiz.data_page
    assert data.source_buttons["builtin"].isChecked() and "csv" not in data.source_buttons
    click(data.source_buttons["folder"])
    click.type_into(data.path_edit, str(folder))
    qtbot.waitUntil(lambda: "10 text files" in data.summary.text(), timeout=HANG_MS)
    assert "Once upon a" in data.summary.text()  # what the samples will continue
    shot(wiz, "write_1_data")
    click(next_button(wiz))
    assert wiz.currentPage() is wiz.size_page

    size = wiz.size_page
    assert size.buttons["medium"].isChecked()
    assert size.prompt.text() == "Once upon a"  # the first words of the corpus
    click(size.buttons["small"])
    shot(wiz, "write_2_size")
    click(next_button(wiz))
    budget = wiz.budget_page
    assert not budget.early.isVisibleTo(budget)  # a language model has no early stopping
    click(budget.epochs_radio)
    click.type_into(budget.epochs, "1")
    shot(wiz, "write_3_budget")
    click(next_button(wiz))
    shot(wiz, "write_4_review")
    texts = window.dashboard.texts
    click(finish_button(wiz))

    wf = window.doc.workflow
    assert {n.id: n.type for n in wf.nodes} == {"data": "text_folder", "tokenize": "tokenize", "model": "gru_lm",
                                                "train": "train_lm", "generate": "generate_text"}
    assert wf.node("data").params == {"path": str(folder), "layout": "flat", "test": 0.0}
    assert wf.node("generate").params["prompt"] == "Once upon a"
    assert window.runs.active, "Finish starts the run"
    assert window.dashboard.tabs.currentWidget() is texts, "the dashboard opens on the text samples"
    qtbot.waitUntil(lambda: window.pages.currentWidget() is controller.results, timeout=HANG_MS)
    samples = texts.streams["train: samples"]
    assert samples[0].step == 0 and texts.payload_of(samples[-1]).startswith("Once upon a")
    results = controller.results
    first_run = results.run_dir
    assert results.info["status"] == "succeeded"
    assert results.visual.currentWidget() is results.writing_box
    assert results.writing.toPlainText().startswith("Once upon a")
    assert "generated.txt" in results.writing_caption.text()
    assert results.generate_button.text() == "Generate more text" and results.generate_button.isEnabled()
    shown = {label.text() for label in results.findChildren(QLabel)}
    assert "Perplexity on held-out text (lower is better)" in shown
    qtbot.wait(50)
    shot(window, "write_results")

    # Generate more text: a dialog writes new text with the run's saved model; no new run, no edited step
    from gui.generate_dialog import GenerateDialog

    click(results.generate_button)
    dialog = window.findChild(GenerateDialog)
    qtbot.waitUntil(dialog.generate_button.isEnabled, timeout=HANG_MS)
    assert dialog.prompt.text() == "Once upon a"  # the workflow's own prompt, to start from
    dialog.count.setValue(2)
    dialog.max_tokens.setValue(20)
    click(dialog.generate_button)
    qtbot.waitUntil(lambda: bool(dialog.texts), timeout=HANG_MS)
    assert all(text.startswith("Once upon a") for text in dialog.texts)
    assert results.run_dir == first_run and not window.runs.active
    assert window.doc.workflow.node("generate").params.get("seed", 0) == 0
    dialog.close()


def text_wizard(qtbot, choices=None):
    from gui.wizards.text_classify import TextClassifyWizard

    wiz = TextClassifyWizard(choices=choices)
    qtbot.addWidget(wiz)
    wiz.show()
    return wiz


def test_the_csv_page_offers_the_header_and_refuses_what_cannot_train(qtbot, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,title,body,stars\n" + "".join(
        f"{i},{'Loved it' if i % 2 else 'Meh'},{'A warm and funny film' if i % 2 else 'Slow and dull'} {i},"
        f"{'good' if i % 2 else 'bad'}\n" for i in range(30)), encoding="utf-8")
    wiz = text_wizard(qtbot)
    click = Clicker(qtbot)
    page = wiz.data_page
    click(page.source_buttons["csv"])
    click(next_button(wiz))
    assert wiz.currentPage() is page and "Choose a CSV file" in page.message.text()
    click.type_into(page.path_edit, str(reviews))
    qtbot.waitUntil(lambda: page.columns.count() == 4, timeout=HANG_MS)
    assert [page.columns.item(i).text() for i in range(4)] == ["id", "title", "body", "stars"]
    assert page.label() == "stars" and page.text_columns() == ["body"]  # guessed: the longest texts
    assert "30 rows, 4 columns" in page.summary.text() and page.message.text() == ""
    page.columns.item(1).setCheckState(Qt.Checked)  # title too: joined with the body
    shot(wiz, "text_csv")
    page.columns.item(1).setCheckState(Qt.Unchecked)
    page.columns.item(2).setCheckState(Qt.Unchecked)
    assert "Tick the column" in page.message.text()
    click(next_button(wiz))
    assert wiz.currentPage() is page
    page.columns.item(2).setCheckState(Qt.Checked)
    page.label_box.setCurrentText("body")
    assert "both a text column and the label column" in page.message.text()
    page.label_box.setCurrentText("stars")
    page.columns.item(1).setCheckState(Qt.Checked)
    click(next_button(wiz))
    assert wiz.currentPage() is wiz.preset_page
    assert wiz.choices.data.text_columns == "title, body" and wiz.choices.data.label == "stars"
    wiz.close()


def test_the_csv_page_refuses_a_table_without_a_text_column(qtbot, tmp_path: Path) -> None:
    numbers = tmp_path / "measurements.csv"
    numbers.write_text("height,width,kind\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(30)), encoding="utf-8")
    wiz = text_wizard(qtbot)
    click = Clicker(qtbot)
    page = wiz.data_page
    click(page.source_buttons["csv"])
    click.type_into(page.path_edit, str(numbers))
    click(next_button(wiz))
    qtbot.waitUntil(lambda: "no column of texts" in page.message.text(), timeout=HANG_MS)
    assert wiz.currentPage() is page, "Next is refused"
    shot(wiz, "text_refuses_numbers")


@pytest.mark.parametrize("layout,expected", [
    ("one_class", "only one class (pos)"),
    ("flat", "no class subfolders"),
    ("empty", "holds no files"),
])
def test_the_folder_page_refuses_a_folder_that_cannot_train_a_classifier(qtbot, tmp_path: Path, layout: str,
                                                                         expected: str) -> None:
    folder = tmp_path / layout
    folder.mkdir()
    if layout == "one_class":
        corpus(folder / "pos")
    elif layout == "flat":
        corpus(folder)
    wiz = text_wizard(qtbot)
    click = Clicker(qtbot)
    page = wiz.data_page
    click(page.source_buttons["folder"])
    click.type_into(page.path_edit, str(folder))
    click(next_button(wiz))
    qtbot.waitUntil(lambda: expected in page.message.text(), timeout=HANG_MS)
    assert wiz.currentPage() is page, "Next is refused"
    if layout == "one_class":
        shot(wiz, "text_refuses_one_class")


def test_a_folder_of_classes_goes_on_to_the_models(qtbot, tmp_path: Path) -> None:
    for label, word in (("pos", "lovely"), ("neg", "awful")):
        (tmp_path / label).mkdir()
        for i in range(6):
            (tmp_path / label / f"{i}.txt").write_text(f"A {word} film, review {i}.", encoding="utf-8")
    wiz = text_wizard(qtbot)
    click = Clicker(qtbot)
    click(wiz.data_page.source_buttons["folder"])
    click.type_into(wiz.data_page.path_edit, str(tmp_path))
    click(next_button(wiz))
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.preset_page, timeout=HANG_MS)
    assert "2 classes, 12 text files" in wiz.data_page.summary.text()
    assert wiz.choices.data.source == "folder" and wiz.choices.data.path == str(tmp_path)


def test_a_local_pretrained_model_is_offered_and_used_by_both_steps(qtbot, no_local_models: Path) -> None:
    model = no_local_models / "tiny-bert"
    model.mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({"model_type": "bert", "num_hidden_layers": 2}))
    (model / "model.safetensors").write_bytes(b"weights")
    (model / "tokenizer.json").write_text("{}")
    wiz = text_wizard(qtbot, TextClassifyChoices(budget=Budget(kind="minutes", minutes=1.0)))
    click = Clicker(qtbot)
    click(next_button(wiz))
    page = wiz.preset_page
    qtbot.waitUntil(lambda: page.buttons["pretrained"].isEnabled(), timeout=HANG_MS)
    assert page.model_box.count() == 1 and "tiny-bert (bert)" in page.model_box.currentText()
    click(page.buttons["pretrained"])
    shot(wiz, "text_pretrained")
    click(next_button(wiz))
    click(next_button(wiz))
    wf = wiz.review_page.workflow
    assert wf.node("model").type == "pretrained_text" and wf.node("model").params["model"] == str(model)
    assert wf.node("tokenize").params == {"method": "pretrained", "max_len": 128, "path": str(model)}
    assert wf.node("train").params["time_budget"] == 1.0
    wiz.close()


def test_a_local_model_without_a_tokenizer_is_named_not_offered(qtbot, no_local_models: Path) -> None:
    model = no_local_models / "half-bert"
    model.mkdir(parents=True)
    (model / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (model / "model.safetensors").write_bytes(b"weights")
    wiz = text_wizard(qtbot)
    Clicker(qtbot)(next_button(wiz))
    page = wiz.preset_page
    qtbot.waitUntil(lambda: page.models is not None, timeout=HANG_MS)
    assert not page.buttons["pretrained"].isEnabled()
    assert "half-bert has no tokenizer.json" in page.found_note.text()
    wiz.close()


def test_welcome_has_five_doors_in_two_rows_at_1000_px(window, qtbot) -> None:
    welcome = window.wizards.welcome
    window.resize(1000, 720)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is welcome, timeout=HANG_MS)
    doors = welcome.door_buttons
    assert list(doors) == ["classify", "generate", "finetune", "classify_text", "write"]
    qtbot.waitUntil(lambda: all(d.isVisible() and d.width() > 0 for d in doors.values()), timeout=HANG_MS)
    rows = sorted({d.geometry().top() for d in doors.values()})
    assert len(rows) == 2
    images, texts = [d for d in doors.values() if d.geometry().top() == rows[0]], [
        d for d in doors.values() if d.geometry().top() == rows[1]]
    assert len(images) == 3 and len(texts) == 2
    for row in (images, texts):  # each row fills the same width, no door clipped
        assert abs(row[-1].geometry().right() - images[-1].geometry().right()) <= 2
        assert all(d.width() >= d.minimumWidth() for d in row)
    shot(window, "welcome_five_doors")
    click = Clicker(qtbot)
    click(doors["classify_text"])
    assert wizard_of(window, qtbot).windowTitle() == "Classify text"
    window.wizards.wizard.close()
    window.wizards.actions["write"].trigger()  # the Start menu opens the same wizards
    assert wizard_of(window, qtbot).windowTitle() == "Write like my text"
    assert window.wizards.actions["classify_text"].text() == "Classify &Text…"


def test_write_prompt_follows_the_data_and_keeps_the_analysts_own(qtbot, tmp_path: Path) -> None:
    from gui.wizards.write import WriteWizard

    wiz = WriteWizard(choices=WriteChoices())
    qtbot.addWidget(wiz)
    wiz.show()
    click = Clicker(qtbot)
    click(next_button(wiz))
    assert wiz.size_page.prompt.text() == "A list"  # the built-in docs' example prompt
    click.type_into(wiz.size_page.prompt, "")
    qtbot.keyClick(wiz.size_page.prompt, Qt.Key_Delete)
    click(next_button(wiz))
    assert wiz.currentPage() is wiz.size_page and "Give a beginning" in wiz.size_page.message.text()
    click.type_into(wiz.size_page.prompt, "In Python")
    click(next_button(wiz))
    click(wiz.button(QWizard.BackButton))
    assert wiz.size_page.prompt.text() == "In Python"  # Back and Next keep the analyst's own
    click(wiz.button(QWizard.BackButton))
    click(wiz.data_page.source_buttons["folder"])
    click.type_into(wiz.data_page.path_edit, str(corpus(tmp_path / "stories")))
    click(next_button(wiz))
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.size_page, timeout=HANG_MS)
    assert wiz.size_page.prompt.text() == "Once upon a"  # new data: a beginning from it
    wiz.close()
