"""The run folder: what ran, how it went, and everything it produced.

Layout (a contract; see the README)::

    RUN/workflow.json   the workflow exactly as it ran (params resolved)
    RUN/run.json        status, device, versions, seeds, timings, nodes, artifacts
    RUN/metrics.csv     step,epoch,node,name,value,time
    RUN/log.txt         every log line, tracebacks included
    RUN/<node>/...      that node's artifacts (samples, checkpoints, exports)

:class:`RunRecorder` is an ordinary event subscriber.  run.json is rewritten
atomically whenever something worth keeping changes; metrics are appended
and flushed at most once a second (and at the end), so recording costs the
training loop next to nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import platform
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from engine import events as ev
from engine.fileio import atomic_write_json, atomic_write_text
from engine.logfile import LOG_NAME, format_line
from engine.names import NodeStatus, RunStatus
from engine.run_index import RunIndex

RUN_JSON = "run.json"
METRICS_CSV = "metrics.csv"
METRIC_FIELDS = ("step", "epoch", "node", "name", "value", "time")


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")


def library_versions() -> dict[str, str]:
    import torch
    import torchvision

    from engine import __version__

    return {
        "loom": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }


class RunRecorder:
    """Subscribes to a run's events and keeps its folder up to date."""

    def __init__(
        self,
        run_dir: Path,
        run_id: str,
        workflow_json: dict[str, Any],
        seeds: dict[str, int],
        index: RunIndex | None = None,
        resumed_from: str = "",
    ) -> None:
        self.run_dir = run_dir
        self.index = index
        self._lock = threading.Lock()
        self._node_started: dict[str, float] = {}
        self.info: dict[str, Any] = {
            "run_id": run_id,
            "workflow": workflow_json.get("name", ""),
            "status": RunStatus.RUNNING,
            "message": "",
            "device": "",
            "device_reason": "",
            "versions": {},
            "seeds": seeds,
            "started": _iso(time.time()),
            "finished": None,
            "duration_s": None,
            "timings": {},
            "nodes": {n["id"]: {"type": n["type"], "state": NodeStatus.QUEUED} for n in workflow_json["nodes"]},
            "artifacts": [],
        }
        if resumed_from:
            self.info["resumed_from"] = resumed_from
        self._t0 = time.time()
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run_dir / "workflow.json", workflow_json)
        metrics_path = run_dir / METRICS_CSV
        new_file = not metrics_path.exists() or not resumed_from
        self._metrics_file: TextIO = open(metrics_path, "w" if new_file else "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._metrics = csv.writer(self._metrics_file)
        if new_file:
            self._metrics.writerow(METRIC_FIELDS)
        self._last_flush = time.monotonic()
        self._log_file: TextIO = open(run_dir / LOG_NAME, "a", encoding="utf-8")  # noqa: SIM115
        self._write_json()

    # The subscriber ------------------------------------------------------------
    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.MetricPoint):
            self._metrics.writerow(
                (event.step, event.epoch, event.node_id, event.name, f"{event.value:.6g}", f"{event.time:.3f}")
            )
            if time.monotonic() - self._last_flush > 1.0:
                self._metrics_file.flush()
                self._last_flush = time.monotonic()
            return
        if isinstance(event, ev.Rewind):
            self._rewind(event.node_id, event.step)
            return
        if isinstance(event, ev.LogLine):
            self._log_file.write(format_line(event.time, event.level, event.node_id, event.message))
            self._log_file.flush()
            return
        if isinstance(event, ev.RunStarted):
            self.info.update(device=event.device, device_reason=event.device_reason, versions=library_versions())
        elif isinstance(event, ev.NodeState):
            self._node_state(event)
        elif isinstance(event, ev.ArtifactSaved):
            if event.kind == "checkpoint":
                self._metrics_file.flush()  # rows up to a checkpoint survive a crash (exact resume)
            self._artifact(event.node_id, event.kind, event.path)
        elif isinstance(event, ev.NodeReport):
            node = self.info["nodes"].setdefault(event.node_id, {})
            node.setdefault("report", {}).update(event.report)
        elif isinstance(event, ev.RunFinished):
            self._finish(event)
        else:
            return
        self._write_json()

    def _rewind(self, node_id: str, step: int) -> None:
        """Keep this node's metric rows up to ``step`` (others untouched)."""
        self._metrics_file.close()
        path = self.run_dir / METRICS_CSV
        kept = [
            row for row in read_metrics(self.run_dir)
            if row["node"] != node_id or row["step"] <= step
        ]
        lines = [",".join(METRIC_FIELDS)]
        lines += [
            f"{r['step']},{r['epoch']},{r['node']},{r['name']},{r['value']:.6g},{r['time']:.3f}" for r in kept
        ]
        atomic_write_text(path, "\n".join(lines) + "\n")
        self._metrics_file = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._metrics = csv.writer(self._metrics_file)

    def _node_state(self, event: ev.NodeState) -> None:
        node = self.info["nodes"].setdefault(event.node_id, {})
        node["state"] = event.state
        if event.message:
            node["message"] = event.message
        if event.state == NodeStatus.RUNNING:
            self._node_started[event.node_id] = event.time
        elif event.node_id in self._node_started:
            seconds = round(event.time - self._node_started.pop(event.node_id), 3)
            node["seconds"] = seconds
            self.info["timings"][event.node_id] = seconds

    def _artifact(self, node_id: str, kind: str, path: str) -> None:
        try:
            rel = str(Path(path).resolve().relative_to(self.run_dir.resolve()))
        except ValueError:
            rel = path
        entry = {"node": node_id, "kind": kind, "path": rel}
        if kind == "checkpoint":  # keep only the newest checkpoint entry per node
            self.info["artifacts"] = [
                a for a in self.info["artifacts"] if not (a["node"] == node_id and a["kind"] == kind)
            ]
        if entry not in self.info["artifacts"]:
            self.info["artifacts"].append(entry)

    def _finish(self, event: ev.RunFinished) -> None:
        self.info.update(
            status=event.status,
            message=event.message,
            finished=_iso(event.time),
            duration_s=round(event.time - self._t0, 3),
        )
        self._metrics_file.flush()
        if self.index is not None:
            self.index.record(self.run_dir, self.info)

    def close(self) -> None:
        with self._lock:
            for f in (self._metrics_file, self._log_file):
                if not f.closed:
                    f.close()

    def _write_json(self) -> None:
        atomic_write_json(self.run_dir / RUN_JSON, self.info)


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """run.json of a finished or running run (raises UserInputError if absent)."""
    import json

    from engine.errors import UserInputError

    path = Path(run_dir) / RUN_JSON
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{run_dir}: not a Loom run folder (no {RUN_JSON}) — pass the folder a run wrote") from None
    except (OSError, ValueError) as exc:
        raise UserInputError(f"{path}: cannot be read ({exc})") from None


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """Rows of metrics.csv with numbers parsed (for reopening a run's dashboard)."""
    path = Path(run_dir) / METRICS_CSV
    if not path.exists():
        return []
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                rows.append(
                    {
                        "step": int(row["step"]),
                        "epoch": int(row["epoch"]),
                        "node": row["node"],
                        "name": row["name"],
                        "value": float(row["value"]),
                        "time": float(row["time"]),
                    }
                )
            except (KeyError, ValueError):
                continue  # a torn last line after a crash
    return rows
