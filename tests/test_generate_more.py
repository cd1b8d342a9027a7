"""Generate more: new images (or texts) from a finished run's model, without running its workflow again.

Each batch lands in a new folder under the run (``RUN/more/001``...), nothing
earlier is overwritten, no run joins the index and the canvas is untouched;
the app's dialog shows what it made.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.errors import UserInputError
from engine.generative.more import generate_images, generator_info
from engine.run_files import read_run
from engine.run_index import RunIndex
from gui.testing import HANG_MS
from tests.conftest import screenshots_dir
from tests.hardening_support import assert_refused, copy_run, finished_run, loom, snapshot, tiny_gan
from tests.text_lm_support import lm_flow

pytestmark = pytest.mark.timeout(600)
SHOTS = screenshots_dir()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A tiny finished GAN run and a tiny finished language model run (seconds each)."""
    base = tmp_path_factory.mktemp("generate-more")
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: keep the user's cache and run index out of it
        mp.setenv("LOOM_HOME", str(base / "home"))
        mp.setenv("LOOM_CACHE_DIR", str(base / "cache"))
        return {"gan": finished_run(tiny_gan(), base / "gan"),
                "lm": finished_run(lm_flow(epochs=1, sample_every=1000), base / "lm")}


@pytest.fixture
def gan_run(trained, tmp_path: Path) -> Path:
    """A private copy: these tests add folders to the run."""
    return copy_run(trained["gan"], tmp_path / "gan")


def pngs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


def test_each_batch_goes_to_a_new_folder_and_nothing_earlier_changes(gan_run: Path) -> None:
    before = snapshot(gan_run)
    first = generate_images(gan_run, 5, seed=3)
    assert [p.parent for p in first] == [gan_run / "more" / "001"] * 5
    assert pngs(gan_run / "more" / "001") == [f"sample_{i:04d}.png" for i in range(5)]
    kept = snapshot(gan_run / "more")

    second = generate_images(gan_run, 5, seed=3)

    assert {p.parent for p in second} == {gan_run / "more" / "002"}
    assert [p.read_bytes() for p in second] == [p.read_bytes() for p in first]  # same seed, same pictures
    assert {k: v for k, v in snapshot(gan_run / "more").items() if k.startswith("001")} == kept
    after = snapshot(gan_run)
    assert {k: v for k, v in after.items() if not k.startswith("more")} == before, "the run's own files are untouched"


def test_a_chosen_class_needs_a_generator_trained_on_classes(gan_run: Path) -> None:
    assert generator_info(gan_run).classes == ()
    with pytest.raises(UserInputError, match="not trained on classes"):
        generate_images(gan_run, 2, class_label="7")
    card = gan_run / "train" / "generator.json"
    data = json.loads(card.read_text())
    card.write_text(json.dumps({**data, "classes": ["cat", "dog"]}))  # what a conditional generator's card says
    assert generator_info(gan_run).classes == ("cat", "dog")
    with pytest.raises(UserInputError, match="this generator knows cat, dog"):
        generate_images(gan_run, 2, class_label="7")
    assert not (gan_run / "more").exists() or not any((gan_run / "more").iterdir())


