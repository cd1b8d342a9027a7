"""The follower of one run folder: poll it, get the events that happened since the last poll.

Each :meth:`RunFolderFollower.poll` reads run.json first, then metrics.csv and
log.txt: the run store flushes its metric rows before it writes the final
run.json, so the poll that sees the final status also reads the last rows,
and :class:`~engine.events.RunFinished` is always the last event.

What it copes with (another process is writing while we read):

* a half-written last line (metrics.csv, log.txt): left for the next poll;
* run.json replaced atomically at any moment: read whole or not at all, and
  a record that cannot be read (damaged, a foreign writer mid-write) is
  simply read again next time (said once in the log);
* artifacts listed in run.json are complete files (the store writes them
  atomically before listing them); one not there yet is looked at again;
* metrics.csv rewritten by a resumed run (its curves rewound): the points
  given so far are dropped with a :class:`~engine.events.Rewind` and the new
  file is read from its start, so no point is lost or shown twice;
* the folder vanishing: following ends with a warning, without a status;
* a writer that died without a final status (run.json says *running* for
  ever): after ``quiet_s`` without news the follower says so once (and goes
  on following: a long step is quiet too).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.errors import UserInputError
from engine.follow.progress import Pace
from engine.follow.tails import LogTail, MetricsTail
from engine.logfile import LOG_NAME, LogClock
from engine.names import RunStatus
from engine.run_files import METRICS_CSV, RUN_JSON, WORKFLOW_JSON, read_run

MAX_TEXT_BYTES = 1024 * 1024  # a sample text larger than this is shown from its file, when scrubbed to
QUIET_S = 300.0  # no news for this long from a run still "running": say that its process may have ended


def check_run_folder(run_dir: str | Path) -> dict[str, Any]:
    """run.json of ``run_dir`` when it is a run folder; UserInputError naming the folder and what to pass otherwise."""
    return read_run(Path(run_dir))


class RunFolderFollower:
    """Turns what another process writes into ``run_dir`` into engine events, one :meth:`poll` at a time.

    Not thread-safe: poll from one thread at a time (the app polls in its executor, one poll after another).
    """

    def __init__(self, run_dir: str | Path, log_lines: int = 5000, quiet_s: float = QUIET_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.run_dir = Path(run_dir)
        self.log_lines = log_lines
        self.quiet_s = quiet_s
        self._clock = clock
        self._last_news = clock()
        self._quiet_told = False
        self.info: dict[str, Any] | None = None  # the last run.json read whole
        self.ended = False  # the final status was read (or the folder is gone): nothing more will come
        self.status = ""
        self._started = False
        self._nodes: dict[str, tuple[str, str]] = {}  # node -> (state, message) as last told
        self._reports: dict[str, Any] = {}
        self._artifacts: set[tuple[str, str, str]] = set()
        self._metrics = MetricsTail(self.run_dir / METRICS_CSV)
        self._log: LogTail | None = None
        self._params: dict[str, dict[str, Any]] | None = None
        self._paces: dict[str, Pace] = {}
        self._pointed: set[str] = set()  # nodes whose points were given (dropped again on a rewrite)
        self._said: str = ""  # the last unreadable-record message told
        self._record_seen: tuple[int, int, int] | None = None  # run.json's (inode, mtime, size) when last parsed

    # -- the poll -----------------------------------------------------------------------------------------
    def poll(self) -> list[ev.Event]:
        """Everything new since the last poll, in the order a live run would have said it."""
        if self.ended:
            return []
        out: list[ev.Event] = []
        info = self._read_record(out)
        if info is None:
            return out
        if self._log is None:
            self._log = LogTail(self.run_dir / LOG_NAME, LogClock(info.get("started")), self.log_lines)
            self._params = workflow_params(self.run_dir)
        if not self._started and (info.get("device") or info.get("status") != RunStatus.RUNNING):
            self._started = True
            out.append(ev.RunStarted(run_id=str(info.get("run_id") or self.run_dir.name), run_dir=str(self.run_dir),
                                     device=str(info.get("device") or "unknown device"),
                                     device_reason=str(info.get("device_reason") or ""),
                                     workflow_name=str(info.get("workflow") or "")))
        self._node_events(info, out)
        self._artifact_events(info, out)
        moved = self._metric_events(out)
        moved |= self._log_events(out)
        for node_id in sorted(moved):
            pace = self._paces[node_id]
            if pace.total_epochs or pace.steps_per_epoch:
                out.append(pace.progress())
        self._watch_quiet(out)
        status = str(info.get("status") or "")
        if status and status != RunStatus.RUNNING:
            self.ended, self.status = True, status
            out.append(ev.RunFinished(run_id=str(info.get("run_id") or self.run_dir.name), status=run_status(status),
                                      message=str(info.get("message") or "")))
        return out

    def _watch_quiet(self, out: list[ev.Event]) -> None:
        """Note news; after ``quiet_s`` of none, say once (per quiet spell) that the writer may be gone."""
        now = self._clock()
        if out:
            self._last_news, self._quiet_told = now, False
        elif not self._quiet_told and now - self._last_news >= self.quiet_s:
            self._quiet_told = True
            minutes = (now - self._last_news) / 60
            out.append(ev.LogLine(level="warning", message=(
                f"nothing new in {self.run_dir.name} for {minutes:.0f} min: its step may just be slow, or the process "
                "writing it ended without a final status (a crash or a lost machine leaves it 'running'); "
                "still following")))

    def _read_record(self, out: list[ev.Event]) -> dict[str, Any] | None:
        """run.json, or None (said once) when it cannot be read this time; a vanished folder ends following."""
        try:
            st = (self.run_dir / RUN_JSON).stat()
            seen = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self.info is not None and seen == self._record_seen:
                return self.info  # not rewritten since: nothing to parse (a long run's record is large)
            info = read_run(self.run_dir)
        except (UserInputError, OSError) as exc:
            if not self.run_dir.is_dir():
                self.ended = True
                out.append(ev.LogLine(level="warning", message=f"{self.run_dir}: the run folder is gone — "
                                      "stopped following it"))
                return None
            if str(exc) != self._said:
                self._said = str(exc)
                out.append(ev.LogLine(level="warning", message=f"{exc} (read again in a moment)"))
            return None
        self._said = ""
        self.info, self._record_seen = info, seen
        return info

    def _node_events(self, info: dict[str, Any], out: list[ev.Event]) -> None:
        for node_id, node in info.get("nodes", {}).items():
            if not isinstance(node, dict):
                continue
            told = (str(node.get("state") or ""), str(node.get("message") or ""))
            if told[0] and told != self._nodes.get(node_id):
                self._nodes[node_id] = told
                out.append(ev.NodeState(node_id=node_id, state=told[0], message=told[1]))
            report = node.get("report")
            if isinstance(report, dict) and report and report != self._reports.get(node_id):
                self._reports[node_id] = report
                out.append(ev.NodeReport(node_id=node_id, report=report))

    def _artifact_events(self, info: dict[str, Any], out: list[ev.Event]) -> None:
        """New files the run listed; of each stream's new pictures and texts only the newest is read now."""
        new = []
        for art in info.get("artifacts", []):
            key = (art["node"], art["kind"], art["path"])
            if key in self._artifacts:
                continue  # told already
            path = self.run_dir / art["path"]
            if not path.exists():
                continue  # not there yet: look again next poll
            self._artifacts.add(key)
            new.append((key, path))
        newest = {(node, kind): path for (node, kind, _), path in new if path.suffix.lower() in (".png", ".txt")}
        for (node, kind, _), path in new:
            out.append(ev.ArtifactSaved(node_id=node, kind=kind, path=str(path)))
            suffix = path.suffix.lower()
            if suffix not in (".png", ".txt"):
                continue
            step = step_of(path)
            last = newest[(node, kind)] == path
            if suffix == ".png":
                out.append(ev.ImageReady(node_id=node, name=kind, step=step, path=str(path),
                                         pixels=read_pixels(path) if last else None))
            else:
                out.append(ev.TextReady(node_id=node, name=kind, step=step, path=str(path),
                                        text=read_text(path) if last else None))

    def _metric_events(self, out: list[ev.Event]) -> set[str]:
        """New metric points (a rewritten file: the earlier ones dropped first); the nodes that moved."""
        rows, replaced = self._metrics.read()
        moved: set[str] = set()
        if replaced:
            for node_id in sorted(self._pointed):
                out.append(ev.Rewind(node_id=node_id, step=-1))
                if node_id in self._paces:
                    self._paces[node_id].restart()
            self._pointed.clear()
        for row in rows:
            node_id = row["node"]
            self._pointed.add(node_id)
            out.append(ev.MetricPoint(node_id=node_id, name=row["name"], step=row["step"], epoch=row["epoch"],
                                      value=row["value"], time=row["time"]))
            self._pace(node_id).row(row["step"], row["epoch"], row["time"])
            moved.add(node_id)
        return moved

    def _log_events(self, out: list[ev.Event]) -> set[str]:
        """New log lines; a training loop's plan (epochs x steps) among them; the nodes whose plan it was."""
        planned: set[str] = set()
        for entry, when in self._log.read() if self._log is not None else []:
            extra = {"time": when} if when is not None else {}
            out.append(ev.LogLine(level=entry.level, message=entry.message, node_id=entry.node_id, **extra))
            if entry.node_id and self._pace(entry.node_id).plan(entry.message):
                planned.add(entry.node_id)
        return planned

    def _pace(self, node_id: str) -> Pace:
        if node_id not in self._paces:
            self._paces[node_id] = Pace.for_node(node_id, (self._params or {}).get(node_id, {}))
        return self._paces[node_id]


