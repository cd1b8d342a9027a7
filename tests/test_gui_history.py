"""Past runs (gui.past_runs, behind the Runs panel): the list comes from the index in the background;
compare two runs, reuse a run's settings, move a run to the trash (after asking)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

pytest.importorskip("pytestqt")

from engine.run_index import RunIndex  # noqa: E402
from gui.testing import HANG_MS, finish, make_window  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402
from tests.test_compare import classify_run  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> list[Path]:
    """Two finished runs, trained once for the module (each test works on its own copies)."""
    base = tmp_path_factory.mktemp("trained")
    return [classify_run(base / "a", lr=0.001, epochs=6), classify_run(base / "b", lr=0.003, epochs=6)]


@pytest.fixture
def window_with_runs(qtbot, tmp_path, trained):
    runs = [Path(shutil.copytree(run, tmp_path / run.name)) for run in trained]
    index = RunIndex()
    for run in runs:
        index.record(run, json.loads((run / "run.json").read_text()))
    window = make_window(qtbot)
    finish(qtbot, window.past_runs.refresh())
    return window, runs


def select(window, run_dirs: list[Path]) -> None:
    panel = window.history
    wanted = {str(Path(d).resolve()) for d in run_dirs}
    for i in range(panel.list.count()):
        item = panel.list.item(i)
        item.setSelected(item.data(0x0100) in wanted)  # Qt.UserRole


def test_the_runs_panel_lists_the_indexed_runs_newest_first(window_with_runs):
    window, runs = window_with_runs
    listed = [window.history.list.item(i).data(Qt.UserRole) for i in range(window.history.list.count())]
    assert sorted(listed) == sorted(str(r.resolve()) for r in runs)
    assert all(window.history.list.item(i).text().startswith("✔") for i in range(len(listed)))


def test_refresh_shows_what_the_index_holds_now(window_with_runs, qtbot):
    window, runs = window_with_runs
    RunIndex().forget(runs[0])
    assert [r["run_dir"] for r in finish(qtbot, window.past_runs.refresh())] == [str(runs[1].resolve())]
    assert window.history.list.count() == 1


def test_the_newest_refresh_wins(window_with_runs, qtbot):
    window, runs = window_with_runs
    first = window.past_runs.refresh()
    RunIndex().forget(runs[0])
    second = window.past_runs.refresh()
    finish(qtbot, second)
    assert first.cancelled()  # an older answer never overwrites a newer one
    assert window.history.list.count() == 1


def test_two_selected_runs_compare_side_by_side(window_with_runs, tmp_path, qtbot):
    window, runs = window_with_runs
    panel = window.history
    select(window, runs[:1])
    assert not panel.compare_button.isEnabled() and panel.reuse_button.isEnabled()
    select(window, runs)
    assert panel.compare_button.isEnabled() and not panel.reuse_button.isEnabled()
    dialog = finish(qtbot, window.past_runs.compare(panel.selected()))
    assert dialog.table.columnCount() == 2
    assert dialog.table.verticalHeaderItem(0).text() == "train.lr"  # what changed comes first
    assert sorted(dialog.curve_labels()) == ["a", "b"]  # one curve per run, val_loss by default
    assert dialog.metric_box.currentText() == "train.val_loss"
    dialog.export_csv(str(tmp_path / "cmp.csv"))
    assert "train.lr" in (tmp_path / "cmp.csv").read_text()
    dialog.resize(900, 640)
    assert dialog.grab().save(str(screenshots_dir() / "compare_runs.png"))


def test_reuse_opens_the_runs_settings_as_a_new_document(window_with_runs):
    window, runs = window_with_runs
    assert window.past_runs.reuse(runs[1])
    assert window.doc.workflow.node("train").params["lr"] == 0.003
    assert window.doc.path is None  # Save will ask where, never overwrite the run's copy


def test_move_to_trash_asks_first_and_forgets_the_run(window_with_runs, monkeypatch, tmp_path, qtbot):
    window, runs = window_with_runs
    (tmp_path / "xdg").mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # a private trash
    window.ask = lambda *_a: QMessageBox.Cancel
    assert window.past_runs.trash([str(runs[0])]) is None and runs[0].exists()
    window.ask = lambda *_a: QMessageBox.Yes
    assert finish(qtbot, window.past_runs.trash([str(runs[0])])) == 1
    assert not runs[0].exists() and (tmp_path / "xdg" / "Trash" / "files" / "a").is_dir()
    assert str(runs[0].resolve()) not in {r["run_dir"] for r in RunIndex().list()}
    qtbot.waitUntil(lambda: window.history.list.count() == 1, timeout=HANG_MS)  # the list follows


def test_a_previous_run_overlays_the_live_curves_and_survives_a_new_run(window_with_runs):
    window, runs = window_with_runs
    curves = window.dashboard.curves
    assert curves.overlay.add(runs[0]) >= 4  # train_loss, val_loss, val_accuracy, val_f1
    overlaid = {key: s for key, s in curves.series.items() if key[0].startswith("previous:a/")}
    assert ("previous:a/train", "train_loss") in overlaid
    assert overlaid["previous:a/train", "train_loss"].item.opts["pen"].style() == Qt.DashLine
    window.dashboard.reset()  # what a new run does first
    assert ("previous:a/train", "train_loss") in curves.series
    curves.overlay.menu.aboutToShow.emit()
    labels = [a.text() for a in curves.overlay.menu.actions()]
    assert any(label.endswith("·  a") for label in labels) and "Remove all overlays" in labels
    curves.overlay.remove("a")
    assert not any(key[0].startswith("previous:") for key in curves.series)