def test_loom_generate_never_writes_over_earlier_images(gan_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "images"
    assert loom(capsys, "generate", gan_run, "--n", "3", "--out", out).code == 0
    kept = snapshot(out)
    assert_refused(loom(capsys, "generate", gan_run, "--n", "3", "--out", out), "already holds sample_0000.png")
    assert snapshot(out) == kept


def test_a_run_that_trained_no_generator_is_refused_in_words(trained) -> None:
    with pytest.raises(UserInputError, match="not an image generator"):
        generate_images(trained["lm"], 2)


# -- the app ---------------------------------------------------------------------------------------------------------
def test_generate_more_on_the_results_page_writes_and_shows_new_images(
        wizard_window, qtbot, gan_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QDesktopServices

    from gui.generate_dialog import GenerateDialog

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window, controller = wizard_window, wizard_window.wizards
    RunIndex().record(gan_run, read_run(gan_run))
    runs_before = len(RunIndex().list())
    window.load_workflow(tiny_gan())
    nodes_before = {n.id: (n.type, dict(n.params)) for n in window.doc.workflow.nodes}
    controller.show_results(gan_run)
    assert controller.results.generate_button.isVisible()

    qtbot.mouseClick(controller.results.generate_button, Qt.LeftButton)
    dialog = window.findChild(GenerateDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(dialog.generate_button.isEnabled, timeout=HANG_MS)
    assert dialog.windowTitle().startswith("Generate more images")
    assert not dialog.class_box.isVisible() and not dialog.prompt.isVisible()  # no classes, no prompt to ask for
    dialog.count.setValue(12)
    dialog.seed.setValue(5)

    qtbot.mouseClick(dialog.generate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.paths) or "failed" in dialog.message.text(), timeout=HANG_MS)
    folder = gan_run / "more" / "001"
    assert pngs(folder) == [f"sample_{i:04d}.png" for i in range(12)]
    assert len(dialog.shown_images()) == 12, "the new images are shown in the dialog"
    assert str(folder) in dialog.message.text() and dialog.seed.value() == 6  # the next batch will differ
    dialog.resize(860, 520)
    dialog.grab().save(str(SHOTS / "generate_dialog.png"))
    qtbot.mouseClick(dialog.open_button, Qt.LeftButton)
    assert opened == [str(folder)]

    qtbot.mouseClick(dialog.generate_button, Qt.LeftButton)  # again: a second folder, the first one kept
    qtbot.waitUntil(lambda: dialog.folder == gan_run / "more" / "002", timeout=HANG_MS)
    assert len(pngs(folder)) == 12 and len(pngs(gan_run / "more" / "002")) == 12

    assert len(RunIndex().list()) == runs_before, "no new run"
    assert not window.runs.active
    assert {n.id: (n.type, dict(n.params)) for n in window.doc.workflow.nodes} == nodes_before
    dialog.close()


def test_a_conditional_generator_gets_a_class_picker(wizard_window, qtbot, gan_run: Path) -> None:
    from gui.generate_dialog import ANY_CLASS, open_generate_dialog

    card = gan_run / "train" / "generator.json"
    card.write_text(json.dumps({**json.loads(card.read_text()), "classes": ["circle", "square"]}))
    dialog = open_generate_dialog(wizard_window, gan_run)
    qtbot.waitUntil(dialog.generate_button.isEnabled, timeout=HANG_MS)
    assert dialog.class_box.isVisible()
    assert [dialog.class_box.itemText(i) for i in range(dialog.class_box.count())] == [ANY_CLASS, "circle", "square"]
    dialog.close()


def test_generate_more_text_asks_for_a_prompt_and_shows_the_texts(wizard_window, qtbot, trained,
                                                                  tmp_path: Path) -> None:
    from gui.generate_dialog import open_generate_dialog

    run = copy_run(trained["lm"], tmp_path / "lm")
    dialog = open_generate_dialog(wizard_window, run)
    qtbot.waitUntil(dialog.generate_button.isEnabled, timeout=HANG_MS)
    assert dialog.windowTitle().startswith("Generate more text")
    assert dialog.prompt.isVisible() and dialog.max_tokens.isVisible()
    dialog.prompt.setText("the cat")
    dialog.count.setValue(2)
    dialog.max_tokens.setValue(10)

    qtbot.mouseClick(dialog.generate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.texts) or "failed" in dialog.message.text(), timeout=HANG_MS)
    assert len(dialog.texts) == 2 and all(t.startswith("the cat") for t in dialog.texts)
    assert dialog.texts[0] in dialog.text_view.toPlainText()
    saved = run / "more" / "001" / "texts.txt"
    assert saved.is_file() and dialog.texts[1] in saved.read_text()
    dialog.grab().save(str(SHOTS / "generate_text_dialog.png"))
    dialog.close()
