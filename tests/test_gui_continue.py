"""Continue from checkpoint in the app: the GUI twin of ``loom run --resume``.

A tiny GAN run is stopped at its first checkpoint (from the engine's own event
order: the first checkpoint artifact), then continued with
``MainWindow.continue_run``: it must reach the very same weights as an
uninterrupted run (deterministic CPU settings, tests/fakes.py), and the
dashboard's curves keep the earlier points and carry on at the same step, with
no repeated or rewound points.  Runs that cannot be continued are refused in a
dialog with the engine's words, and their folders are left as they were.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from engine import events as ev  # noqa: E402
from engine.runner import Engine  # noqa: E402
from engine.store import read_metrics  # noqa: E402
from engine.workflow import Workflow  # noqa: E402
from gui.testing import HANG_MS, stop_at_first_checkpoint  # noqa: E402
from tests.fakes import DETERMINISTIC_CLI, deterministic_torch, kill_at_first_checkpoint  # noqa: E402, F401
from tests.test_resume_gan import assert_same_weights, curve, small_gan  # noqa: E402

pytestmark = pytest.mark.usefixtures("deterministic_torch")


def gan() -> Workflow:
    """One epoch (56 steps) of the tiny DCGAN of test_resume_gan, a checkpoint every 5 steps."""
    return small_gan(epochs=1)


def errors_of(window) -> list[tuple[str, str]]:
    """Keep the window's error dialogs as (title, text) instead of showing them."""
    shown: list[tuple[str, str]] = []
    window.show_error = lambda title, text: shown.append((title, text))
    return shown


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, trained once with the same deterministic settings (tests/fakes.py)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    run = tmp_path_factory.mktemp("continue") / "reference"
    try:
        assert Engine(disk_cache=False).run(gan(), out_dir=run, device="cpu").status == "succeeded"
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)
    return run


def test_a_stopped_gan_run_continued_from_the_app_reaches_the_uninterrupted_weights(window, qtbot, tmp_path, reference):
    window.load_workflow(gan())
    seen = stop_at_first_checkpoint(window)
    run = tmp_path / "run"
    assert window.start_run(out_dir=run, device="cpu") is not None
    qtbot.waitUntil(lambda: not window.runs.active, timeout=HANG_MS)
    assert window.runs.last_status == "stopped"
    stopped_at = max(e.step for e in seen if isinstance(e, ev.MetricPoint) and e.name == "loss_g")
    assert stopped_at < 56  # really stopped before the end
    assert window.last_unfinished_run() == str(run)  # what Run > Continue from Checkpoint offers

    # An empty canvas: continuing puts the run's workflow back on it.
    window.load_workflow(Workflow())
    window.doc.undo_stack.setClean()
    handle = window.continue_run(run, device="cpu")
    assert handle is not None and handle.run_dir == run  # the same folder, no new run
    assert {n.id for n in window.doc.workflow.nodes} == {"data", "preprocess", "model", "train"}
    loaded = window.dashboard.curves.series[("train", "loss_g")]
    assert list(loaded.steps) == list(range(1, stopped_at + 1))  # the recorded curve, before anything new

    qtbot.waitUntil(lambda: not window.runs.active, timeout=HANG_MS)
    assert window.runs.last_status == "succeeded"
    assert_same_weights(reference, run)
    assert curve(run) == curve(reference)  # the run folder's curve: no gap, no repeat

    shown = window.dashboard.curves.series[("train", "loss_g")]
    reference_curve = curve(reference)
    assert list(shown.steps) == [s for s, _ in reference_curve]  # earlier points kept, new ones at the next steps
    assert list(shown.values) == pytest.approx([v for _, v in reference_curve], rel=1e-5)
    assert json.loads((run / "run.json").read_text())["status"] == "succeeded"
    assert window.scene.nodes["train"].state == "done"


