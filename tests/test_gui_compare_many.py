"""The compare dialog with thirty runs: it opens in the background, stays readable, pins a baseline,
groups seeds, and shows several runs' samples side by side at one step.

The run folders are fake (tests/test_compare_many.py's ``fake_run``); the
samples are PNGs and texts written at known steps.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QTimer  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402
from PySide6.QtWidgets import QTableWidget  # noqa: E402

from engine.compare import Comparison  # noqa: E402
from gui.compare import CompareDialog  # noqa: E402
from gui.compare_table import BASELINE_MARK, COLUMN_WIDTH, better_worse_colors  # noqa: E402
from gui.testing import HANG_MS, finish  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402
from tests.test_compare_many import fake_run  # noqa: E402

LRS = (0.0003, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05)


@pytest.fixture
def thirty(tmp_path) -> list[Path]:
    """Ten learning rates, three seeds each; some names long, as a sweep's trials are."""
    runs = []
    for i, lr in enumerate(LRS):
        for seed in range(3):
            name = f"r{i:02d}_s{seed}" if i % 3 else f"classify_digits_sweep_trial_{i:02d}_seed_{seed}_long_name"
            accuracy = 0.80 + 0.01 * i + 0.005 * seed
            runs.append(fake_run(tmp_path / name, lr=lr, seed=seed, accuracy=accuracy, val_loss=1 - accuracy))
    return runs


def rows(table: QTableWidget) -> dict[str, list[str]]:
    return {table.verticalHeaderItem(i).text(): [table.item(i, j).text() for j in range(table.columnCount())]
            for i in range(table.rowCount())}


def open_dialog(qtbot, runs: list[Path]) -> CompareDialog:
    dialog = CompareDialog(Comparison.of(runs))
    qtbot.addWidget(dialog)
    dialog.resize(1200, 760)
    dialog.show()
    return dialog


def test_thirty_runs_are_read_in_the_background_and_the_window_keeps_serving_events(window, qtbot, thirty,
                                                                                    monkeypatch):
    reading, release, order = threading.Event(), threading.Event(), []
    original = Comparison.of

    def gated(run_dirs):  # the engine's read, held until the GUI has proved it still turns its loop
        reading.set()
        assert release.wait(HANG_MS / 1000)
        return original(run_dirs)

    monkeypatch.setattr(Comparison, "of", staticmethod(gated))
    task = window.past_runs.compare(thirty)
    QTimer.singleShot(0, lambda: order.append("the window handled an event"))
    qtbot.waitUntil(lambda: bool(order) and reading.is_set(), timeout=HANG_MS)
    order.append("runs read")
    assert not task.done()  # the dialog is not open yet: it waits for the read, the window does not
    release.set()
    dialog = finish(qtbot, task)
    order.append("dialog open")
    assert order == ["the window handled an event", "runs read", "dialog open"]
    assert dialog.isVisible() and dialog.table.columnCount() == 30


def test_thirty_runs_keep_readable_columns_with_elided_names_and_the_differences_first(qtbot, thirty):
    dialog = open_dialog(qtbot, thirty)
    table = dialog.table
    assert dialog.differences.isChecked()  # on by default past two runs
    assert table.columnWidth(0) == COLUMN_WIDTH and table.horizontalScrollBar().maximum() > 0
    header = table.horizontalHeaderItem(0)
    assert "…" in header.text() and header.toolTip().startswith("classify_digits_sweep_trial_00_seed_0_long_name")
    assert len({table.horizontalHeaderItem(j).text() for j in range(30)}) == 30  # elided, yet told apart
    shown = rows(table)
    assert list(shown)[:2] == ["train.lr", "train.seed"] and "train.epochs" not in shown
    dialog.differences.setChecked(False)
    every = rows(table)
    assert every["train.epochs"] == ["4"] * 30 and list(every)[:2] == ["train.lr", "train.seed"]
    assert table.item(0, 0).font().bold() and not table.item(2, 0).font().bold()  # changes still highlighted
    dialog.differences.setChecked(True)
    legend = dialog.legend.text()
    assert dialog.legend.toolTip().splitlines() == [r.name for r in thirty]  # every curve named, in full here
    assert legend.count("━") + legend.count("╌") + legend.count("┈") == 30
    assert "…" in legend and dialog.plot.plotItem.legend is None  # long names elided; nothing covers the curves
    assert sorted(dialog.curve_labels()) == sorted(r.name for r in thirty)
    table.horizontalScrollBar().setValue(0)
    assert dialog.grab().save(str(screenshots_dir() / "compare_30_runs.png"))


