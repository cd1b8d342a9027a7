"""The CLI's last line of defence: an unexpected error is one line and a saved traceback (issue 18, item 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine.cli.run
import engine.cli.steps
from engine.run_index import loom_home
from engine.store import read_run
from tests.conftest import ROOT
from tests.hardening_support import assert_refused, copy_run, finished_run, loom, tiny_classifier

DEEP = "[" * 100_000 + "]" * 100_000


def test_an_unexpected_error_in_a_command_is_one_line_with_the_details_in_a_crash_file(capsys, monkeypatch):
    def broken(args):  # noqa: ANN001
        return 1 / 0

    monkeypatch.setattr(engine.cli.steps, "run", broken)
    outcome = loom(capsys, "steps")

    assert outcome.code == 1
    assert len(outcome.lines) == 1 and "Traceback" not in outcome.err
    line = outcome.lines[0]
    assert line.startswith("loom: internal error: ZeroDivisionError: division by zero — details in ")
    crash = line.rsplit("details in ", 1)[1]
    assert crash.startswith(str(loom_home() / "crashes"))
    text = Path(crash).read_text(encoding="utf-8")
    assert "Traceback" in text and "ZeroDivisionError" in text and "broken" in text


def test_an_unexpected_error_after_a_run_started_points_at_the_runs_log(tmp_path, capsys, monkeypatch):
    flow = tmp_path / "flow.json"
    tiny_classifier().save(flow)
    real_print = engine.cli.run.ProgressPrinter.print_line

    def fails_on_the_last_line(self, text):  # noqa: ANN001
        if text.startswith("succeeded"):
            raise RuntimeError("the terminal went away")
        real_print(self, text)

    monkeypatch.setattr(engine.cli.run.ProgressPrinter, "print_line", fails_on_the_last_line)
    outcome = loom(capsys, "run", flow, "--out", tmp_path / "run", "-q")

    log = tmp_path / "run" / "log.txt"
    assert outcome.code == 1 and "Traceback" not in outcome.err
    assert outcome.lines[-1] == f"loom: internal error: RuntimeError: the terminal went away — details in {log}"
    assert "Traceback" in log.read_text() and "fails_on_the_last_line" in log.read_text()


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_workflow_nested_100000_levels_deep_is_refused_with_exit_2(tmp_path, capsys, command):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    outcome = loom(capsys, command, path)
    assert_refused(outcome, f"{path}: nested more than 64 levels deep")
    assert len(outcome.lines) == 1


def test_a_run_record_nested_100000_levels_deep_is_refused_by_compare(tmp_path, capsys):
    run = finished_run(tiny_classifier(), tmp_path / "a")
    other = copy_run(run, tmp_path / "b")
    (other / "run.json").write_text(DEEP)
    assert_refused(loom(capsys, "compare", run, other), f"{other / 'run.json'}: nested more than 64 levels deep")


def test_a_deeply_nested_workflow_is_refused_by_a_real_loom_process_without_a_traceback(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    result = subprocess.run([sys.executable, "-m", "engine.cli", "validate", str(path)], capture_output=True,
                            text=True, cwd=ROOT, env=os.environ.copy(), timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith(f"loom: {path}: nested more than 64 levels deep")
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unexpected_error_while_a_run_is_going_stops_it_with_a_true_record(tmp_path, capsys, monkeypatch):
    from types import SimpleNamespace

    flow = tmp_path / "flow.json"
    tiny_classifier(epochs=1000).save(flow)

    def no_signals(*args):  # noqa: ANN002
        raise OSError("signals are not available here")

    monkeypatch.setattr(engine.cli.run, "signal", SimpleNamespace(signal=no_signals, SIGINT=2))
    outcome = loom(capsys, "run", flow, "--out", tmp_path / "run", "-q")

    assert outcome.code == 1 and "Traceback" not in outcome.err
    assert outcome.lines[-1].startswith("loom: internal error: OSError: signals are not available here — details in")
    info = read_run(tmp_path / "run")
    assert info["status"] == "stopped" and info["finished"]  # not left 'running' by a dying CLI
