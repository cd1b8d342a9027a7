"""The dashboard's text half: a language model's samples appear while it trains (with a scrubber
over every saved step), a text classifier's most confident mistakes are listed with their text,
and both come back when the run folder is reopened.  Waits are for events, never for a duration."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from engine import events as ev  # noqa: E402
from engine.ports import port_types  # noqa: E402
from gui.dashboard.mistakes import MistakesTable  # noqa: E402
from gui.dashboard.scrubber import KEEP_IN_MEMORY  # noqa: E402
from gui.dashboard.texts import TextSamples  # noqa: E402
from gui.run_control import RunPhase  # noqa: E402
from gui.testing import HANG_MS, make_window, record_events, small_example  # noqa: E402
from gui.theme import PORT_COLORS, port_color  # noqa: E402
from tests.conftest import screenshots_dir  # noqa: E402


def test_every_port_type_has_its_own_colour_on_the_canvas() -> None:
    import engine.ports as ports

    builtin = {v for k, v in vars(ports).items() if k.isupper() and isinstance(v, str)}
    assert builtin <= set(PORT_COLORS), f"built-in port types without a colour: {builtin - set(PORT_COLORS)}"
    shown = {port_color(t) for t in port_types()}
    assert len(shown) == len(port_types()), "two port types share a colour"
    assert port_color("PluginDataset") == port_color("PluginDataset") != port_color("OtherDataset")


def test_language_model_samples_stream_into_the_texts_tab_and_reopen_from_the_folder(window, qtbot, tmp_path):
    wf = small_example("lm_python_docs", model={"embed": 16, "width": 32, "layers": 1, "block_size": 32},
               train={"epochs": 1000, "time_budget": 0.0, "batch_size": 8, "sample_every": 4, "sample_tokens": 40,
                      "checkpoint_every": 100000})
    window.load_workflow(wf)
    out = tmp_path / "run"
    seen = record_events(window)
    assert window.start_run(out_dir=out) is not None
    texts = window.dashboard.texts
    qtbot.waitUntil(lambda: texts.current_stream == "train: samples" and len(texts.frames()) >= 3, timeout=HANG_MS)

    assert window.dashboard.tabs.currentWidget() is texts, "a run without pictures opens on its texts"
    samples = [e for e in list(seen) if isinstance(e, ev.TextReady) and e.node_id == "train"]
    frames = texts.frames()
    assert [f.step for f in frames] == [e.step for e in samples[: len(frames)]]
    if texts.follow_latest:
        assert texts.current_text() == samples[len(frames) - 1].text
    assert "data: preview" in texts.streams, "the data step's texts are a stream of their own"
    assert window.grab().save(str(screenshots_dir() / "lm_run_text_samples.png"))

    texts.slider.setValue(0)  # scrub back to the first samples (step 0: an untrained model)
    assert texts.shown_step == samples[0].step == 0
    assert texts.current_text() == samples[0].text
    assert not texts.follow_latest, "scrubbed back: new samples must not yank the view forward"
    assert texts.save_text(tmp_path / "first.txt")
    assert (tmp_path / "first.txt").read_text(encoding="utf-8") == samples[0].text

    window.act.stop.trigger()
    qtbot.waitUntil(lambda: window.runs.state == RunPhase.IDLE, timeout=HANG_MS)
    written = [e for e in list(seen) if isinstance(e, ev.TextReady) and e.node_id == "train"]

    reopened = make_window(qtbot)
    assert reopened.past_runs.open(out)
    again = reopened.dashboard.texts
    again.select_stream("train: samples")
    assert [f.step for f in again.frames()] == [e.step for e in written]
    assert again.current_text() == written[-1].text


def test_scrubbing_back_past_the_memory_window_reloads_texts_from_their_files(qtbot, tmp_path) -> None:
    panel = TextSamples()
    qtbot.addWidget(panel)
    for step in range(KEEP_IN_MEMORY + 8):
        path = tmp_path / f"step_{step:06d}.txt"
        path.write_text(f"sample at step {step}\n", encoding="utf-8")
        panel.add_frame("train: samples", step, f"sample at step {step}\n", str(path))
    assert panel.frames()[0].payload is None and panel.frames()[-1].payload is not None
    panel.slider.setValue(0)
    assert panel.current_text() == "sample at step 0\n"
    (tmp_path / "step_000001.txt").unlink()
    panel.slider.setValue(1)
    assert "could not be read back" in panel.current_text()


def test_the_mistakes_table_lists_the_report_and_sorts_by_confidence(qtbot) -> None:
    table = MistakesTable()
    qtbot.addWidget(table)
    rows = [{"rank": 1, "true": "de", "predicted": "nl", "confidence": 0.97, "p_true": 0.01, "text": "Datei öffnen"},
            {"rank": 2, "true": "fr", "predicted": "es", "confidence": 0.9, "p_true": 0.05, "text": "Ouvrir"},
            {"rank": 3, "true": "en", "predicted": "de", "confidence": 0.455, "p_true": 0.3, "text": "Hamburger"}]
    assert not table.set_report("evaluate", {"accuracy": 0.5})  # an image evaluation: nothing to list
    assert table.set_report("evaluate", {"split": "test", "mistakes": rows})
    assert table.table.rowCount() == 3
    assert [table.table.item(r, 3).text() for r in range(3)] == ["Datei öffnen", "Ouvrir", "Hamburger"]
    assert [table.table.item(r, 2).text() for r in range(3)] == ["de → nl", "fr → es", "en → de"]
    assert table.table.item(0, 1).text() == "97.0%"
    table.table.sortItems(1)  # ascending confidence
    assert [table.table.item(r, 3).text() for r in range(3)] == ["Hamburger", "Ouvrir", "Datei öffnen"]
    assert "3 most confident mistakes on the test split" in table.title.text()
    assert table.set_report("evaluate", {"split": "test", "mistakes": []})
    assert table.table.rowCount() == 0 and "no mistakes" in table.title.text()


def test_text_classifier_run_fills_the_mistakes_table_and_it_reopens(window, qtbot, tmp_path):
    wf = small_example("classify_text", data={"per_class": 20}, tokenize={"vocab_size": 300, "max_len": 32},
               model={"embed": 16, "width": 16},
               train={"epochs": 2, "time_budget": 0.0, "patience": 0}, evaluate={"mistakes": 8})
    wf.remove_node("export")  # not under test here
    window.load_workflow(wf)
    out = tmp_path / "run"
    assert window.start_run(out_dir=out) is not None
    qtbot.waitUntil(lambda: window.runs.state == RunPhase.IDLE, timeout=HANG_MS)
    assert window.runs.last_status == "succeeded"

    from engine.store import read_run

    report = read_run(out)["nodes"]["evaluate"]["report"]
    mistakes = window.dashboard.mistakes
    assert 0 < len(report["mistakes"]) <= 8
    assert mistakes.table.rowCount() == len(report["mistakes"])
    assert [mistakes.table.item(r, 3).text() for r in range(mistakes.table.rowCount())] == \
        [m["text"] for m in report["mistakes"]]
    assert window.dashboard.tabs.currentWidget() is window.dashboard.confusion
    window.dashboard.tabs.setCurrentWidget(mistakes)
    assert window.grab().save(str(screenshots_dir() / "text_classifier_mistakes.png"))

    reopened = make_window(qtbot)
    assert reopened.past_runs.open(out)
    assert reopened.dashboard.mistakes.table.rowCount() == len(report["mistakes"])
    assert "data: preview" in reopened.dashboard.texts.streams
    # an empty canvas gets the workflow that ran, with its node states
    assert [n.id for n in reopened.doc.workflow.nodes] == [n.id for n in wf.nodes]
    assert reopened.scene.nodes["evaluate"].state == "done"
    assert reopened.doc.path is None, "Save must not write into the run folder"
    started = read_run(out)["started"]
    first_line = reopened.dashboard.console.lines[0]
    import datetime as dt

    assert abs(first_line[0] - dt.datetime.fromisoformat(started).timestamp()) < 5, "the log keeps the run's times"

    # a canvas showing another workflow is not painted with this run's states
    other = make_window(qtbot)
    other.load_workflow(small_example("classify_digits"))
    assert other.past_runs.open(out)
    assert all(item.state in ("", None) for item in other.scene.nodes.values())
    assert "another workflow" in other.statusBar().currentMessage()
