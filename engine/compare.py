"""Side-by-side comparison of runs: what was different, and how each scored.

It reads only run folders (``run.json``, ``workflow.json``, ``metrics.csv``),
so it compares any runs on disk, finished or not, from the terminal
(``loom compare``) and from the desktop app's runs panel alike.

The table is laid out one column per run and one row per field, because an
analyst reads it as "what changed between these runs, and what did it do":
the params that differ come first, then the scores.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
MISSING = "—"


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


def _text(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass
class Comparison:
    runs: list[RunSummary]
    differing_params: list[str] = field(default_factory=list)
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
        return comparison

    def rows(self) -> list[tuple[str, str, list[str]]]:
        """``(section, field, one text per run)``: the differing params, then the run facts and scores."""
        out: list[tuple[str, str, list[str]]] = []
        for key in self.differing_params:
            out.append(("changed", key, [_text(r.params.get(key)) for r in self.runs]))
        out.append(("run", "workflow", [r.workflow or MISSING for r in self.runs]))
        out.append(("run", "status", [r.status or MISSING for r in self.runs]))
        out.append(("run", "started", [r.started.replace("T", " ")[:19] or MISSING for r in self.runs]))
        out.append(("run", "duration (s)", [_text(r.duration_s) for r in self.runs]))
        out.append(("run", "device", [r.device or MISSING for r in self.runs]))
        for key in self.score_keys:
            out.append(("score", key, [_text(r.scores.get(key)) for r in self.runs]))
        return out

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["section", "field", *(r.label for r in self.runs)])
        for section, name, values in self.rows():
            writer.writerow([section, name, *values])
        return buffer.getvalue()

    def to_text(self) -> str:
        """A fixed-width table for the terminal."""
        header = ["", *(r.label for r in self.runs)]
        body = [[f"{'* ' if section == 'changed' else '  '}{name}", *values] for section, name, values in self.rows()]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in [header, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        if self.differing_params:
            lines.append("\n* a setting that differs between the runs")
        else:
            lines.append("\nThe runs used identical settings.")
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