def test_a_baseline_picked_from_a_column_header_shows_every_other_runs_difference_in_colour(qtbot, thirty):
    dialog = open_dialog(qtbot, thirty)
    header = dialog.table.horizontalHeader()
    column = 6  # lr 0.002, seed 0: accuracy 0.82
    dialog.open_header_menu(QPoint(header.sectionViewportPosition(column) + 5, 5))
    use = next(a for a in dialog.header_menu.actions() if a.text() == "Use as baseline")
    use.trigger()
    dialog.header_menu.close()
    assert dialog.baseline_box.currentText() == thirty[column].name
    assert dialog.table.horizontalHeaderItem(column).text().startswith(BASELINE_MARK)
    accuracy = rows(dialog.table)["evaluate.accuracy"]
    assert accuracy[column] == "0.82"  # the baseline itself: no difference
    assert accuracy[0] == "0.8  (-2.0 pts)" and accuracy[29] == "0.9  (+8.0 pts)"
    row = list(rows(dialog.table)).index("evaluate.accuracy")
    better, worse = (QColor(c) for c in better_worse_colors())
    assert dialog.table.item(row, 29).foreground().color() == better
    assert dialog.table.item(row, 0).foreground().color() == worse
    loss_row = list(rows(dialog.table)).index("train.val_loss")
    assert dialog.table.item(loss_row, 29).foreground().color() == better  # lower loss: better, in green too
    assert dialog.grab().save(str(screenshots_dir() / "compare_baseline.png"))
    dialog.set_baseline(None)
    assert "pts" not in " ".join(rows(dialog.table)["evaluate.accuracy"])


def test_grouping_by_seed_shows_one_column_per_setting_with_mean_and_std(qtbot, thirty, tmp_path):
    dialog = open_dialog(qtbot, thirty)
    dialog.set_baseline(0)
    dialog.group.setChecked(True)
    table = dialog.table
    assert table.columnCount() == 10
    shown = rows(table)
    assert "train.seed" not in shown and shown["runs (n)"] == ["3"] * 10
    assert shown["seeds"][0] == "0 / 1 / 2"
    assert shown["evaluate.accuracy"][0] == "0.805 ± 0.005"  # the baseline's group, no difference
    assert shown["evaluate.accuracy"][1] == "0.815 ± 0.005  (+1.0 pts)"
    assert table.horizontalHeaderItem(0).text().startswith(BASELINE_MARK)
    legend = dialog.legend.text()
    assert legend.count("━") + legend.count("╌") == 10  # one legend entry per group
    assert len(dialog.curve_labels()) == 30  # every run still drawn, in its group's colour
    assert dialog.grab().save(str(screenshots_dir() / "compare_seed_groups.png"))
    dialog.export_csv(str(tmp_path / "groups.csv"))  # what is shown is what is exported
    assert (tmp_path / "groups.csv").read_text().splitlines()[0].count(",") == 2 + 10 - 1