def test_a_crashed_run_continued_from_the_app_reaches_the_uninterrupted_weights(window, qtbot, tmp_path, reference):
    flow = tmp_path / "flow.json"
    gan().save(flow)
    run = tmp_path / "crashed"
    kill_at_first_checkpoint(DETERMINISTIC_CLI.format(imports=""), flow, run)  # run.json still says "running"
    window.load_workflow(Workflow.load(flow))  # the canvas already holds the run's workflow
    handle = window.continue_run(run, device="cpu")
    assert handle is not None and handle.run_dir == run
    assert window.dashboard.follower is None  # the live events bring the log now, not a second reader
    qtbot.waitUntil(lambda: not window.runs.active, timeout=HANG_MS)
    assert window.runs.last_status == "succeeded"
    assert_same_weights(reference, run)
    steps = [s for s, _ in curve(run)]
    assert steps == sorted(set(steps))  # rows the dead run wrote after its checkpoint were rewound: no repeats
    shown = list(window.dashboard.curves.series[("train", "loss_g")].steps)
    assert shown == sorted(set(shown)) and shown[-1] == 56  # on the dashboard too, up to the last step


def stopped_run(tmp_path, wf: Workflow):
    """A run of ``wf`` stopped by the engine at its first checkpoint (no window involved)."""
    holder: dict = {}

    def stop(e: ev.Event) -> None:
        if isinstance(e, ev.ArtifactSaved) and e.kind == "checkpoint":
            holder["handle"].stop()

    run = tmp_path / "stopped"
    holder["handle"] = Engine(disk_cache=False).start(wf, out_dir=run, device="cpu", on_event=stop)
    assert holder["handle"].wait().status == "stopped"
    return run


def test_runs_that_cannot_be_continued_are_refused_in_the_engines_words(window, tmp_path, reference):
    shown = errors_of(window)
    before = (reference / "run.json").read_text()
    assert window.continue_run(reference) is None  # finished: nothing to continue
    assert "this run finished" in shown[-1][1] and "Reuse" in shown[-1][1]
    assert (reference / "run.json").read_text() == before

    run = stopped_run(tmp_path, gan())
    changed = gan()
    changed.node("train").params["lr_g"] = 0.01  # not a "how long" setting: another experiment
    window.load_workflow(changed)
    rows = read_metrics(run)
    assert window.continue_run(run) is None
    title, text = shown[-1]
    assert title == "Cannot continue this run"
    assert "differs from the one that ran there" in text and "lr_g" in text
    assert read_metrics(run) == rows and not window.runs.active

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "run.json").write_text("{ not json")
    (damaged / "workflow.json").write_text("{ not json")
    assert window.continue_run(damaged) is None
    assert "run.json" in shown[-1][1]  # names the damaged file


def menu_entries(menu) -> dict[str, bool]:
    """A context menu's entries: text -> enabled."""
    return {a.text(): a.isEnabled() for a in menu.actions() if not a.isSeparator()}


def test_a_stopped_run_in_the_runs_panel_is_continued_from_its_results_page(wizard_window, qtbot, tmp_path, reference):
    """Runs panel -> right-click -> Show results -> Continue training: the same run goes on to the same weights."""
    from engine.run_index import RunIndex

    window = wizard_window
    run = stopped_run(tmp_path, gan())
    RunIndex().record(run, json.loads((run / "run.json").read_text()))
    window.past_runs.refresh()
    qtbot.waitUntil(lambda: window.history.list.count() == 1, timeout=HANG_MS)
    key = window.history.list.item(0).data(Qt.UserRole)
    entries = menu_entries(window.past_runs.menu_for([key]))
    assert entries["Continue training"] and entries["Show results"] and entries["Open dashboard"]
    assert not entries["Try it…"] and not entries["Export model…"]  # a GAN: no classifier to try or export
    assert not entries["Compare"]  # one run

    assert window.past_runs.results(key)
    page = window.wizards.results
    assert window.pages.currentWidget() is page
    assert page.continue_button.isVisible() and page.continue_button.isEnabled()
    page.continue_button.click()
    assert window.runs.active and window.runs.run_dir == run  # the same folder, no new run
    assert window.pages.currentWidget() is not page  # back on the canvas, the dashboard shows it going on
    qtbot.waitUntil(lambda: not window.runs.active, timeout=HANG_MS)
    assert window.runs.last_status == "succeeded"
    assert_same_weights(reference, run)
    assert len(RunIndex().list()) == 1  # continued in place: still one run
