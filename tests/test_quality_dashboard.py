"""The dashboard draws a generator's quality curve under its losses, live and from a finished run's folder."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("pytestqt")

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from engine import events as ev  # noqa: E402
from gui.dashboard.groups import GROUP_NOTES, QUALITY_GROUP, RECOGNISED_GROUP, group_for  # noqa: E402
from gui.testing import HANG_MS, small_example  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402


def test_quality_metrics_get_their_own_plots_with_a_line_on_how_to_read_them():
    assert group_for("quality") == QUALITY_GROUP
    assert group_for("confident") == group_for("classes") == RECOGNISED_GROUP  # one plot: the losses keep room
    assert "lower is better" in QUALITY_GROUP  # the plot's title says how to read it
    assert "Fréchet distance" in GROUP_NOTES[QUALITY_GROUP] and "lower is better" in GROUP_NOTES[QUALITY_GROUP]
    assert group_for("loss_g") == "GAN losses"  # the others are where they were


def tiny_gan(epochs: int = 200, quality_every: int = 4):
    return small_example("gan_shapes", data={"count": 256, "size": 16},
                         model={"width": 4, "latent_dim": 8, "pack": 1, "minibatch_std": False},
                         train={"epochs": epochs, "batch_size": 32, "samples": 16, "sample_every": 4,
                                "quality_every": quality_every, "quality_share": 1.0, "checkpoint_every": 100000})


def test_a_live_gan_run_shows_the_quality_plot_under_its_losses(window, qtbot):
    wf = tiny_gan()
    wf.remove_node("generate")
    window.load_workflow(wf)
    window.act.run.trigger()
    curves = window.dashboard.curves

    def quality_points() -> int:
        series = curves.series.get(("train", "quality"))
        return series.n if series else 0

    qtbot.waitUntil(lambda: quality_points() >= 3, timeout=HANG_MS)
    groups = list(curves.plots)
    assert groups.index(QUALITY_GROUP) > groups.index("GAN losses")  # placed after (under) the losses
    plot = curves.plots[QUALITY_GROUP]
    assert "lower is better" in plot.titleLabel.text
    assert "Fréchet distance" in plot.toolTip()
    x, y = curves.series[("train", "quality")].item.getData()
    assert list(x[:3]) == [4, 8, 12] and all(v >= 0 for v in y)
    assert ("train", "confident") in curves.series and ("train", "classes") in curves.series
    assert len(curves.plots) == 4  # losses, D outputs, quality, recognised samples: a 2 x 2 grid
    assert window.grab().save(str(screenshots_dir() / "quality_live.png"))
    window.act.stop.trigger()
    qtbot.waitUntil(lambda: not window.runs.active, timeout=HANG_MS)


def test_a_finished_run_shows_its_quality_curve_from_metrics_csv(tmp_path, qtbot):
    from engine.runner import Engine
    from gui.dashboard.panel import Dashboard

    wf = tiny_gan(epochs=1, quality_every=3)
    wf.remove_node("generate")
    run = tmp_path / "run"
    assert Engine(disk_cache=False).run(wf, out_dir=run, device="cpu").status == "succeeded"
    dash = Dashboard()
    qtbot.addWidget(dash)
    dash.resize(900, 600)
    dash.show()
    dash.load_run(run)
    series = dash.curves.series[("train", "quality")]
    assert list(series.steps) == [3, 6, 8]  # every 3 steps and at the end (8 steps of 32 of 256 images)
    assert QUALITY_GROUP in dash.curves.plots
    dash.curves.points_seen = series.n
    assert dash.grab().save(str(screenshots_dir() / "quality_past_run.png"))


def test_the_dashboard_draws_quality_events_in_its_frame(qtbot):
    """Points arriving as events (the bridge's batches) land on the quality plot, one redraw per batch."""
    from gui.dashboard.panel import Dashboard

    dash = Dashboard()
    qtbot.addWidget(dash)
    batch = [ev.MetricPoint(node_id="train", name=name, step=step, epoch=1, value=value)
             for step in (1, 2) for name, value in (("loss_d", 1.0), ("loss_g", 0.7))]
    batch += [ev.MetricPoint(node_id="train", name="quality", step=2, epoch=1, value=42.0)]
    dash.handle(batch)
    x, y = dash.curves.series[("train", "quality")].item.getData()
    assert list(x) == [2] and list(y) == [42.0]
