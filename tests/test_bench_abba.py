"""The benches measure honestly: A and B alternate, every round is printed, the median and spread summarise.

Fake measures only (no timing is asserted): what is checked is the order of
the calls, what is printed, and that each bench's arguments parse.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

import abba  # noqa: E402

# the benches this project owns and audits (cnn_speed, memory_rss and judge_* belong to others)
AUDITED = ["classifier_acceptance", "data_pipeline", "end_to_end_gan", "engine_overhead", "gan_throughput",
           "gui_responsiveness", "lm_acceptance", "naive_gan_loop", "startup", "sweep_cost", "text_baseline"]


def load_bench(name: str):  # noqa: ANN201 - a module
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_abba_alternates_a_and_b_and_prints_every_round_with_the_load(capsys):
    calls: list[str] = []
    rates = iter([4.0, 2.0, 1.0, 2.0, 3.0, 1.0, 2.0, 2.0])

    def side(name: str):  # noqa: ANN202
        def measure() -> float:
            calls.append(name)
            return next(rates)
        return measure

    pairs = abba.abba(side("A"), side("B"), rounds=4)
    assert calls == ["A", "B", "B", "A", "A", "B", "B", "A"]  # A B, B A, A B, B A
    assert pairs == [(4.0, 2.0), (2.0, 1.0), (3.0, 1.0), (2.0, 2.0)]
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(lines) == 4
    assert all("ratio" in ln and "load" in ln for ln in lines)
    assert "ratio 2.000" in lines[0] and "ratio 3.000" in lines[2]


def test_the_summary_gives_the_median_and_the_spread_never_a_best_of():
    per_round = abba.ratios([(4.0, 2.0), (2.0, 1.0), (3.0, 1.0), (2.0, 2.0)])
    assert per_round == [2.0, 2.0, 3.0, 1.0]
    line = abba.summary("x/y", per_round, target=1.5)
    assert "median ratio 2.000" in line and "per-round 1.000..3.000" in line and "4 rounds" in line
    assert "target >= 1.5" in line and "load" in line


def test_abba_reads_the_first_rate_of_a_tuple():
    pairs = abba.abba(lambda: (6.0, 1.0), lambda: (3.0, 4.0), rounds=2)
    assert abba.ratios(pairs) == [2.0, 2.0]
    assert abba.ratios(pairs, 1) == [0.25, 0.25]


@pytest.mark.parametrize("name", AUDITED)
def test_every_audited_bench_answers_help_and_exits(name, monkeypatch, capsys):
    module = load_bench(name)
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])
    with pytest.raises(SystemExit) as done:
        module.main()
    assert done.value.code == 0
    assert "usage" in capsys.readouterr().out.lower()


@pytest.mark.parametrize("name", [n for n in AUDITED if n not in ("naive_gan_loop", "lm_acceptance", "text_baseline")])
def test_every_timing_bench_says_how_it_alternates(name):
    """A bench that times things alternates A and B (bench/abba.py) and prints the load; no best-of anywhere."""
    text = (BENCH / f"{name}.py").read_text(encoding="utf-8")
    assert "load_average" in text or "from abba import abba" in text or "getloadavg" in text
    assert "best-of" not in text.replace("never a best-of", "").replace("no best-of", "")
    assert "max(rates" not in text and "best_rate" not in text


def test_a_round_can_be_shown_in_seconds_when_rates_are_one_over_seconds(capsys):
    abba.abba(lambda: 1 / 20, lambda: 1 / 40, rounds=1, show=lambda r: f"{1 / r:.1f} s")
    line = capsys.readouterr().out
    assert "A 20.0 s  B 40.0 s  ratio 2.000" in line
