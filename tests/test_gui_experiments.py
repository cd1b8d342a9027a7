"""The Experiments panel: a study's trials, its plots, Sweep this… from the inspector, and a real sweep.

Most tests read a *fake* study: an Optuna study written straight into the
default storage ($LOOM_HOME/sweeps.db, isolated per test by conftest) with
trials whose params, values, states and run folders (metrics.csv) are known,
so what the panel shows can be checked exactly.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog

from gui.experiments.plots import axis_position
from gui.experiments.sweep_api import api, default_storage, study_name_for
from gui.experiments.table import BEST_COLOUR
from gui.paths import runs_root
from gui.testing import HANG_MS, finish, small_example
from tests.conftest import screenshots_dir

STUDY = "classify-digits"
# (lr, batch_size, best-epoch val_accuracy, state): trial 5 is the best; 2 and 6 were pruned, 7 failed
TRIALS = [
    (3e-3, 64, 0.912, "complete"),
    (1e-2, 32, 0.947, "complete"),
    (2e-4, 128, 0.512, "pruned"),
    (1e-3, 64, 0.931, "complete"),
    (6e-2, 32, 0.889, "complete"),
    (5e-3, 64, 0.962, "complete"),
    (1.2e-4, 128, 0.401, "pruned"),
    (8e-2, 128, None, "failed"),
]
BEST = 5


def write_metrics(run_dir: Path, finals: list[float]) -> None:
    """A metrics.csv with one val_accuracy and one loss point per epoch."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "metrics.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(("step", "epoch", "node", "name", "value", "time"))
        for epoch, value in enumerate(finals, start=1):
            out.writerow((epoch * 10, epoch, "train", "val_accuracy", value, float(epoch)))
            out.writerow((epoch * 10, epoch, "train", "loss", 1.0 - value, float(epoch)))


