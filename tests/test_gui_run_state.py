"""A run that ended early is unambiguous in the window, and the window knows at once that it ended.

Stopped: the progress bar says where the run got to, with no ETA or samples/s;
the steps it never reached are *skipped* (on the canvas and in run.json), not
queued forever; Compare shows the steps and losses it recorded.  Paused: the
bar says so.  Ended: closing the window right after the engine is done asks
nothing (the window's ``ask`` hook records any question).  Runs are stopped
from the engine's own event order (the first checkpoint), never after a delay.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from engine import events as ev  # noqa: E402
from engine.compare import Comparison  # noqa: E402
from gui.run_control import RunPhase  # noqa: E402
from gui.testing import HANG_MS, small_example, stop_at_first_checkpoint, stop_run  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402


def tiny_gan(epochs: int = 1):
    """The GAN example with its Generate step downstream of training, test-sized."""
    return small_example("gan_digits", data={"size": 16}, model={"width": 4, "latent_dim": 8},
                         train={"epochs": epochs, "batch_size": 32, "sample_every": 20, "checkpoint_every": 5})


def questions_of(window) -> list[str]:
    asked: list[str] = []

    def ask(title, text, buttons):  # noqa: ANN001
        asked.append(title)
        from PySide6.QtWidgets import QMessageBox

        return QMessageBox.No

    window.ask = ask
    return asked


def test_a_stopped_run_says_where_it_got_to_and_skips_the_steps_it_never_reached(window, qtbot, tmp_path):
    window.load_workflow(tiny_gan())
    seen = stop_at_first_checkpoint(window)
    run = tmp_path / "run"
    assert window.start_run(out_dir=run, device="cpu") is not None
    qtbot.waitUntil(lambda: not window.runs.active, timeout=HANG_MS)
    assert window.runs.last_status == "stopped"
    last = max(e.step for e in seen if isinstance(e, ev.MetricPoint))

    bar = window.dashboard.progress
    assert f"stopped at step {last}" in bar.bar.format()
    assert "ETA" not in bar.details.text() and "samples/s" not in bar.details.text()
    assert window.scene.nodes["train"].state == "stopped"
    assert window.scene.nodes["generate"].state == "skipped"  # not "queued" forever
    assert window.grab().save(str(screenshots_dir() / "run_stopped.png"))
    nodes = json.loads((run / "run.json").read_text())["nodes"]
    assert nodes["generate"]["state"] == "skipped" and "stopped" in nodes["generate"]["message"]

    # Reopened later, the run still says where it got to.
    window.past_runs.open(run)
    assert f"stopped at step {last}" in bar.bar.format() and "ETA" not in bar.details.text()

    # Compare: the stopped run wrote no report, its recorded steps and losses are shown.
    other = tmp_path / "other"
    assert window.start_run(out_dir=other, device="cpu") is not None
    qtbot.waitUntil(lambda: not window.runs.active, timeout=HANG_MS)
    comparison = Comparison.of([run, other])
    rows = {name: values for _section, name, values in comparison.rows()}
    assert rows["train.steps"][0] == str(last)
    assert rows["train.loss_g"][0] != "—"


def test_pause_is_shown_on_the_progress_bar(window, qtbot):
    window.load_workflow(tiny_gan(epochs=50))
    assert window.start_run(device="cpu") is not None
    bar = window.dashboard.progress
    qtbot.waitUntil(lambda: bar.last is not None and bar.last.step > 0, timeout=HANG_MS)
    window.toggle_pause()
    assert window.runs.state == RunPhase.PAUSED
    assert "paused at step" in bar.bar.format()
    assert "ETA" not in bar.details.text() and "samples/s" not in bar.details.text()
    assert window.dashboard.grab().save(str(screenshots_dir() / "run_paused_dashboard.png"))
    window.toggle_pause()
    assert window.runs.state == RunPhase.RUNNING
    assert "paused" not in bar.bar.format()
    stop_run(window, qtbot)  # before the test ends: pytest-qt deletes the window right after


def test_closing_right_after_the_engine_ended_asks_nothing(window, qtbot):
    asked = questions_of(window)
    window.load_workflow(tiny_gan(epochs=50))
    handle = window.start_run(device="cpu")
    assert handle is not None
    qtbot.waitUntil(lambda: window.dashboard.progress.last is not None, timeout=HANG_MS)
    window.stop_run()
    assert handle.wait(HANG_MS / 1000) is not None  # the engine is done; the GUI loop has not run since
    window.doc.undo_stack.setClean()
    window.close()
    assert asked == []  # no "A run is in progress" question nobody would answer
    assert not window.isVisible() and not window.runs.active
    assert window.runs.last_status == "stopped"