def run_status(text: str) -> RunStatus | str:
    """run.json's status as a RunStatus (a status this version does not know stays text)."""
    try:
        return RunStatus(text)
    except ValueError:
        return text


def workflow_params(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Node id -> params, from the run's workflow.json ({} when it cannot be read: progress then has less to go on)."""
    try:
        doc = json.loads((run_dir / WORKFLOW_JSON).read_text(encoding="utf-8"))
        return {str(n["id"]): dict(n.get("params") or {}) for n in doc.get("nodes", []) if isinstance(n, dict)}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def step_of(path: Path) -> int:
    """The step a saved sample belongs to: the last number in its name (``step_000120.png``), else 0."""
    numbers = re.findall(r"\d+", path.stem)
    return int(numbers[-1]) if numbers else 0


def read_pixels(path: Path) -> Any:
    """A PNG as an H x W (x C) uint8 array, or None when it cannot be read (then it is shown from its file)."""
    try:
        import numpy as np
        from PIL import Image

        with Image.open(path) as img:
            if img.mode not in ("L", "RGB", "RGBA"):
                img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
            return np.asarray(img).copy()
    except Exception:  # noqa: BLE001 - any unreadable picture: the preview reads the file itself, and says so
        return None


def read_text(path: Path) -> str | None:
    """A sample text (None when too large or unreadable: then it is read from its file when shown)."""
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
