"""Thread counts: the app leaves a core to the window; the CLI measures once, remembers, and obeys --threads.

The measuring function is injected: no test here times anything.
"""

from __future__ import annotations

import json

import pytest

from engine import threads
from engine.threads import THREADS_FILE, ThreadChoice


def fake_measure(timings: dict[int, float]):
    calls: list[int] = []

    def measure(n: int) -> float:
        calls.append(n)
        return timings[n]

    return measure, calls


def never(n: int) -> float:
    raise AssertionError("measured although the answer was known")


@pytest.fixture(autouse=True)
def no_omp(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_the_candidates_are_one_two_half_and_all_cores():
    assert threads.candidates(1) == [1]
    assert threads.candidates(2) == [1, 2]
    assert threads.candidates(16) == [1, 2, 8, 16]


def test_the_app_leaves_one_core_to_the_window():
    assert threads.for_the_app(8).threads == 7
    assert threads.for_the_app(1).threads == 1
    assert "window" in threads.for_the_app(2).reason


def test_the_app_respects_a_smaller_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.for_the_app(16) == ThreadChoice(2, "OMP_NUM_THREADS")


def test_the_cli_measures_once_keeps_the_fastest_and_remembers_it(tmp_path):
    measure, calls = fake_measure({1: 0.004, 2: 0.090})  # a busy machine: one thread is far faster
    choice = threads.for_the_cli(None, tmp_path, measure, n_cores=2)
    assert choice is not None and choice.threads == 1 and "measured fastest" in choice.reason
    assert sorted(set(calls)) == [1, 2] and len(calls) == 2 * threads.PROBE_ROUNDS  # interleaved rounds
    saved = json.loads((tmp_path / THREADS_FILE).read_text())
    (key, entry), = saved.items()
    assert key == threads.machine_key(2) and entry["threads"] == 1
    again = threads.for_the_cli(None, tmp_path, never, n_cores=2)
    assert again is not None and again.threads == 1 and "earlier" in again.reason


def test_another_cpu_or_torch_is_measured_afresh(tmp_path):
    (tmp_path / THREADS_FILE).write_text(json.dumps({"another cpu | 2 cores | torch 0": {"threads": 2}}))
    measure, calls = fake_measure({1: 0.01, 2: 0.005})
    assert threads.for_the_cli(None, tmp_path, measure, n_cores=2).threads == 2
    assert calls and len(json.loads((tmp_path / THREADS_FILE).read_text())) == 2  # the other entry stays


def test_a_near_tie_goes_to_fewer_threads():
    assert threads.fastest({1: 0.0100, 2: 0.0099, 4: 0.02}) == 1
    assert threads.fastest({1: 0.0100, 2: 0.0050}) == 2


def test_a_damaged_memory_means_measuring_again(tmp_path):
    (tmp_path / THREADS_FILE).write_text("{ not json")
    measure, calls = fake_measure({1: 0.01, 2: 0.02})
    assert threads.for_the_cli(None, tmp_path, measure, n_cores=2).threads == 1 and calls


def test_threads_option_overrides_without_measuring(tmp_path):
    assert threads.for_the_cli(3, tmp_path, never, n_cores=4) == ThreadChoice(3, "--threads 3")
    assert not threads.for_the_cli(4, tmp_path, never, n_cores=4).oversubscribed
    assert not (tmp_path / THREADS_FILE).exists()


def test_omp_num_threads_leaves_torch_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.for_the_cli(None, tmp_path, never, n_cores=4) is None


def test_apply_sets_torch_and_is_what_the_run_records():
    import torch

    before = torch.get_num_threads()
    try:
        threads.apply(ThreadChoice(1, "--threads 1"))
        assert torch.get_num_threads() == 1 and threads.current() == ThreadChoice(1, "--threads 1")
        torch.set_num_threads(2)  # changed behind the policy's back: recorded as found
        assert threads.current() == ThreadChoice(2, "torch's setting")
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_the_cli_refuses_a_bad_thread_count_plainly(value, capsys):
    from engine.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["run", "workflow.json", "--threads", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--threads" in err and "Traceback" not in err


def test_run_sweep_queue_and_find_lr_all_take_threads():
    import argparse

    from engine.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("run", "sweep", "queue", "find-lr"):
        assert any("--threads" in a.option_strings for a in sub.choices[command]._actions), command


def test_the_app_takes_its_thread_count_from_the_engine_policy(monkeypatch):
    import torch

    import gui.run_control as run_control

    before = torch.get_num_threads()
    monkeypatch.setattr(run_control, "_threads_set", False)
    try:
        run_control.leave_a_core_for_the_ui()
        expected = threads.for_the_app()
        assert threads.current() == expected and torch.get_num_threads() == expected.threads
    finally:
        torch.set_num_threads(before)


def test_the_probe_runs_on_a_thread_of_its_own_that_ends_with_it(tmp_path):
    """A probe on the CLI's main thread left its OpenMP team behind and slowed the whole run about 3x."""
    import threading

    seen = []

    def measure(n):
        seen.append(threading.current_thread())
        return 1.0 / n

    choice = threads.for_the_cli(None, tmp_path, measure, n_cores=2, busy=lambda: 0.0)
    assert choice.threads == 2 and seen
    assert all(t is not threading.main_thread() and t.name == "loom-thread-probe" for t in seen)
    assert not any(t.is_alive() for t in seen)


def test_a_failing_probe_fails_the_caller(tmp_path):
    def broken(n):
        raise RuntimeError("no torch today")

    with pytest.raises(RuntimeError, match="no torch today"):
        threads.for_the_cli(None, tmp_path, broken, n_cores=2, busy=lambda: 0.0)


def test_more_threads_than_cores_are_kept_with_a_note_on_what_they_cost(tmp_path):
    choice = threads.for_the_cli(8, tmp_path, never, n_cores=2)
    assert choice.threads == 8 and choice.oversubscribed
    assert choice.reason.startswith("--threads 8") and "more than this machine's 2 cores" in choice.reason


def test_the_cli_warns_in_one_line_when_threads_outnumber_the_cores(monkeypatch, capsys):
    import argparse

    from engine.cli import _options, _quiet_logging

    monkeypatch.setattr(threads, "cores", lambda: 2)
    monkeypatch.setattr(threads, "apply", lambda choice: None)
    _quiet_logging()
    _options.apply_threads(argparse.Namespace(threads=64))
    err = capsys.readouterr().err
    assert "loom: warning: --threads 64, more than this machine's 2 cores" in err
    assert len(err.strip().splitlines()) == 1
