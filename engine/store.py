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

The recorder never raises into the run: a write that fails (disk full,
read-only) is kept in :attr:`RunRecorder.problems`, the runner turns it into
the run's final status, and the last run.json write is tried even then, so a
run always ends with a true record (or the CLI says it could not write one).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as dt
import json
import os
import platform
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from engine import events as ev
from engine.fileio import atomic_write_json, atomic_write_text, is_disk_full, write_failure_message
from engine.logfile import LOG_NAME, format_line
from engine.names import NodeStatus, RunStatus
from engine.run_files import METRIC_FIELDS, METRICS_CSV, RUN_JSON, WORKFLOW_JSON, read_metrics, read_run
from engine.run_index import RunIndex

__all__ = ["METRICS_CSV", "METRIC_FIELDS", "RUN_JSON", "RunRecorder", "read_metrics", "read_run"]


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")


def library_versions() -> dict[str, str]:
    import torch

    from engine import __version__

    return {
        "loom": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": _torchvision_version(),
    }


def _torchvision_version() -> str:
    """torchvision's ``__version__`` read from its version.py: importing it only to ask costs start-up
    (~0.2 s after torch, up to 2 s when it is what first loads torch._dynamo), and most runs never need it."""
    import importlib.util
    import re
    import sys

    if "torchvision" in sys.modules:
        return str(sys.modules["torchvision"].__version__)
    try:
        spec = importlib.util.find_spec("torchvision")
        if spec is None or not spec.submodule_search_locations:
            return "not installed"
        text = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text(encoding="utf-8")
    except (ImportError, OSError, ValueError):
        return "unknown"
    found = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", text, re.MULTILINE)
    return found.group(1) if found else "unknown"


