"""Side-by-side comparison of runs: what was different, and how each scored.

It reads only run folders (``run.json``, ``workflow.json``, ``metrics.csv``),
so it compares any runs on disk, finished or not, from the terminal
(``loom compare``) and from the desktop app's runs panel alike.

The table is laid out one column per run and one row per field, because an
analyst reads it as "what changed between these runs, and what did it do":
the params that differ come first, then the scores.

For many runs: every setting on request (``rows(differences_only=False)``),
each score's difference from a baseline run, runs that differ only by seed
grouped with mean ± std (the arithmetic is in :mod:`engine.compare_stats`),
and each run's saved samples by step (:func:`sample_files`, :func:`sample_at`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.compare_stats import (
    MISSING,
    ScoreDelta,
    SeedGroup,
    baseline_deltas,
    group_by_seed,
    text_of,
)
from engine.errors import UserInputError
from engine.names import RunStatus
from engine.run_files import WORKFLOW_DAMAGED, WORKFLOW_JSON, read_metrics, read_run
from engine.workflow import Workflow

# Report entries worth comparing, in the order they are shown.
SCORE_KEYS = (
    "accuracy", "f1_macro", "precision_macro", "recall_macro", "loss",
    "val_accuracy", "val_f1", "val_loss", "best_epoch", "stopped", "steps",
    "loss_d", "loss_g", "d_real", "d_fake", "recon", "kl", "val_perplexity", "val_perplexity_start",
    "train_seconds",
)


@dataclass
class RunSummary:
    """One run as the comparison sees it."""

    run_dir: Path
    workflow: str
    status: str
    started: str
    duration_s: float | None
    device: str
    params: dict[str, Any]  # "node.param" -> value, as the run used it
    scores: dict[str, Any]  # "node.key" -> a number or word from the node's report

    @property
    def label(self) -> str:
        return self.run_dir.name

    @classmethod
    def load(cls, run_dir: str | Path) -> RunSummary:
        run_dir = Path(run_dir)
        info = read_run(run_dir, ("status", "nodes"))
        return cls(
            run_dir=run_dir,
            workflow=str(info.get("workflow") or ""),
            status=str(info.get("status") or ""),
            started=str(info.get("started") or ""),
            duration_s=info.get("duration_s"),
            device=str(info.get("device") or ""),
            params=_flat_params(run_dir),
            scores=report_scores({nid: node.get("report") for nid, node in info.get("nodes", {}).items()}),
        )


def _flat_params(run_dir: Path) -> dict[str, Any]:
    """``{"node.param": value}`` from the run's workflow.json (a damaged one is a UserInputError naming it)."""
    wf = Workflow.load(run_dir / WORKFLOW_JSON, WORKFLOW_DAMAGED)
    out: dict[str, Any] = {}
    for node in wf.nodes:
        out[f"{node.id}.type"] = node.type
        for name, value in node.params.items():
            out[f"{node.id}.{name}"] = value
    return out


def report_scores(reports: dict[str, Any]) -> dict[str, Any]:
    """``{"node.key": value}`` of the comparable entries in ``{node id: report}``."""
    out: dict[str, Any] = {}
    for node_id, report in reports.items():
        if not isinstance(report, dict):
            continue
        for key in SCORE_KEYS:
            value = report.get(key)
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                out[f"{node_id}.{key}"] = value
    return out