def fake_study(root: Path, name: str = STUDY, trials: list = TRIALS) -> str:
    """An Optuna study in the default storage, trials added directly (no training); returns its name."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from optuna.trial import TrialState, create_trial

    from engine.run_index import loom_home
    from engine.sweep.study import METRIC_ATTR, SPACE_ATTR
    from engine.sweep.view import EPOCHS_ATTR, RUN_DIR_ATTR

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    loom_home().mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(study_name=name, storage=default_storage(), direction="maximize")
    space = [api().SweepParam("train", "lr", "float", low=1e-4, high=1e-1, log=True),
             api().SweepParam("train", "batch_size", "choice", choices=(32, 64, 128))]
    study.set_user_attr(SPACE_ATTR, [p.to_json() for p in space])
    study.set_user_attr(METRIC_ATTR, "val_accuracy")
    dists = {"train.lr": FloatDistribution(1e-4, 1e-1, log=True),
             "train.batch_size": CategoricalDistribution((32, 64, 128))}
    states = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}
    for number, (lr, batch, value, state) in enumerate(trials):
        run_dir = root / f"trial-{number:03d}"
        epochs = [value - 0.2, value, value - 0.01] if value is not None and state == "complete" else \
            [value] if value is not None else []
        write_metrics(run_dir, epochs)
        study.add_trial(create_trial(
            params={"train.lr": lr, "train.batch_size": batch}, distributions=dists,
            value=value if state == "complete" else None, state=states[state],
            intermediate_values={i + 1: v for i, v in enumerate(epochs)}, user_attrs={RUN_DIR_ATTR: str(run_dir), EPOCHS_ATTR: len(epochs)}))
    return name


def show_study(window, qtbot, tmp_path: Path):
    """The panel, showing the fake study (read in the background like any study)."""
    fake_study(tmp_path)
    panel = window.experiments
    window.experiments_dock.show()
    window.experiments_dock.raise_()
    finish(qtbot, panel.refresh_studies())
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.name == STUDY, timeout=HANG_MS)
    return panel


def column_of(panel, header_start: str) -> int:
    return next(i for i, h in enumerate(panel.model.headers()) if h.startswith(header_start))


def shown_column(panel, column: int, role=Qt.DisplayRole) -> list:
    return [panel.proxy.index(r, column).data(role) for r in range(panel.proxy.rowCount())]


def test_the_panel_lists_a_studys_trials_best_first_best_highlighted_and_pruned_marked(window, qtbot, tmp_path):
    panel = show_study(window, qtbot, tmp_path)
    assert [panel.picker.itemText(i) for i in range(panel.picker.count())] == [STUDY]
    assert panel.proxy.rowCount() == len(TRIALS)
    assert panel.model.headers()[2:4] == ["train.lr", "train.batch_size"]
    value = column_of(panel, "val_accuracy")
    # sorted by the best-epoch metric, best first; the failed trial (no value) last
    assert shown_column(panel, 0) == ["5", "1", "3", "0", "4", "2", "6", "7"]
    first = panel.proxy.index(0, 1)
    assert first.data() == "complete ★ best"
    assert first.data(Qt.FontRole).bold()
    assert first.data(Qt.ForegroundRole).color() == BEST_COLOUR
    assert shown_column(panel, value)[0] == "0.962"
    pruned_rows = [r for r in range(panel.proxy.rowCount()) if panel.proxy.index(r, 1).data() == "pruned"]
    assert [panel.proxy.index(r, 0).data() for r in pruned_rows] == ["2", "6"]
    for r in pruned_rows:
        font: QFont = panel.proxy.index(r, 1).data(Qt.FontRole)
        assert font.italic() and not font.bold()
        assert "median" in panel.proxy.index(r, 1).data(Qt.ToolTipRole)
    assert "8 trials: 5 complete, 2 pruned, 1 failed · best val_accuracy 0.962 (trial 5)" in panel.status.text()

    # sortable by any column, numbers as numbers (not as text: "64" < "128")
    panel.table.sortByColumn(column_of(panel, "train.batch_size"), Qt.AscendingOrder)
    assert shown_column(panel, column_of(panel, "train.batch_size")) == ["32"] * 2 + ["64"] * 3 + ["128"] * 3
    panel.table.sortByColumn(value, Qt.AscendingOrder)
    assert shown_column(panel, 0)[:2] == ["6", "2"] and shown_column(panel, 0)[-1] == "7"  # no value: last both ways


def test_parallel_coordinates_draw_one_line_per_trial_with_a_value_on_log_axes(window, qtbot, tmp_path):
    panel = show_study(window, qtbot, tmp_path)
    with_value = {n for n, t in enumerate(TRIALS) if t[2] is not None}
    assert set(panel.parallel.lines) == with_value
    lr = next(p for p in panel.view.params if p.key == "train.lr")
    assert lr.log
    assert axis_position(lr, 10 ** -2.5) == pytest.approx(0.5)  # halfway between 1e-4 and 1e-1 on a log axis
    xs, ys = panel.parallel.lines[BEST].getData()
    assert list(xs) == [0, 1, 2]  # lr axis, batch size axis, metric axis
    assert ys[2] == pytest.approx(1.0)  # the best metric sits at the top of its axis
    assert ys[1] == pytest.approx(0.5)  # batch 64: the middle of (32, 64, 128)
    assert panel.parallel.lines[2].opts["pen"].style() == Qt.DashLine  # pruned: dashed


def test_importances_get_one_bar_per_parameter(window, qtbot, tmp_path):
    panel = show_study(window, qtbot, tmp_path)
    bars = panel.importance.bars
    assert set(bars) == {"train.lr", "train.batch_size"}
    assert all(v >= 0 for v in bars.values()) and sum(bars.values()) == pytest.approx(1.0)
    assert panel.importance.plot is not None and panel.importance.plot.isVisibleTo(panel.importance)


def test_importances_wait_for_two_complete_trials(window, qtbot, tmp_path):
    fake_study(tmp_path, trials=TRIALS[:1])
    panel = window.experiments
    finish(qtbot, panel.refresh_studies())
    qtbot.waitUntil(lambda: panel.view is not None, timeout=HANG_MS)
    assert panel.importance.bars == {}
    assert "two complete trials" in panel.importance.note.text()


def test_selected_trials_curves_are_overlaid(window, qtbot, tmp_path):
    panel = show_study(window, qtbot, tmp_path)
    panel.tabs.setCurrentWidget(panel.curves)
    panel.table.selectRow(0)  # trial 5
    panel.table.selectionModel().select(panel.proxy.index(1, 0), QItemSelectionModel.Select
                                        | QItemSelectionModel.Rows)  # trial 1
    finish(qtbot, panel.curves._reading)
    assert set(panel.curves.lines) == {5, 1}
    assert panel.curves.metric_box.currentText() == "val_accuracy"
    xs, ys = panel.curves.lines[5].getData()
    assert list(xs) == [1, 2, 3] and max(ys) == pytest.approx(0.962)


def test_open_best_as_workflow_loads_the_best_trials_settings_as_a_new_document(window, qtbot, tmp_path):
    window.load_workflow(small_example("classify_digits"))
    panel = show_study(window, qtbot, tmp_path)
    assert panel.best_button.isEnabled()
    assert panel.open_best()
    train = window.doc.workflow.node("train")
    assert train.params["lr"] == pytest.approx(5e-3) and train.params["batch_size"] == 64
    assert window.doc.path is None  # untitled: Save asks where
    assert window.doc.workflow.node("model").params == small_example("classify_digits").node("model").params


def open_train(window):
    window.load_workflow(small_example("classify_digits"))
    window.scene.select_nodes(["train"])
    assert window.inspector.node_id == "train"
    return window.inspector


def sweep_this(window, inspector, name: str) -> QDialog:
    field = inspector.fields[name]
    widget = getattr(field, "edit", None) or field.combo
    menu = inspector.sweep_menu(name, widget)
    action = next(a for a in menu.actions() if a.text() == "Sweep this…")
    action.trigger()
    return window.experiments.range_dialog


def test_sweep_this_adds_a_valid_range_to_the_draft_and_refuses_an_inverted_one(window, qtbot):
    inspector = open_train(window)
    panel = window.experiments
    dialog = sweep_this(window, inspector, "lr")
    assert dialog.low.text() == "0.0001" and dialog.high.text() == "0.01" and dialog.log.isChecked()  # around 1e-3
    dialog.low.setText("1e-4")
    dialog.high.setText("1e-1")
    dialog.accept()
    assert dialog.result() == QDialog.Accepted
    assert [(p.key, p.kind, p.low, p.high, p.log) for p in panel.draft.params] == [("train.lr", "float", 1e-4, 0.1, True)]

    dialog = sweep_this(window, inspector, "batch_size")
    dialog.low.setText("128")
    dialog.high.setText("32")
    dialog.accept()
    assert dialog.isVisible() and dialog.result_param is None
    assert "inverted" in dialog.error.text() and "Swap" in dialog.error.text()
    dialog.low.setText("0")
    dialog.high.setText("128")
    dialog.accept()
    assert "below the smallest value train.batch_size allows (1)" in dialog.error.text()
    dialog.low.setText("16.5")
    dialog.accept()
    assert "whole number" in dialog.error.text()
    dialog.low.setText("32")
    dialog.accept()
    assert not dialog.isVisible()
    assert panel.draft.keys() == ["train.lr", "train.batch_size"]
    assert panel.draft.params[1].kind == "int" and (panel.draft.params[1].low, panel.draft.params[1].high) == (32, 128)


def test_sweep_this_on_a_choice_ticks_the_allowed_values_and_needs_two(window, qtbot):
    inspector = open_train(window)
    dialog = sweep_this(window, inspector, "optimizer")
    for box in dialog.ticks[1:]:
        box.setChecked(False)
    dialog.accept()
    assert "at least two" in dialog.error.text() and dialog.isVisible()
    dialog.ticks[1].setChecked(True)
    ticked = tuple(b.property("choice") for b in dialog.ticks[:2])
    dialog.accept()
    param = window.experiments.draft.params[0]
    assert param.kind == "choice" and param.choices == ticked


def test_new_sweep_needs_something_to_search_and_builds_the_config(window, qtbot):
    from gui.experiments.new_sweep import NewSweepDialog

    window.load_workflow(small_example("classify_digits"))
    panel = window.experiments
    dialog = NewSweepDialog(panel.draft, window.doc.workflow, panel)
    with pytest.raises(ValueError, match="Nothing to search yet"):
        dialog.config()
    panel.draft.add(api().SweepParam("train", "lr", "float", low=1e-4, high=1e-1, log=True))
    dialog.trials.setValue(12)
    dialog.metric_box.setCurrentText("val_loss")
    config = dialog.config()
    assert config.study == study_name_for(window.doc.workflow) == "classify-digits--mlp" and config.trials == 12 and config.sampler == "tpe"
    assert config.prune == "median" and config.metric == "val_loss" and config.maximize is False
    assert [p.key for p in config.params] == ["train.lr"]
    dialog.close()


def test_screenshot_of_the_experiments_panel(window, qtbot, tmp_path):
    window.set_theme("light")
    window.resize(1400, 880)
    window.dashboard_dock.hide()  # View > Panels: the study gets the window's height
    window.log_dock.hide()
    panel = show_study(window, qtbot, tmp_path)
    window.resizeDocks([window.experiments_dock], [720], Qt.Horizontal)
    panel.tabs.setCurrentWidget(panel.parallel)
    qtbot.wait(50)  # the docks' new sizes are laid out (the picture only, nothing is asserted on time)
    window.load_workflow(small_example("classify_digits"))  # fitted to the canvas's final size
    qtbot.wait(50)
    assert window.grab().save(str(screenshots_dir() / "experiments_panel.png"))


def test_a_tiny_real_sweep_set_up_from_the_inspector_runs_from_the_panel_and_lists_its_trials(window, qtbot):
    window.load_workflow(small_example("classify_digits", data={"size": 8}, train={"epochs": 2}))
    window.scene.select_nodes(["train"])
    dialog = sweep_this(window, window.inspector, "optimizer")  # right-click -> Sweep this…
    for box in dialog.ticks[2:]:
        box.setChecked(False)
    ticked = {b.property("choice") for b in dialog.ticks[:2]}
    dialog.accept()
    panel = window.experiments
    new = panel.new_sweep()
    assert new.metric_box.currentText() == "val_accuracy" and new.direction.currentText() == "maximize"
    new.trials.setValue(2)
    new.prune.setCurrentIndex(new.prune.findData("none"))
    new.study.setText("tiny-panel-sweep")
    new.accept()
    assert panel.runner.active
    assert not window.act.run.isEnabled() and not panel.start_button.isEnabled() and panel.pause_button.isEnabled()
    assert window.start_run() is None and not window.runs.active  # one thing at a time on the device
    assert "A sweep is running" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not panel.runner.active, timeout=HANG_MS)
    qtbot.waitUntil(lambda: panel.view is not None and len(panel.view.trials) == 2, timeout=HANG_MS)
    assert panel.picker.currentText() == "tiny-panel-sweep"
    assert {t.state for t in panel.view.trials} == {"complete"}
    assert {t.params["train.optimizer"] for t in panel.view.trials} <= ticked
    assert all(t.run_dir and Path(t.run_dir, "run.json").exists() for t in panel.view.trials)
    assert all(Path(t.run_dir).parent == runs_root() for t in panel.view.trials)  # the app's runs, like any run
    assert all(t.value is not None and math.isfinite(t.value) for t in panel.view.trials)
    assert panel.proxy.rowCount() == 2 and window.act.run.isEnabled() and panel.best_button.isEnabled()
    last = max(panel.view.trials, key=lambda t: t.number)
    assert window.dashboard.run_dir == Path(last.run_dir)  # the trials' events reached the dashboard
    trial_dirs = {t.run_dir for t in panel.view.trials}
    qtbot.waitUntil(lambda: trial_dirs <= {r["run_dir"] for r in window.past_runs.listed}, timeout=HANG_MS)  # Runs panel


def test_pause_stops_the_current_trial_cleanly_and_continue_completes_the_study(window, qtbot):
    from engine.run_files import read_run

    sweep = api()
    workflow = small_example("classify_digits", data={"size": 8}, train={"epochs": 2})
    window.load_workflow(workflow)
    panel = window.experiments
    config = sweep.SweepConfig(workflow=workflow.copy(), params=[
        sweep.SweepParam("train", "batch_size", "choice", choices=(32, 64))], trials=2, prune="none",
        study="paused-sweep", runs_root=str(runs_root()))
    first: list = []

    def pause_at_first_start(row) -> None:  # event order: the first trial has started, then Pause
        if row.state == "running" and not first:
            first.append(row)
            panel.pause()

    panel.runner.trial.connect(pause_at_first_start)
    panel.start_sweep(config)
    qtbot.waitUntil(lambda: not panel.runner.active, timeout=HANG_MS)
    assert first and not panel.pause_button.isEnabled() and panel.continue_button.isEnabled()
    assert read_run(first[0].run_dir)["status"] == "stopped"  # its folder says stopped, not failed

    panel.runner.trial.disconnect(pause_at_first_start)
    assert panel.continue_study() is not None  # this session's settings: no dialog
    qtbot.waitUntil(lambda: not panel.runner.active, timeout=HANG_MS)
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.finished() == 2, timeout=HANG_MS)
    states = sorted(t.state for t in panel.view.trials)
    assert states.count("complete") == 2 and first[0].number not in [t.number for t in panel.view.trials
                                                                     if t.state == "complete"]


def test_the_plots_follow_the_theme(window, qtbot, tmp_path):
    from gui.theme import colors

    panel = show_study(window, qtbot, tmp_path)
    window.set_theme("dark")
    assert panel.parallel.plot.backgroundBrush().color().name() == colors().plot_bg.lower()
    assert set(panel.parallel.lines) == {n for n, t in enumerate(TRIALS) if t[2] is not None}  # drawn again
    window.set_theme("light")
    assert panel.importance.plot.backgroundBrush().color().name() == colors().plot_bg.lower()


def test_the_panel_widens_its_dock_when_it_comes_to_the_front(window, qtbot):
    from gui.experiments.panel import WIDE

    assert window.palette_dock.width() < WIDE
    window.experiments_dock.raise_()
    qtbot.waitUntil(lambda: window.experiments_dock.width() >= WIDE - 10, timeout=HANG_MS)


def test_screenshots_of_sweep_this_and_new_sweep(window, qtbot):
    window.set_theme("light")
    inspector = open_train(window)
    dialog = sweep_this(window, inspector, "lr")
    dialog.high.setText("1e-5")
    dialog.accept()  # refused: the reason shows under the form
    qtbot.waitExposed(dialog)
    assert dialog.grab().save(str(screenshots_dir() / "experiments_sweep_this.png"))
    dialog.high.setText("0.1")
    dialog.accept()
    new = window.experiments.new_sweep()
    qtbot.waitExposed(new)
    assert new.grab().save(str(screenshots_dir() / "experiments_new_sweep.png"))
    new.reject()


def test_continue_on_a_study_from_elsewhere_offers_its_own_space_metric_and_name(window, qtbot, tmp_path):
    window.load_workflow(small_example("classify_digits"))
    panel = show_study(window, qtbot, tmp_path)
    panel.draft.add(api().SweepParam("model", "dropout", "float", low=0.0, high=0.5))  # drafted for another sweep
    dialog = panel.continue_study()  # not started in this session: its settings come from the study
    assert isinstance(dialog, QDialog) and dialog.isVisible()
    config = dialog.config()
    assert config.study == STUDY and config.metric == "val_accuracy" and config.maximize
    assert [p.key for p in config.params] == ["train.lr", "train.batch_size"]
    assert config.trials > panel.view.finished()  # more to do than it has done
    dialog.reject()
