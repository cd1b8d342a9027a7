"""Runs from the window: Run trains on the engine's thread while the dashboard draws live
curves and sample grids; Stop ends the run at the next batch boundary; a classifier's confusion
matrix shows; a finished run's dashboard reopens from its folder; a failed run says so in one
dialog.  Nothing here times anything: waits are for events, with ceilings that only catch hangs.
Screenshots are saved with grab() (into $LOOM_SCREENSHOTS when set, e.g. resources/screenshots)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

pytest.importorskip("pytestqt")

from engine import events as ev  # noqa: E402
from engine.workflow import Workflow  # noqa: E402
from gui.dashboard.images import to_qimage  # noqa: E402
from gui.run_control import RunPhase  # noqa: E402
from gui.testing import HANG_MS, make_window, record_events, small_example  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402


def same_pixels(a: QImage, b: QImage) -> bool:
    fmt = QImage.Format_RGB32
    return a.size() == b.size() and a.convertToFormat(fmt) == b.convertToFormat(fmt)




def test_gan_run_streams_curves_and_samples_and_stops_at_the_next_batch(window, qtbot, tmp_path):
    wf = small_example(
        "gan_digits",
        model={"width": 4, "latent_dim": 16},
        train={"epochs": 200, "batch_size": 16, "samples": 16, "sample_every": 10, "checkpoint_every": 100000,
               "quality_every": 0},  # the quality plots have their own test (test_quality_dashboard)
    )
    window.load_workflow(wf)
    seen = record_events(window)
    window.act.run.trigger()  # the Run button
    assert window.runs.state == "running"
    dash = window.dashboard

    def loss_points() -> int:
        series = dash.curves.series.get(("train", "loss_g"))
        return series.n if series else 0

    qtbot.waitUntil(lambda: len(dash.preview.frames()) >= 2 and loss_points() >= 50, timeout=HANG_MS)

    # The curve items hold exactly the points the engine sent, in order.
    for name in ("loss_g", "loss_d", "d_real", "d_fake"):
        x, y = dash.curves.series[("train", name)].item.getData()
        sent = [e for e in list(seen) if isinstance(e, ev.MetricPoint) and e.name == name][: len(x)]
        assert len(x) >= 50 if name.startswith("loss") else len(x) > 0
        assert list(x) == [e.step for e in sent]
        assert list(y) == pytest.approx([e.value for e in sent])
    assert set(dash.curves.plots) == {"GAN losses", "D(x) and D(G(z))"}

    # The preview shows the newest sample grid it was given.
    frames = dash.preview.frames()
    delivered = [e for e in list(seen) if isinstance(e, ev.ImageReady) and e.name == "samples"][: len(frames)]
    assert [f.step for f in frames] == [e.step for e in delivered]
    assert dash.preview.shown_step == delivered[-1].step
    assert same_pixels(dash.preview.current_image(), to_qimage(delivered[-1].pixels))
    assert window.scene.nodes["train"].state == "running"
    assert window.scene.nodes["train"].thumbnail is not None
    assert dash.progress.last is not None and "step" in dash.progress.details.text()

    shots = screenshots_dir()
    assert window.grab().save(str(shots / "gan_run_light.png"))
    window.set_theme("dark")
    qtbot.wait(50)
    assert window.grab().save(str(shots / "gan_run_dark.png"))
    window.set_theme("light")

    # The scrubber goes back to the first grid; Save as PNG writes what is shown.
    dash.preview.slider.setValue(0)
    assert dash.preview.shown_step == frames[0].step
    assert dash.preview.save_png(tmp_path / "first.png")
    assert same_pixels(QImage(str(tmp_path / "first.png")), dash.preview.payload_of(frames[0]))

    # Stop: the training step under way may finish, no other starts (stop is checked between batches).
    window.act.stop.trigger()
    requested_at = len(seen)  # every event from here on was emitted after the stop request
    qtbot.waitUntil(lambda: window.runs.state == RunPhase.IDLE, timeout=HANG_MS)
    last_step = max(e.step for e in seen[:requested_at] if isinstance(e, ev.MetricPoint))
    steps_after = {e.step for e in seen[requested_at:] if isinstance(e, ev.MetricPoint)}
    assert steps_after <= {last_step, last_step + 1}, "at most the batch under way finished after Stop"
    assert isinstance(seen[-1], ev.RunFinished) and seen[-1].status == "stopped"
    assert window.runs.last_status == "stopped"
    assert window.scene.nodes["train"].state == "stopped"
    assert "last run stopped" in window.state_label.text()


def test_classifier_run_shows_the_confusion_matrix_and_reopens_from_its_folder(window, qtbot, tmp_path):
    wf = small_example("classify_digits", train={"epochs": 3})
    window.load_workflow(wf)
    out = tmp_path / "run"
    handle = window.start_run(out_dir=out)
    assert handle is not None
    qtbot.waitUntil(lambda: window.runs.state == RunPhase.IDLE, timeout=HANG_MS)
    assert window.runs.last_status == "succeeded"

    from engine.store import read_metrics, read_run

    report = read_run(out)["nodes"]["evaluate"]["report"]
    confusion = window.dashboard.confusion
    assert confusion.matrix == report["confusion_matrix"]
    assert confusion.classes == list(report["per_class"])
    assert f"{report['accuracy']:.1%}" in confusion.title
    assert all(window.scene.nodes[n].state in ("done", "cached") for n in window.scene.nodes)
    losses = [r for r in read_metrics(out) if r["name"] == "train_loss"]
    assert window.dashboard.curves.series[("train", "train_loss")].n == len(losses) >= 50
    window.dashboard.tabs.setCurrentWidget(confusion)
    assert window.grab().save(str(screenshots_dir() / "classifier_run.png"))

    reopened = make_window(qtbot)
    assert reopened.past_runs.open(out)
    assert reopened.dashboard.curves.series[("train", "train_loss")].n == len(losses)
    assert reopened.dashboard.confusion.matrix == report["confusion_matrix"]
    assert "test: accuracy" in reopened.console.plain_text()


def test_an_invalid_workflow_does_not_start_and_names_its_problems(window):
    wf = small_example("classify_digits", train={"epochs": -1})
    wf.links = [lk for lk in wf.links if lk.target.node != "evaluate"]
    window.load_workflow(wf)
    assert window.start_run() is None
    assert window.runs.state == RunPhase.IDLE
    assert any("epochs" in p for p in window.problems["train"])
    assert any("not connected" in p for p in window.problems["evaluate"])
    assert window.scene.nodes["train"].badge()[0] == "1 problem"
    assert "epochs" in window.console.plain_text()


def test_closing_during_a_run_asks_once_stops_the_run_then_closes(window, qtbot):
    window.load_workflow(small_example("classify_digits", train={"epochs": 500}))
    window.doc.undo_stack.setClean()
    handle = window.start_run()
    qtbot.waitUntil(lambda: window.dashboard.curves.series.get(("train", "train_loss")) is not None,
                    timeout=HANG_MS)
    asked = []
    window.ask = lambda title, text, buttons: asked.append(title) or QMessageBox.Yes
    assert not window.close()  # not yet: the window stays until the run has stopped and saved its checkpoint
    assert window.isVisible() and window.runs.state == RunPhase.STOPPING
    assert not window.close()  # a second close while stopping does not ask again
    assert asked == ["A run is in progress"]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=HANG_MS)
    result = handle.wait(HANG_MS / 1000)
    assert result is not None and result.status == "stopped"
    assert (handle.run_dir / "train" / "checkpoints" / "last.pt").is_file()


def test_a_failed_run_says_so_in_one_dialog_that_opens_the_runs_log(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from gui import crash

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    table = tmp_path / "one_class.csv"
    table.write_text("x,y\n" + "".join(f"{i},a\n" for i in range(20)))
    wf = Workflow.from_json({"schema": 1, "name": "one class", "nodes": [
        {"id": "data", "type": "csv_table", "params": {"path": str(table), "target": "y"}},
        {"id": "model", "type": "mlp"}, {"id": "train", "type": "train", "params": {"epochs": 1}}],
        "links": [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"}]})
    window.load_workflow(wf)
    handle = window.start_run(out_dir=tmp_path / "run")
    assert handle is not None  # valid on paper: the single class shows only when training starts
    qtbot.waitUntil(lambda: crash.current_dialog() is not None, timeout=HANG_MS)
    dialog = crash.current_dialog()
    try:
        assert window.runs.last_status == "failed"
        assert dialog.heading.text() == "The run failed."
        assert "a classifier needs at least 2" in dialog.summary.text()
        assert not dialog.isModal() and not dialog.details_toggle.isVisibleTo(dialog)
        dialog.open_log_button.click()
        assert opened == [str(tmp_path / "run" / "log.txt")]
        assert "a classifier needs at least 2" in (tmp_path / "run" / "log.txt").read_text()
    finally:
        dialog.close()
