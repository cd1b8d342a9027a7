"""The CLI leaves cores that other programs are busy with right now to them (engine.cpu_load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import cpu_load, threads
from engine.cpu_load import CpuSample, busy_elsewhere, fit_threads


def test_a_reading_sums_the_cpus_this_process_may_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  30 0 10 160 0 0 0 0 0 0\n"
                    "cpu0 10 0 5 80 0 0 0 0 0 0\n"
                    "cpu1 20 0 5 75 5 0 0 0 0 0\n"
                    "cpu2 99 0 0 1 0 0 0 0 0 0\n"
                    "intr 1 2 3\n")
    monkeypatch.setattr(cpu_load, "_allowed_cpus", lambda: {0, 1})
    s = cpu_load.sample(stat)
    assert s is not None and s.cpus == 2
    assert (s.busy, s.total) == (40, 200)  # cpu2 is not ours; idle and iowait are not busy
    assert cpu_load.sample(tmp_path / "missing") is None


def _pair(busy_ticks: int, total_ticks: int, own_s: float, wall_s: float, cpus: int = 2) -> tuple[CpuSample, CpuSample]:
    return CpuSample(0, 0, cpus, 0.0, 0.0), CpuSample(busy_ticks, total_ticks, cpus, own_s, wall_s)


def test_what_this_process_used_itself_is_not_counted_as_someone_elses() -> None:
    # two cores, one second: 150 of 200 ticks busy = 1.5 cores; this process used 0.5 of them
    assert busy_elsewhere(*_pair(150, 200, own_s=0.5, wall_s=1.0)) == pytest.approx(1.0)
    assert busy_elsewhere(*_pair(100, 200, own_s=1.0, wall_s=1.0)) == 0.0  # only us: nobody else
    assert busy_elsewhere(*_pair(100, 200, own_s=1.2, wall_s=1.0)) == 0.0  # never below zero


def test_a_window_too_short_or_missing_says_nothing() -> None:
    assert busy_elsewhere(*_pair(10, 20, own_s=0.0, wall_s=0.05)) is None
    assert busy_elsewhere(None, None) is None
    a, b = _pair(10, 20, own_s=0.0, wall_s=1.0)
    assert busy_elsewhere(a, CpuSample(10, 20, 4, 0.0, 1.0)) is None  # the CPU set changed


@pytest.mark.parametrize(("busy", "expected"), [(None, 4), (0.0, 4), (0.4, 4), (0.6, 3), (1.0, 3), (2.7, 1), (9.0, 1)])
def test_busy_cores_come_off_the_count_but_one_thread_always_remains(busy: float | None, expected: int) -> None:
    assert fit_threads(4, 4, busy) == expected


def test_fitting_never_adds_threads() -> None:
    assert fit_threads(1, 8, 0.0) == 1


def _remember_two(tmp_path: Path) -> None:
    assert threads.for_the_cli(None, tmp_path, lambda n: 1.0 / n, n_cores=2, busy=lambda: 0.0).threads == 2


def test_the_cli_takes_fewer_threads_while_another_program_holds_a_core(tmp_path: Path) -> None:
    _remember_two(tmp_path)
    never = lambda n: pytest.fail("a remembered count is not measured again")  # noqa: E731
    quiet = threads.for_the_cli(None, tmp_path, never, n_cores=2, busy=lambda: 0.1)
    assert quiet.threads == 2
    busy = threads.for_the_cli(None, tmp_path, never, n_cores=2, busy=lambda: 1.2)
    assert busy.threads == 1
    assert "other programs keep 1.2 of the 2 cores busy" in busy.reason and "measured fastest" in busy.reason
    unknown = threads.for_the_cli(None, tmp_path, never, n_cores=2, busy=lambda: None)
    assert unknown.threads == 2


def test_an_explicit_thread_count_is_kept_however_busy_the_machine_is(tmp_path: Path) -> None:
    assert threads.for_the_cli(2, tmp_path, n_cores=2, busy=lambda: 5.0).threads == 2


def test_a_busy_first_start_neither_measures_nor_remembers_a_count(tmp_path: Path) -> None:
    never = lambda n: pytest.fail("measuring now would time the other programs")  # noqa: E731
    busy = threads.for_the_cli(None, tmp_path, never, n_cores=2, busy=lambda: 1.0)
    assert busy.threads == 1 and "measured on a quieter start" in busy.reason
    assert not (tmp_path / threads.THREADS_FILE).exists()
    _remember_two(tmp_path)  # the next quiet start measures and remembers
    assert (tmp_path / threads.THREADS_FILE).exists()