def png(path: Path, step: int, color: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    image = QImage(40, 40, QImage.Format_RGB32)
    image.fill(QColor(color))
    assert image.save(str(path / f"step_{step:06d}.png"))


def test_samples_tab_shows_each_runs_nearest_sample_at_or_before_the_chosen_step(qtbot, tmp_path):
    runs = [fake_run(tmp_path / name) for name in ("gan_a", "gan_b", "lm_c", "plain")]
    for step in (0, 100, 200, 300):
        png(runs[0] / "train" / "samples", step, "#1c7ed6")
    for step in (150, 300):
        png(runs[1] / "train" / "samples", step, "#e8590c")
    for step in (50, 250):
        (runs[2] / "lm" / "samples").mkdir(parents=True, exist_ok=True)
        (runs[2] / "lm" / "samples" / f"step_{step:06d}.txt").write_text(f"once upon step {step}")
    dialog = open_dialog(qtbot, runs)
    dialog.tabs.setCurrentWidget(dialog.samples)
    samples = dialog.samples
    qtbot.waitUntil(lambda: samples.loaded_step == 300, timeout=HANG_MS)  # the end of training first
    assert samples.steps == [0, 50, 100, 150, 200, 250, 300]
    assert samples.captions() == [("gan_a", "step 300"), ("gan_b", "step 300"), ("lm_c", "step 250 (nearest ≤ 300)"),
                                  ("plain", "no samples")]
    samples.spin.setValue(120)
    qtbot.waitUntil(lambda: samples.loaded_step == 120, timeout=HANG_MS)
    assert [caption for _run, caption in samples.captions()] == [
        "step 100 (nearest ≤ 120)", "no sample yet (first at step 150)", "step 50 (nearest ≤ 120)", "no samples"]
    assert samples.slider.value() == samples.steps.index(100)
    first = samples.columns[0]
    assert first.picture.pixmap().width() == min(first.width() - 6, first.picture_height)  # fits the column
    assert first.picture.pixmap().toImage().pixelColor(5, 5) == QColor("#1c7ed6")
    assert samples.columns[2].text.toPlainText() == "once upon step 50"
    samples.slider.setValue(samples.steps.index(200))  # the slider moves over the steps some run saved
    qtbot.waitUntil(lambda: samples.loaded_step == 200, timeout=HANG_MS)
    assert samples.spin.value() == 200 and samples.captions()[1] == ("gan_b", "step 150 (nearest ≤ 200)")
    samples.spin.setValue(300)
    qtbot.waitUntil(lambda: samples.loaded_step == 300, timeout=HANG_MS)
    assert dialog.grab().save(str(screenshots_dir() / "compare_samples.png"))


def test_sample_files_are_read_off_the_gui_thread_while_the_window_keeps_serving_events(qtbot, tmp_path,
                                                                                         monkeypatch):
    from gui import compare_samples

    runs = [fake_run(tmp_path / name) for name in ("a", "b")]
    for run, color in zip(runs, ("#1c7ed6", "#e8590c"), strict=True):
        png(run / "train" / "samples", 10, color)
    release, threads, order = threading.Event(), [], []
    original = compare_samples.load_sample

    def gated(path: Path):
        threads.append(threading.current_thread())
        assert release.wait(HANG_MS / 1000)
        return original(path)

    monkeypatch.setattr(compare_samples, "load_sample", gated)
    dialog = open_dialog(qtbot, runs)
    dialog.tabs.setCurrentWidget(dialog.samples)
    qtbot.waitUntil(lambda: len(threads) == 1, timeout=HANG_MS)  # the reading has begun...
    QTimer.singleShot(0, lambda: order.append("the window handled an event"))
    qtbot.waitUntil(lambda: bool(order), timeout=HANG_MS)  # ...and the window still answers
    assert dialog.samples.loaded_step is None and threads[0] is not threading.main_thread()
    release.set()
    qtbot.waitUntil(lambda: dialog.samples.loaded_step == 10, timeout=HANG_MS)
    assert [caption for _run, caption in dialog.samples.captions()] == ["step 10", "step 10"]


@pytest.fixture(scope="module")
def two_gans(tmp_path_factory) -> list[Path]:
    """Two tiny real GAN runs that save their sample grids at different steps (every 5 and every 7)."""
    import torch

    from engine import Engine
    from tests.test_gan_training import tiny

    base = tmp_path_factory.mktemp("gans")
    runs, threads = [], torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models gain nothing from more threads, and one is immune to a busy CPU
    try:
        for name, every, lr in (("gan_every5", 5, 0.0002), ("gan_every7", 7, 0.001)):
            wf = tiny(sample_every=every, lr_g=lr, batch_size=96)  # 18 steps
            result = Engine(disk_cache=False).run(wf, out_dir=base / name, device="cpu")
            assert result.status == "succeeded", result.message
            runs.append(base / name)
    finally:
        torch.set_num_threads(threads)
    return runs


def test_real_gan_runs_sample_grids_side_by_side_at_one_step(qtbot, two_gans):
    dialog = open_dialog(qtbot, two_gans)
    assert not dialog.differences.isChecked()  # two runs: every setting is shown, the differing ones highlighted
    dialog.resize(900, 560)
    dialog.tabs.setCurrentWidget(dialog.samples)
    samples = dialog.samples
    qtbot.waitUntil(lambda: samples.loaded_step is not None, timeout=HANG_MS)
    assert {0, 5, 7, 10} <= set(samples.steps)
    samples.spin.setValue(13)
    qtbot.waitUntil(lambda: samples.loaded_step == 13, timeout=HANG_MS)
    assert samples.captions() == [("gan_every5", "step 10 (nearest ≤ 13)"), ("gan_every7", "step 7 (nearest ≤ 13)")]
    grids = [column.picture.pixmap() for column in samples.columns]
    assert all(not grid.isNull() and grid.width() == min(column.width() - 6, column.picture_height)
               and grid.height() <= samples.scroll.viewport().height()  # the whole grid in view, no scrolling
               for grid, column in zip(grids, samples.columns, strict=True))
    samples.spin.setValue(samples.steps[-1])
    qtbot.waitUntil(lambda: samples.loaded_step == samples.steps[-1], timeout=HANG_MS)
    assert dialog.grab().save(str(screenshots_dir() / "compare_samples_gan.png"))
