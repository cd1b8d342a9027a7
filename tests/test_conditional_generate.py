"""Drawing a chosen class: `loom generate --class`, the generate step's class param and Generate more's picker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from engine.generative.more import generate_images
from engine.runner import Engine
from engine.workflow import Workflow
from gui.testing import HANG_MS
from tests.conftest import screenshots_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
SHOTS = screenshots_dir()
pytestmark = pytest.mark.timeout(600)


def tiny(conditional: str, **generate: object) -> Workflow:
    wf = Workflow.load(EXAMPLES / "gan_digits.json")
    wf.node("data").params.update(size=16)
    wf.node("model").params.update(width=8, latent_dim=8, conditional=conditional)
    wf.node("train").params.update(epochs=1, time_budget=0.0, batch_size=128, sample_every=1000, samples=10)
    wf.node("generate").params.update(n=3, **generate)
    return wf


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A tiny finished conditional GAN run and an unconditional one (seconds each)."""
    base = tmp_path_factory.mktemp("conditional")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOOM_HOME", str(base / "home"))
        for name, mode in (("cond", "on"), ("plain", "off")):
            result = Engine(disk_cache=False).run(tiny(mode), out_dir=base / name, device="cpu")
            assert result.status == "succeeded", result.message
            out[name] = base / name
    return out


def loom(*args: object) -> subprocess.CompletedProcess:
    """`loom ARGS` in a child process, as a user types it."""
    return subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, '.'); from engine.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", *map(str, args)], cwd=ROOT, capture_output=True, text=True)


def test_loom_generate_draws_the_class_asked_for_by_name_or_index(runs, tmp_path: Path) -> None:
    by_name = loom("generate", runs["cond"], "--class", "7", "--n", 4, "--out", tmp_path / "sevens")
    assert by_name.returncode == 0, by_name.stderr
    assert "of class 7" in by_name.stderr
    files = sorted((tmp_path / "sevens").glob("sample_*.png"))
    assert len(files) == 4
    # The digits' class names are their indices; the same class by the engine call gives the same pictures.
    again = generate_images(runs["cond"], 4, tmp_path / "again", class_label=7)
    assert [f.read_bytes() for f in files] == [f.read_bytes() for f in again]
    other = generate_images(runs["cond"], 4, tmp_path / "threes", class_label="3")
    assert any(not np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b))) for a, b in zip(files, other, strict=True))


def test_an_unknown_class_is_refused_in_one_line_naming_the_classes(runs, tmp_path: Path) -> None:
    bad = loom("generate", runs["cond"], "--class", "seven", "--n", 2, "--out", tmp_path / "x")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    assert "class 'seven'" in bad.stderr and "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in bad.stderr
    assert loom("generate", runs["cond"], "--class", "12", "--n", 2, "--out", tmp_path / "y").returncode == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_an_unconditional_run_refuses_a_class(runs, tmp_path: Path) -> None:
    refused = loom("generate", runs["plain"], "--class", "7", "--n", 2, "--out", tmp_path / "z")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "not trained on classes" in refused.stderr and refused.stderr.strip().count("\n") == 0
    assert loom("generate", runs["plain"], "--n", 2, "--out", tmp_path / "z").returncode == 0  # without it: fine


def test_the_generate_step_draws_its_class_and_names_itself_when_the_class_is_wrong(tmp_path: Path) -> None:
    good = Engine(disk_cache=False).run(tiny("on", **{"class": "4"}), out_dir=tmp_path / "good", device="cpu")
    assert good.status == "succeeded", good.message
    bad = Engine(disk_cache=False).run(tiny("on", **{"class": "owl"}), out_dir=tmp_path / "bad", device="cpu")
    assert bad.status == "failed"
    assert "node 'generate', param 'class'" in bad.message and "class 'owl'" in bad.message
    plain = Engine(disk_cache=False).run(tiny("off", **{"class": "4"}), out_dir=tmp_path / "plain", device="cpu")
    assert plain.status == "failed" and "not trained on classes" in plain.message


def test_generate_more_offers_all_classes_or_one_and_draws_the_one_picked(wizard_window, qtbot, runs) -> None:
    from gui.generate_dialog import ANY_CLASS, open_generate_dialog

    run = runs["cond"]
    dialog = open_generate_dialog(wizard_window, run)
    qtbot.waitUntil(dialog.generate_button.isEnabled, timeout=HANG_MS)
    assert dialog.class_box.isVisible()
    assert [dialog.class_box.itemText(i) for i in range(dialog.class_box.count())] == \
        [ANY_CLASS, *(str(d) for d in range(10))]
    dialog.class_box.setCurrentText("7")
    dialog.count.setValue(8)
    dialog.seed.setValue(5)
    qtbot.mouseClick(dialog.generate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.paths) or "failed" in dialog.message.text(), timeout=HANG_MS)
    assert len(dialog.shown_images()) == 8, dialog.message.text()
    expected = generate_images(run, 8, run / "expected", seed=5, class_label="7")
    assert [p.read_bytes() for p in dialog.paths] == [p.read_bytes() for p in expected]  # really class 7
    dialog.grab().save(str(SHOTS / "generate_dialog_class.png"))
    dialog.close()


def test_generate_more_on_an_unconditional_run_shows_no_class_picker(wizard_window, qtbot, runs) -> None:
    from gui.generate_dialog import open_generate_dialog

    dialog = open_generate_dialog(wizard_window, runs["plain"])
    qtbot.waitUntil(dialog.generate_button.isEnabled, timeout=HANG_MS)
    assert not dialog.class_box.isVisible()
    dialog.close()