class RunRecorder:
    """Subscribes to a run's events and keeps its folder up to date.

    A fresh run's folder is written at once (so a folder that cannot be
    written refuses the run before it starts: ``OSError`` from here).  A
    resumed run (``previous`` = its run.json) keeps that record's artifacts,
    reports and history, and touches nothing until the run really starts:
    a resume that fails before that leaves run.json exactly as it was.
    """

    def __init__(
        self,
        run_dir: Path,
        run_id: str,
        workflow_json: dict[str, Any],
        seeds: dict[str, int],
        index: RunIndex | None = None,
        resumed_from: str = "",
        previous: dict[str, Any] | None = None,
        changes: list[str] | None = None,
        tags: dict[str, Any] | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.index = index
        self.problems: dict[str, str] = {}  # file -> what went wrong writing it (cleared when a later write works)
        self.warnings: list[str] = []  # worth telling, not failures (the index could not be updated)
        self.final_write_error = ""  # run.json could not be written at the very end
        self._lock = threading.Lock()
        self._node_started: dict[str, float] = {}
        self._workflow_json = workflow_json
        self._t0 = time.time()
        self.info: dict[str, Any] = {
            "run_id": run_id,
            "workflow": workflow_json.get("name", ""),
            "status": RunStatus.RUNNING,
            "message": "",
            "device": "",
            "device_reason": "",
            "versions": {},
            "seeds": seeds,
            "started": _iso(self._t0),
            "finished": None,
            "duration_s": None,
            "timings": {},
            "nodes": {n["id"]: {"type": n["type"], "state": NodeStatus.QUEUED} for n in workflow_json["nodes"]},
            "artifacts": [],
        }
        for key, value in (tags or {}).items():
            if key in self.info:
                raise ValueError(f"run tag {key!r} would replace the run record's own {key!r}")
            self.info[key] = copy.deepcopy(value)
        self._earlier_s = 0.0
        if previous is not None:
            self._continue(previous, changes or [])
        if resumed_from:
            self.info["resumed_from"] = resumed_from
        self._resuming = previous is not None
        self._begun = False
        self._metrics_file: TextIO | None = None
        self._metrics: Any = None
        self._last_flush = time.monotonic()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._log_file: TextIO | None = open(self.run_dir / LOG_NAME, "a", encoding="utf-8")  # noqa: SIM115
        if not self._resuming:
            try:
                self._begin(strict=True)
            except OSError:
                self.close()
                raise

    def _continue(self, previous: dict[str, Any], changes: list[str]) -> None:
        """Start from the earlier segments' record: their artifacts, reports and timings stay listed."""
        keep = {k: copy.deepcopy(previous[k]) for k in ("run_id", "started", "artifacts", "seeds") if k in previous}
        self.info.update(keep)
        for node_id, node in self.info["nodes"].items():
            before = previous.get("nodes", {}).get(node_id)
            if isinstance(before, dict) and isinstance(before.get("report"), dict):
                node["report"] = copy.deepcopy(before["report"])
        duration = previous.get("duration_s")
        self._earlier_s = float(duration) if isinstance(duration, (int, float)) else 0.0
        segment = {k: previous.get(k) for k in ("status", "message", "finished", "duration_s", "device")}
        if changes:
            self.info["changed_on_resume"] = list(changes)
        self.info["segments"] = [*previous.get("segments", []), segment]

    def _begin(self, strict: bool = False) -> None:
        """Write workflow.json and run.json and open metrics.csv: the moment the folder becomes this run's."""
        self._begun = True
        atomic_write_json(self.run_dir / WORKFLOW_JSON, self._workflow_json)
        metrics_path = self.run_dir / METRICS_CSV
        append = self._resuming and metrics_path.is_file()
        if append:
            _end_torn_line(metrics_path)
        self._metrics_file = open(metrics_path, "a" if append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._metrics = csv.writer(self._metrics_file)
        if not append:
            self._metrics.writerow(METRIC_FIELDS)
        if strict:
            atomic_write_json(self.run_dir / RUN_JSON, self.info)
        else:
            self._write_json()

    # The subscriber ------------------------------------------------------------
    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            try:
                self._handle(event)
            except OSError as exc:  # disk full, read-only...: recorded, never raised into the run
                self._problem(_file_of(exc, self.run_dir), exc)

    def _handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.LogLine):
            self._log(format_line(event.time, event.level, event.node_id, event.message))
            return
        if isinstance(event, ev.RunStarted):
            if not self._begun:
                self._begin()
            self.info.update(device=event.device, device_reason=event.device_reason, versions=library_versions())
        elif not self._begun:
            if isinstance(event, ev.RunFinished):
                self._log(format_line(event.time, "warning", "", "nothing ran: run.json left as it was"))
            return  # a resume that never started leaves the earlier record alone
        elif isinstance(event, ev.MetricPoint):
            self._metric(event)
            return
        elif isinstance(event, ev.Rewind):
            self._rewind(event.node_id, event.step)
            return
        elif isinstance(event, ev.NodeState):
            self._node_state(event)
        elif isinstance(event, ev.ArtifactSaved):
            if event.kind == "checkpoint":
                self._flush_metrics()  # rows up to a checkpoint survive a crash (exact resume)
            self._artifact(event.node_id, event.kind, event.path)
        elif isinstance(event, ev.NodeReport):
            node = self.info["nodes"].setdefault(event.node_id, {})
            node.setdefault("report", {}).update(event.report)
        elif isinstance(event, ev.SpeedChosen):
            self.info["nodes"].setdefault(event.node_id, {})["speed"] = dict(event.choices)
        elif isinstance(event, ev.RunFinished):
            self._finish(event)
            return
        else:
            return
        self._write_json()

    def _metric(self, event: ev.MetricPoint) -> None:
        if self._metrics is None:
            return  # metrics.csv could not be opened: already a problem
        try:
            self._metrics.writerow(
                (event.step, event.epoch, event.node_id, event.name, f"{event.value:.6g}", f"{event.time:.3f}")
            )
        except OSError as exc:
            self._problem(METRICS_CSV, exc)
            return
        if time.monotonic() - self._last_flush > 1.0:
            self._flush_metrics()

    def _flush_metrics(self) -> None:
        self._last_flush = time.monotonic()
        if self._metrics_file is None or self._metrics_file.closed:
            return
        try:
            self._metrics_file.flush()
        except OSError as exc:
            self._problem(METRICS_CSV, exc)

    def _log(self, text: str) -> None:
        if self._log_file is None or self._log_file.closed:
            return
        try:
            self._log_file.write(text)
            self._log_file.flush()
        except OSError as exc:
            self._problem(LOG_NAME, exc)

    def _rewind(self, node_id: str, step: int) -> None:
        """Keep this node's metric rows up to ``step`` (others untouched)."""
        self._flush_metrics()
        if self._metrics_file is not None:
            with contextlib.suppress(OSError):
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
        try:
            atomic_write_text(path, "\n".join(lines) + "\n")
        finally:
            self._metrics_file = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115
            self._metrics = csv.writer(self._metrics_file)

    def _node_state(self, event: ev.NodeState) -> None:
        node = self.info["nodes"].setdefault(event.node_id, {})
        node["state"] = event.state
        if event.message:
            node["message"] = event.message
        else:
            node.pop("message", None)  # a resumed node's old message no longer describes it
        if event.state == NodeStatus.RUNNING:
            self._node_started[event.node_id] = event.time
        elif event.node_id in self._node_started:
            seconds = round(event.time - self._node_started.pop(event.node_id), 3)
            node["seconds"] = seconds
            self.info["timings"][event.node_id] = seconds

    def _artifact(self, node_id: str, kind: str, path: str) -> None:
        try:
            rel = Path(path).resolve().relative_to(self.run_dir.resolve()).as_posix()
        except ValueError:
            self.warnings.append(f"node '{node_id}' reported a file outside the run folder ({path}); not listed")
            return
        entry = {"node": node_id, "kind": kind, "path": rel}
        if kind == "checkpoint":  # keep only the newest checkpoint entry per node
            self.info["artifacts"] = [
                a for a in self.info["artifacts"] if not (a["node"] == node_id and a["kind"] == kind)
            ]
        if entry not in self.info["artifacts"]:
            self.info["artifacts"].append(entry)

    def _finish(self, event: ev.RunFinished) -> None:
        """The run's ending: the final run.json first, then the index (a convenience that may fail)."""
        self.info.update(
            status=event.status,
            message=event.message,
            finished=_iso(event.time),
            duration_s=round(self._earlier_s + event.time - self._t0, 3),
        )
        self._flush_metrics()
        self._write_json(final=True)
        if self.index is not None and not self.final_write_error:
            seen = len(self.index.warnings)
            self.index.record(self.run_dir, self.info)
            self.warnings += self.index.warnings[seen:]

    @property
    def problem(self) -> str:
        """The first unresolved write failure, as one line for the user ('' when the record is whole)."""
        return next(iter(self.problems.values()), "")

    def _problem(self, name: str, exc: OSError) -> None:
        if name not in self.problems:
            message = write_failure_message(exc, self.run_dir, self.run_dir)
            self.problems[name] = f"{name} could not be written: {message}"

    def close(self) -> None:
        with self._lock:
            for f in (self._metrics_file, self._log_file):
                if f is not None and not f.closed:
                    try:
                        f.close()
                    except OSError as exc:
                        self._problem(METRICS_CSV if f is self._metrics_file else LOG_NAME, exc)

    def _write_json(self, final: bool = False) -> None:
        path = self.run_dir / RUN_JSON
        try:
            atomic_write_json(path, self.info)
            self.problems.pop(RUN_JSON, None)
        except OSError as exc:
            if final and is_disk_full(exc) and _overwrite_in_place(path, self.info):
                self.problems.pop(RUN_JSON, None)
                return
            self._problem(RUN_JSON, exc)
            if final:
                self.final_write_error = (
                    f"{path} could not be written with the final status '{self.info['status']}': "
                    f"{write_failure_message(exc, self.run_dir, self.run_dir)}"
                )


def _overwrite_in_place(path: Path, info: dict[str, Any]) -> bool:
    """Last resort on a full disk: rewrite run.json inside the blocks it already owns.

    Not atomic, so only when the compact record fits in the space the file
    already has on disk (no new block needed, so the write cannot run out of
    space half-way).  Better a true final status than a record stuck at 'running'.
    """
    data = json.dumps(info, separators=(",", ":"), default=str).encode("utf-8")
    try:
        allocated = os.stat(path).st_blocks * 512 if hasattr(os.stat_result, "st_blocks") else 0
        if len(data) > allocated:
            return False
        with open(path, "r+b") as f:
            f.write(data)
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
        return True
    except OSError:
        return False


def _end_torn_line(path: Path) -> None:
    """A run killed mid-write leaves a last line without its newline; end it before appending."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
    with open(path, "ab") as f:
        f.write(b"\n")


def _file_of(exc: OSError, run_dir: Path) -> str:
    """Which of the run's files a failed write was for (by name), for the problem list."""
    name = Path(exc.filename).name if isinstance(exc.filename, str) else ""
    for known in (RUN_JSON, WORKFLOW_JSON, METRICS_CSV, LOG_NAME):
        if known in name:
            return known
    return name or str(run_dir)