def recorded_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"node.steps": last step, "node.loss_g": its last value, ...}`` from metrics.csv rows.

    What a run that ended early (stopped, crashed) recorded before it ended, for
    the scores its training step never got to report.
    """
    out: dict[str, Any] = {}
    last_step: dict[tuple[str, str], int] = {}
    for row in rows:
        node, name, step = str(row["node"]), str(row["name"]), int(row["step"])
        out[f"{node}.steps"] = max(int(out.get(f"{node}.steps", 0)), step)
        if name in SCORE_KEYS and step >= last_step.get((node, name), step):
            last_step[(node, name)] = step
            out[f"{node}.{name}"] = row["value"]
    return out


def _mark(delta: ScoreDelta) -> str:
    """The word that says better or worse in the terminal, where there is no colour to say it."""
    return "" if delta.better is None else ", better" if delta.better else ", worse"


def _table_text(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


@dataclass
class Comparison:
    runs: list[RunSummary]
    differing_params: list[str] = field(default_factory=list)
    all_params: list[str] = field(default_factory=list)
    score_keys: list[str] = field(default_factory=list)
    _metrics: dict[Path, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def _metric_rows(self, run: RunSummary) -> list[dict[str, Any]]:
        if run.run_dir not in self._metrics:
            self._metrics[run.run_dir] = read_metrics(run.run_dir)
        return self._metrics[run.run_dir]

    @classmethod
    def of(cls, run_dirs: list[str | Path]) -> Comparison:
        if len(run_dirs) < 2:
            raise UserInputError("give at least two run folders to compare")
        runs = [RunSummary.load(d) for d in run_dirs]
        comparison = cls(runs)
        for run in runs:  # a stopped or crashed run wrote no report: its curves say how far it got
            if run.status != RunStatus.SUCCEEDED:
                for key, value in recorded_scores(comparison._metric_rows(run)).items():
                    run.scores.setdefault(key, value)
        keys = sorted({k for r in runs for k in r.params})
        differing = [k for k in keys if len({repr(r.params.get(k)) for r in runs}) > 1]
        order = {key: i for i, key in enumerate(SCORE_KEYS)}
        scores = sorted({k for r in runs for k in r.scores},
                        key=lambda k: (k.split(".", 1)[0], order.get(k.split(".", 1)[1], len(order))))
        comparison.differing_params, comparison.score_keys = differing, scores
        comparison.all_params = keys
        return comparison

    def rows(self, differences_only: bool = True) -> list[tuple[str, str, list[str]]]:
        """``(section, field, one text per run)``: the differing params, then the run facts and scores.

        With ``differences_only=False`` the settings every run shares follow the
        differing ones (section ``"same"``), so the whole recipe can be read.
        """
        out: list[tuple[str, str, list[str]]] = []
        for key in self.differing_params:
            out.append(("changed", key, [text_of(r.params.get(key)) for r in self.runs]))
        if not differences_only:
            for key in self.all_params:
                if key not in self.differing_params:
                    out.append(("same", key, [text_of(r.params.get(key)) for r in self.runs]))
        out.append(("run", "workflow", [r.workflow or MISSING for r in self.runs]))
        out.append(("run", "status", [r.status or MISSING for r in self.runs]))
        out.append(("run", "started", [r.started.replace("T", " ")[:19] or MISSING for r in self.runs]))
        out.append(("run", "duration (s)", [text_of(r.duration_s) for r in self.runs]))
        out.append(("run", "device", [r.device or MISSING for r in self.runs]))
        for key in self.score_keys:
            out.append(("score", key, [text_of(r.scores.get(key)) for r in self.runs]))
        return out

    def to_csv(self, group_seeds: bool = False) -> str:
        """The table as CSV: one column per run, or per seed group with ``group_seeds``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if group_seeds:
            groups = self.seed_groups()
            labels, rows = [g.label for g in groups], self.group_rows(groups)
        else:
            labels, rows = [r.label for r in self.runs], self.rows()
        writer.writerow(["section", "field", *labels])
        for section, name, values in rows:
            writer.writerow([section, name, *values])
        return buffer.getvalue()

    def baseline_deltas(self, baseline: int) -> dict[str, list[ScoreDelta | None]]:
        """Each run's scores against run number ``baseline``'s."""
        return baseline_deltas(self.score_keys, [r.scores for r in self.runs], baseline)

    def seed_groups(self) -> list[SeedGroup]:
        """The runs grouped by settings that are equal except the seeds, with mean ± std of every score."""
        return group_by_seed(self.runs, self.score_keys)

    def group_rows(self, groups: list[SeedGroup] | None = None,
                   differences_only: bool = True) -> list[tuple[str, str, list[str]]]:
        """``(section, field, one text per group)``: settings that differ between groups, runs, seeds, scores."""
        groups = self.seed_groups() if groups is None else groups
        keys = sorted({k for g in groups for k in g.settings})
        differ = [k for k in keys if len({repr(g.settings.get(k)) for g in groups}) > 1]
        out: list[tuple[str, str, list[str]]] = [("changed", key, [text_of(g.settings.get(key)) for g in groups])
                                                 for key in differ]
        if not differences_only:
            out += [("same", key, [text_of(g.settings.get(key)) for g in groups]) for key in keys if key not in differ]
        out.append(("run", "runs (n)", [str(len(g.runs)) for g in groups]))
        out.append(("run", "seeds", [" / ".join(g.seeds) for g in groups]))
        out += [("score", key, [g.text(key) for g in groups]) for key in self.score_keys]
        return out

    def group_text(self, baseline: int | None = None) -> str:
        """The seed groups as a fixed-width table: one column per group, mean ± std of each score.

        With ``baseline`` (a run), each group's mean scores carry their difference from its group's.
        """
        groups = self.seed_groups()
        base = None if baseline is None else next(
            i for i, g in enumerate(groups) if any(r is self.runs[baseline] for r in g.runs))
        header = ["", *(("[base] " if i == base else "") + g.label for i, g in enumerate(groups))]
        body = self._with_deltas(self.group_rows(groups), None if base is None else baseline_deltas(
            self.score_keys, [g.means for g in groups], base))
        lines = _table_text(header, body)
        lines.append(f"\n{len(self.runs)} runs in {len(groups)} group{'s' if len(groups) != 1 else ''} "
                     "of settings that differ only by seed; scores are mean ± sample std")
        return "\n".join(lines)

    @staticmethod
    def _with_deltas(rows: list[tuple[str, str, list[str]]],
                     deltas: dict[str, list[ScoreDelta | None]] | None) -> list[list[str]]:
        """Terminal table rows: changed settings starred, scores followed by their difference from the baseline."""
        body = []
        for section, name, values in rows:
            row_deltas = (deltas or {}).get(name) if section == "score" else None
            if row_deltas:
                values = [v if d is None else f"{v} ({d.text}{_mark(d)})"
                          for v, d in zip(values, row_deltas, strict=True)]
            body.append([f"{'* ' if section == 'changed' else '  '}{name}", *values])
        return body

    def baseline_index(self, which: str) -> int:
        """The run named by ``which`` (its folder, or the folder's name); a UserInputError naming the choices."""
        for i, run in enumerate(self.runs):
            if which in (run.label, str(run.run_dir)) or Path(which).resolve() == run.run_dir.resolve():
                return i
        names = ", ".join(r.label for r in self.runs)
        raise UserInputError(f"--baseline {which}: not one of the compared runs — give one of: {names}")

    def to_text(self, baseline: int | None = None) -> str:
        """A fixed-width table for the terminal; with ``baseline``, scores carry their difference from its."""
        header = ["", *(("[base] " if i == baseline else "") + r.label for i, r in enumerate(self.runs))]
        body = self._with_deltas(self.rows(), None if baseline is None else self.baseline_deltas(baseline))
        lines = _table_text(header, body)
        if self.differing_params:
            lines.append("\n* a setting that differs between the runs")
        else:
            lines.append("\nThe runs used identical settings.")
        if baseline is not None:
            lines.append(f"Scores show their difference from {self.runs[baseline].label} (+ better, - worse).")
        return "\n".join(lines)

    def metric_names(self) -> list[str]:
        """``node.metric`` names logged by at least one run (curves to overlay)."""
        names: set[str] = set()
        for run in self.runs:
            names |= {f"{row['node']}.{row['name']}" for row in self._metric_rows(run)}
        return sorted(names)

    def curves(self, metric: str) -> list[tuple[str, list[int], list[float]]]:
        """``(run label, steps, values)`` of one ``node.metric`` for every run that logged it."""
        node, _, name = metric.partition(".")
        out = []
        for run in self.runs:
            rows = [r for r in self._metric_rows(run) if r["node"] == node and r["name"] == name]
            if rows:
                out.append((run.label, [r["step"] for r in rows], [r["value"] for r in rows]))
        return out


SAMPLE_SUFFIXES = (".png", ".txt")


def sample_files(run_dir: str | Path) -> dict[int, Path]:
    """``{step: file}`` of a run's saved samples (``<node>/samples/step_XXXXXX.png`` or ``.txt``).

    A run with several sampling nodes shows its first (by node id); a file
    whose name is not a step is left out.
    """
    out: dict[int, Path] = {}
    for folder in sorted(Path(run_dir).glob("*/samples")):
        for path in folder.glob("step_*"):
            stem = path.stem.removeprefix("step_")
            if path.suffix.lower() in SAMPLE_SUFFIXES and stem.isdigit() and path.is_file():
                out.setdefault(int(stem), path)
        if out:
            break
    return dict(sorted(out.items()))


def sample_at(samples: dict[int, Path], step: int) -> tuple[int, Path] | None:
    """The sample saved at ``step`` or the nearest one before it; None when the run had none by then."""
    earlier = [s for s in samples if s <= step]
    return (max(earlier), samples[max(earlier)]) if earlier else None
