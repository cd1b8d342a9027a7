"""Comparing many runs: differences only, a baseline with coloured deltas, mean ± std over seeds, samples by step.

The runs here are fake run folders written by the test (a real workflow.json,
a run.json with the reports a run writes, a metrics.csv), so dozens cost
nothing; the tiny real runs of tests/test_compare.py cover what a run writes.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from pathlib import Path

import pytest

from engine.cli import main as loom
from engine.compare import Comparison, sample_at, sample_files
from engine.compare_stats import score_delta
from engine.metric_direction import HIGHER, LOWER, NEITHER, direction, higher_is_better
from engine.run_files import METRIC_FIELDS
from tests.conftest import EXAMPLES


def fake_run(folder: Path, *, lr: float = 0.001, seed: int = 0, accuracy: float = 0.9, val_loss: float = 0.3,
             epochs: int = 4, samples: dict[int, str] | None = None) -> Path:
    """A finished classifier run folder as compare reads it: settings, reports, per-epoch curves."""
    folder.mkdir(parents=True)
    wf = json.loads((EXAMPLES / "classify_digits.json").read_text())
    train = next(n for n in wf["nodes"] if n["id"] == "train")
    train["params"].update(lr=lr, seed=seed, epochs=epochs)
    (folder / "workflow.json").write_text(json.dumps(wf))
    info = {"run_id": folder.name, "workflow": wf["name"], "status": "succeeded",
            "started": "2026-12-01T10:00:00+00:00", "duration_s": 12.5, "device": "cpu", "artifacts": [],
            "nodes": {"train": {"report": {"val_loss": val_loss, "val_accuracy": accuracy - 0.01}},
                      "evaluate": {"report": {"accuracy": accuracy, "f1_macro": accuracy - 0.02}}}}
    (folder / "run.json").write_text(json.dumps(info))
    lines = [",".join(METRIC_FIELDS)]
    lines += [f"{e * 10},{e},train,val_loss,{val_loss + (epochs - e) * 0.1},0" for e in range(1, epochs + 1)]
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")
    for step, kind in (samples or {}).items():
        out = folder / "train" / "samples" / f"step_{step:06d}.{kind}"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"not really an image" if kind == "png" else f"text at {step}".encode())
    return folder


@pytest.fixture
def seeded(tmp_path) -> list[Path]:
    """Two learning rates, three seeds each (runs interleaved as a sweep would finish them)."""
    scores = {0.001: [0.90, 0.92, 0.94], 0.01: [0.80, 0.81, 0.85]}
    return [fake_run(tmp_path / f"lr{lr}_s{seed}", lr=lr, seed=seed, accuracy=scores[lr][seed],
                     val_loss=1 - scores[lr][seed])
            for seed in range(3) for lr in (0.001, 0.01)]


def test_better_is_up_for_accuracy_and_f1_and_down_for_loss_and_perplexity():
    assert [direction(k) for k in ("evaluate.accuracy", "train.val_f1", "evaluate.f1_macro", "recall_macro")] == [
        HIGHER] * 4
    assert [direction(k) for k in ("train.val_loss", "evaluate.loss", "lm.val_perplexity", "train_seconds")] == [
        LOWER] * 4
    assert [direction(k) for k in ("gan.loss_d", "gan.loss_g", "train.best_epoch", "train.steps")] == [NEITHER] * 4
    assert higher_is_better("val_accuracy") and not higher_is_better("val_loss")


def test_a_delta_reads_in_points_for_fractions_and_says_whether_it_is_better():
    up = score_delta("evaluate.accuracy", 0.912, 0.9)
    assert (up.text, up.better) == ("+1.2 pts", True)
    down = score_delta("train.val_loss", 0.33, 0.3)
    assert (down.text, down.better) == ("+0.03", False)  # a loss that went up is worse
    assert score_delta("train.val_loss", 0.27, 0.3).better is True
    assert score_delta("gan.loss_g", 1.5, 1.0).better is None  # no better direction: shown, not coloured
    assert score_delta("evaluate.accuracy", 0.9, 0.9).text == "±0"
    assert score_delta("evaluate.accuracy", "n/a", 0.9) is None


def test_other_runs_scores_show_their_difference_from_the_pinned_baseline(seeded):
    comparison = Comparison.of(seeded)
    deltas = comparison.baseline_deltas(baseline=1)  # lr 0.01, seed 0: accuracy 0.80
    accuracy = deltas["evaluate.accuracy"]
    assert accuracy[1] is None  # the baseline itself
    assert accuracy[0].text == "+10.0 pts" and accuracy[0].better
    assert [d.better for i, d in enumerate(deltas["train.val_loss"]) if i != 1] == [True] * 5
    assert deltas["train.val_loss"][3].text == "-0.01"


def test_differences_only_hides_shared_settings_and_the_full_table_keeps_them_after_the_changes(seeded):
    comparison = Comparison.of(seeded)
    assert comparison.differing_params == ["train.lr", "train.seed"]
    short = [(section, name) for section, name, _v in comparison.rows()]
    full = [(section, name) for section, name, _v in comparison.rows(differences_only=False)]
    assert ("same", "train.epochs") in full and ("same", "train.epochs") not in short
    assert full[:2] == [("changed", "train.lr"), ("changed", "train.seed")]
    assert {name for section, name in full if section == "same"} == set(comparison.all_params) - {"train.lr",
                                                                                                 "train.seed"}
    assert [row for row in full if row[0] != "same"] == short


def test_runs_that_differ_only_by_seed_are_one_group_with_mean_and_sample_std(seeded):
    groups = Comparison.of(seeded).seed_groups()
    assert [[r.label for r in g.runs] for g in groups] == [["lr0.001_s0", "lr0.001_s1", "lr0.001_s2"],
                                                            ["lr0.01_s0", "lr0.01_s1", "lr0.01_s2"]]
    mean, std, n = groups[0].stats["evaluate.accuracy"]
    assert n == 3 and mean == pytest.approx(0.92) and std == pytest.approx(statistics.stdev([0.90, 0.92, 0.94]))
    assert groups[1].text("evaluate.accuracy") == "0.82 ± 0.02646"
    assert groups[0].seeds == ["0", "1", "2"] and groups[0].label == "lr0.001_s0 +2"


def test_a_group_table_shows_what_differs_between_groups_then_n_and_mean_std(seeded):
    comparison = Comparison.of(seeded)
    rows = {name: (section, values) for section, name, values in comparison.group_rows()}
    assert rows["train.lr"] == ("changed", ["0.001", "0.01"])
    assert "train.seed" not in rows  # the seed is what the group averages over
    assert rows["runs (n)"][1] == ["3", "3"]
    assert rows["evaluate.accuracy"][1][0].startswith("0.92 ± 0.02")


def test_a_run_alone_in_its_group_shows_its_plain_scores(tmp_path):
    runs = [fake_run(tmp_path / "a", seed=0, accuracy=0.9), fake_run(tmp_path / "b", seed=1, accuracy=0.8),
            fake_run(tmp_path / "c", lr=0.1, accuracy=0.5)]
    groups = Comparison.of(runs).seed_groups()
    assert [len(g.runs) for g in groups] == [2, 1]
    assert groups[1].text("evaluate.accuracy") == "0.5" and groups[1].stats["evaluate.accuracy"][1] is None


def test_loom_compare_group_seeds_prints_one_column_per_group(seeded, tmp_path, capsys):
    out = tmp_path / "groups.csv"
    assert loom(["compare", "--group-seeds", *map(str, seeded), "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "lr0.001_s0 +2" in text and "0.92 ± 0.02" in text and "6 runs in 2 groups" in text
    table = list(csv.reader(io.StringIO(out.read_text())))
    assert table[0] == ["section", "field", "lr0.001_s0 +2", "lr0.01_s0 +2"]
    assert ["run", "runs (n)", "3", "3"] in table


def test_the_fake_runs_curves_read_back_as_a_run_writes_them(seeded):
    curves = Comparison.of(seeded[:2]).curves("train.val_loss")
    assert [(label, steps) for label, steps, _values in curves] == [(seeded[0].name, [10, 20, 30, 40]),
                                                                   (seeded[1].name, [10, 20, 30, 40])]


def test_each_run_shows_its_nearest_saved_sample_at_or_before_a_step(tmp_path):
    run = fake_run(tmp_path / "gan", samples={0: "png", 100: "png", 250: "png"})
    (run / "train" / "samples" / "notes.png").write_bytes(b"")  # not a step: ignored
    samples = sample_files(run)
    assert list(samples) == [0, 100, 250]
    assert sample_at(samples, 249) == (100, samples[100])
    assert sample_at(samples, 250)[0] == 250 and sample_at(samples, 10_000)[0] == 250
    assert sample_at(sample_files(fake_run(tmp_path / "late", samples={50: "txt"})), 10) is None
    assert sample_files(fake_run(tmp_path / "none")) == {}


def test_loom_compare_baseline_marks_each_score_better_or_worse_in_words(seeded, capsys):
    assert loom(["compare", *map(str, seeded), "--baseline", seeded[1].name]) == 0
    text = capsys.readouterr().out
    assert "[base] lr0.01_s0" in text and "0.9 (+10.0 pts, better)" in text
    assert "0.1 (-0.1, better)" in text  # the lower loss is the better one
    assert "difference from lr0.01_s0" in text
    assert loom(["compare", "--group-seeds", *map(str, seeded), "--baseline", str(seeded[0])]) == 0
    grouped = capsys.readouterr().out
    assert "[base] lr0.001_s0 +2" in grouped and "0.82 ± 0.02646 (-10.0 pts, worse)" in grouped


def test_a_baseline_that_is_not_among_the_runs_is_refused_in_one_line(seeded, tmp_path, capsys):
    assert loom(["compare", *map(str, seeded[:2]), "--baseline", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].endswith(f"--baseline nope: not one of the compared runs — give one of: "
                                                 f"{seeded[0].name}, {seeded[1].name}")
    assert "Traceback" not in err
