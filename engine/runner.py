"""Running a workflow on a worker thread.

:class:`Engine` is the public entry point (the CLI and the GUI both use it).
It validates, then runs the nodes in topological order on one worker thread,
reusing cached node outputs whose key has not changed.  It speaks only in
events; callers steer it only through :class:`RunHandle` (pause, resume, stop).

A node that raises :class:`UserInputError` fails with that message; any other
exception fails it with a one-line summary (the traceback goes to log.txt).
Either way the nodes that depend on it are skipped, unrelated branches still
run, and the run ends ``failed``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.cache import NodeCache, default_cache_dir, node_key
from engine.context import USER_STOP, RunControl, StepContext
from engine.errors import RunStopped, UserInputError
from engine.fileio import is_disk_full, write_failure_message
from engine.names import CachePolicy, NodeStatus, RunStatus
from engine.node_warnings import WarningCollector, cached_warnings, keep_warnings
from engine.refusal import RunRefused, WorkflowInvalid
from engine.resume_check import ResumePlan, check_resume
from engine.run_folder import RunLock, claim_out_dir, discard_claim, enclosing_run, lock_run, refused_folder
from engine.run_handle import RunHandle, RunResult
from engine.run_index import RunIndex
from engine.steps.registry import StepSpec, get_step
from engine.store import RunRecorder
from engine.validation import Problem, resolved_params, topological_order, validate
from engine.workflow import Workflow

__all__ = ["Engine", "RunHandle", "RunRefused", "RunResult", "WorkflowInvalid", "new_run_dir", "new_run_id"]

log = logging.getLogger(__name__)


def new_run_id(name: str) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:40] or "run"
    return f"{stamp}-{slug}"


def new_run_dir(root: Path, name: str) -> Path:
    """A new, empty run folder under ``root``, named by the time and the workflow.

    The folder is created here, so two runs started within the same second
    (a quick re-run, two windows) get ``...-2`` and never share a folder.
    """
    root.mkdir(parents=True, exist_ok=True)
    base = new_run_id(name)
    candidate, n = root / base, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = root / f"{base}-{n}"


class Engine:
    """A session: owns the node cache, starts runs.

    Keep one per process (the GUI does) so repeated runs reuse cached nodes.
    """

    def __init__(self, cache_dir: Path | None = None, index: RunIndex | None = None, disk_cache: bool = True) -> None:
        self.cache = NodeCache(disk_dir=(cache_dir or default_cache_dir()) if disk_cache else None)
        self.index = index

    def start(
        self,
        workflow: Workflow,
        out_dir: str | Path | None = None,
        device: str = "auto",
        on_event: ev.Subscriber | None = None,
        resume_from: str | Path | None = None,
        runs_root: str | Path = "runs",
        force: bool = False,
        tags: dict[str, Any] | None = None,
        processes: int = 1,
        checkpoints_from: str | Path | None = None,
    ) -> RunHandle:
        """Validate, claim the run folder and start ``workflow`` on a worker thread; returns at once.

        Raises :class:`WorkflowInvalid` (before starting or writing anything)
        when the workflow has problems, and its subclass :class:`RunRefused`
        when the run folder cannot be used: ``out_dir`` holds something
        (``force`` moves it aside instead), cannot be written, or
        ``resume_from`` is missing, damaged, in use or ran a different
        workflow.  ``resume_from`` continues a previous run in its own folder
        from its last checkpoints.  ``tags`` are extra top-level entries of the
        run's run.json that say what started it (a sweep writes
        ``{"sweep": {"study": ..., "trial": n}}``); they cannot replace the
        record's own keys.  ``processes`` > 1 trains on that many processes
        (``loom run --nproc``, DDP) and returns an :class:`engine.external_run.ExternalRun`
        that follows their run folder (no tags, no pause).  ``checkpoints_from`` is for a
        distributed rank other than 0: it runs in a scratch ``out_dir`` and resumes from that
        run's checkpoints, which it only reads (rank 0 owns the folder).
        """
        from engine.preflight import preflight  # files are checked before any node runs, every problem at once

        problems = [Problem(nid, "id", why) for nid, why in workflow.id_problems()] + validate(workflow)
        problems += preflight(workflow)
        if problems:
            raise WorkflowInvalid(problems)
        order = topological_order(workflow)
        plan = _Plan.of(workflow)
        if processes > 1:
            from engine.external_run import start_on_processes

            return start_on_processes(self, workflow, plan.resolved.to_json(), processes, out_dir=out_dir,
                                      device=device, on_event=on_event, resume_from=resume_from, runs_root=runs_root,
                                      force=force)
        resume: ResumePlan | None = None
        moved: Path | None = None
        if resume_from is not None:
            if out_dir is not None and Path(out_dir).resolve() != Path(resume_from).resolve():
                raise RunRefused([f"--out {out_dir} and --resume {resume_from}: a resumed run continues in its "
                                  "own folder — drop --out"])
            resume = check_resume(resume_from, plan.resolved.to_json())
            run_dir, lock = resume.run_dir, resume.lock
        else:
            run_dir, moved, lock, created = self.claim_new(out_dir, runs_root, workflow.name, force)
        try:
            recorder = RunRecorder(
                run_dir,
                run_dir.name,
                plan.resolved.to_json(),
                plan.seeds,
                index=self.index,
                resumed_from=str(resume_from or ""),
                previous=resume.previous if resume else None,
                changes=resume.changes if resume else None,
                tags=tags,
            )
        except OSError as exc:
            if lock is not None:
                lock.release()
            if resume is None:
                discard_claim(run_dir, created)  # a retry must find the folder as the user left it
                raise refused_folder(run_dir, exc) from None
            raise refused_folder(run_dir, exc, "make it writable, then resume again") from None
        control = RunControl()
        handle = RunHandle(run_dir.name, run_dir, control)
        handle.moved_aside = moved
        handle.changes = list(resume.changes) if resume else []
        bus = ev.EventBus()
        bus.subscribe(recorder)
        if on_event is not None:
            bus.subscribe(on_event)
        job = _RunJob(self, workflow, order, device, bus, handle, resume_from or checkpoints_from, plan, recorder,
                      lock)
        thread = threading.Thread(target=job.run, name=f"loom-run-{handle.run_id}", daemon=True)
        handle._thread = thread
        thread.start()
        return handle

    def claim_new(self, out_dir: str | Path | None, runs_root: str | Path, name: str,
                   force: bool) -> tuple[Path, Path | None, RunLock, bool]:
        """A new run's folder, locked: ``(folder, where --force moved an old one, lock, created here)``."""
        moved = None
        if out_dir:
            created = not Path(out_dir).expanduser().is_dir()
            run_dir, moved = claim_out_dir(Path(out_dir), force)
            if moved is not None:
                self._reindex(moved)
        else:
            root = Path(runs_root)
            inside = enclosing_run(root / "x")
            if inside is not None:
                raise RunRefused([f"{root}: is inside the run folder {inside} — pick another runs folder"])
            created = True
            try:
                run_dir = new_run_dir(root, name)
            except OSError as exc:
                raise refused_folder(root, exc) from None
        try:
            return run_dir, moved, lock_run(run_dir, "start a run in it"), created
        except RunRefused:
            if created:
                with contextlib.suppress(OSError):
                    run_dir.rmdir()  # only when still empty; never another process's lock
            raise

    def _reindex(self, moved: Path) -> None:
        """List a run that --force moved aside under its new name (the index row follows the folder)."""
        from engine.run_files import read_run

        if self.index is None:
            return
        with contextlib.suppress(UserInputError):  # not a readable run (or no run at all): nothing to list
            self.index.record(moved, read_run(moved))

    def run(self, workflow: Workflow, **kwargs: Any) -> RunResult:
        """Start and wait: the blocking form for scripts and tests."""
        handle = self.start(workflow, **kwargs)
        result = handle.wait()
        assert result is not None
        return result


@dataclass
class _Plan:
    """What a workflow resolves to before it runs: step specs, full params, seeds."""

    specs: dict[str, StepSpec]
    params: dict[str, dict[str, Any]]
    resolved: Workflow
    seeds: dict[str, int]

    @classmethod
    def of(cls, workflow: Workflow) -> _Plan:
        specs = {n.id: get_step(n.type) for n in workflow.nodes}
        params = {n.id: resolved_params(specs[n.id], n.params) for n in workflow.nodes}
        resolved = workflow.copy()
        for node in resolved.nodes:
            node.params = params[node.id]
        seeds = {
            f"{nid}.{p.name}": params[nid][p.name]
            for nid, spec in specs.items()
            for p in spec.params
            if p.kind == "seed"
        }
        return cls(specs, params, resolved, seeds)


class _RunJob:
    """One execution of a workflow; lives on the worker thread."""

    def __init__(
        self,
        engine: Engine,
        workflow: Workflow,
        order: list[str],
        device_pref: str,
        bus: ev.EventBus,
        handle: RunHandle,
        resume_from: str | Path | None,
        plan: _Plan,
        recorder: RunRecorder,
        lock: RunLock | None,
    ) -> None:
        self.engine = engine
        self.workflow = workflow.copy()
        self.order = order
        self.device_pref = device_pref
        self.bus = bus
        self.handle = handle
        self.resume_dir = Path(resume_from) if resume_from is not None else None
        self.plan = plan
        self.recorder = recorder
        self.lock = lock
        self.states: dict[str, NodeStatus] = {}

    def run(self) -> None:
        handle = self.handle
        status, message, input_error = RunStatus.FAILED, "", False
        try:
            from engine.device import select_device

            device, reason = select_device(self.device_pref)
            self._list_as_running(device)
            self.bus.emit(
                ev.RunStarted(
                    run_id=handle.run_id,
                    run_dir=str(handle.run_dir),
                    device=device,
                    device_reason=reason,
                    workflow_name=self.workflow.name,
                )
            )
            self._log(f"device: {device} ({reason})")
            for change in handle.changes:
                self._log(f"resumed with a changed setting: {change}")
            for nid in self.order:
                self._state(nid, NodeStatus.QUEUED)
            status, message, input_error = self._run_nodes(self.plan.specs, self.plan.params, device)
        except UserInputError as exc:  # e.g. the device asked for is not there
            message, input_error = str(exc), True
            self._log(message, "error")
        except Exception as exc:  # a bug in the engine itself: still end cleanly
            message = f"internal error: {type(exc).__name__}: {exc}"
            self._log(traceback.format_exc(), "debug")
            self._log(message, "error")
        finally:
            self._end(status, message, input_error)

    def _list_as_running(self, device: str) -> None:
        """Put the run in the index now, as *running*: the app lists it at once, and a crashed run stays listed.

        The end of the run updates the row (see RunRecorder.close); a failure here is only a warning there.
        """
        index = self.engine.index
        if index is not None:
            seen = len(index.warnings)
            index.record(self.handle.run_dir, {**self.recorder.info, "device": device})
            self.recorder.warnings += index.warnings[seen:]  # said once, with the run's result

    def _skip_unreached(self, status: RunStatus) -> None:
        """Steps the run never reached are *skipped*, in the events and run.json: never left *queued* forever."""
        why = "not run: the run was stopped" if status == RunStatus.STOPPED else "not run: the run ended early"
        for nid in self.order:
            if self.states.get(nid) == NodeStatus.QUEUED:
                self._state(nid, NodeStatus.SKIPPED, why)

    def _end(self, status: RunStatus, message: str, input_error: bool) -> None:
        """The run's ending: a final status that tells the truth about the record, then the result."""
        handle, recorder = self.handle, self.recorder
        try:
            self._skip_unreached(status)
            if status == RunStatus.STOPPED:
                self._log(f"run {message or USER_STOP}", "warning")
            if recorder.problem and status == RunStatus.SUCCEEDED:
                status, message = RunStatus.FAILED, f"the run's record is incomplete: {recorder.problem}"
                self._log(message, "error")
            self.bus.emit(ev.RunFinished(run_id=handle.run_id, status=status, message=message))
            recorder.close()
        except Exception as exc:  # noqa: BLE001 - the ending must end, whatever happened
            log.debug("ending the run failed", exc_info=True)
            message = message or f"internal error while ending the run: {type(exc).__name__}: {exc}"
        finally:
            if self.lock is not None:
                self.lock.release()
            handle.result = RunResult(
                handle.run_id, handle.run_dir, status, message, input_error, dict(self.states),
                warnings=list(recorder.warnings), record_error=recorder.final_write_error,
            )
            handle._done.set()

    def _run_nodes(self, specs: dict, params: dict, device: str) -> tuple[RunStatus, str, bool]:
        keys: dict[str, str] = {}
        outputs: dict[str, dict[str, Any]] = {}
        blocked: dict[str, str] = {}  # node -> the failed node it depends on
        first_failure, input_error = "", False
        for nid in self.order:
            spec = specs[nid]
            links = self.workflow.links_into(nid)
            upstream = [lk.source.node for lk in links]
            cause = next((blocked[u] for u in upstream if u in blocked), None)
            if cause is not None:
                blocked[nid] = cause
                self._state(nid, NodeStatus.SKIPPED, f"not run because '{cause}' failed")
                continue
            if self.handle.control.stop_requested:
                self._state(nid, NodeStatus.SKIPPED, "not run: the run was stopped before this step")
                blocked[nid] = nid
                continue
            inputs = {lk.target.port: outputs[lk.source.node][lk.source.port] for lk in links}
            input_keys = {lk.target.port: f"{keys[lk.source.node]}:{lk.source.port}" for lk in links}
            if spec.fingerprint is not None:
                input_keys["@source"] = spec.fingerprint(params[nid])
            key = node_key(spec.type, spec.version, params[nid], device, input_keys)
            keys[nid] = key
            if spec.cache != CachePolicy.NONE and (self.resume_dir is None or spec.cache == CachePolicy.DISK):
                cached = self.engine.cache.get(key, from_disk=spec.cache == CachePolicy.DISK)
                if cached is not None:
                    outputs[nid] = cached
                    for value in cached.values():  # keep run.json's counts/skipped files on a cache hit
                        if getattr(value, "report", None):
                            self.bus.emit(ev.NodeReport(node_id=nid, report=dict(value.report)))
                    self._write_cards(nid, cached)
                    self._state(nid, NodeStatus.CACHED, "reused the cached result (inputs and settings unchanged)")
                    self._log("cached: inputs and settings unchanged, not recomputed", node_id=nid)
                    for warning in cached_warnings(cached):  # what the step warned about still holds
                        self._log(f"(when it was computed) {warning}", "warning", node_id=nid)
                    continue
            ctx = StepContext(
                node_id=nid,
                params=dict(params[nid]),
                inputs=inputs,
                device=device,
                run_dir=self.handle.run_dir,
                bus=self.bus,
                control=self.handle.control,
                resume_dir=self.resume_dir,
            )
            self._state(nid, NodeStatus.RUNNING)
            t0 = time.perf_counter()
            warned = WarningCollector(nid)
            stop_listening = self.bus.subscribe(warned)
            try:
                result = spec.run(ctx) or {}
                missing = [p.name for p in spec.outputs if p.name not in result]
                if missing:
                    raise RuntimeError(f"step '{spec.type}' produced no value for output(s) {missing}")
            except RunStopped as stopped:
                self._state(nid, NodeStatus.STOPPED, str(stopped))
                return RunStatus.STOPPED, str(stopped), False
            except UserInputError as exc:
                self._fail(nid, str(exc))
                blocked[nid] = nid
                if not first_failure:
                    first_failure, input_error = f"{nid}: {exc}", True
                continue
            except Exception as exc:
                self._log(traceback.format_exc(), "debug", node_id=nid)
                text = _summarise(exc, self.handle.run_dir)
                self._fail(nid, text)
                blocked[nid] = nid
                if not first_failure:
                    first_failure = f"{nid}: {text}"
                continue
            finally:
                stop_listening()
            outputs[nid] = result
            if spec.cache != CachePolicy.NONE:
                keep_warnings(result, warned.lines)
                self.engine.cache.put(key, result, to_disk=spec.cache == CachePolicy.DISK)
            self._state(nid, NodeStatus.DONE, f"finished in {time.perf_counter() - t0:.1f} s")
        if self.handle.control.stop_requested:
            return RunStatus.STOPPED, self.handle.control.stop_reason, False
        if first_failure:
            return RunStatus.FAILED, first_failure, input_error
        return RunStatus.SUCCEEDED, "", False

    def _write_cards(self, nid: str, outputs: dict[str, Any]) -> None:
        """A reused output that keeps files in its node's folder (a trained model's card) writes them in this run too."""
        from engine.context import path_in_run

        for value in outputs.values():
            write = getattr(value, "write_card", None)
            if not callable(write):
                continue
            try:
                node_dir = path_in_run(self.handle.run_dir, nid)
                node_dir.mkdir(parents=True, exist_ok=True)
                for kind, path in write(node_dir):
                    self.bus.emit(ev.ArtifactSaved(node_id=nid, kind=kind, path=str(path)))
            except OSError as exc:
                self._log(f"could not write the model card: {exc}", "warning", node_id=nid)

    def _fail(self, nid: str, message: str) -> None:
        self._state(nid, NodeStatus.FAILED, message)
        self._log(message, "error", node_id=nid)

    def _state(self, nid: str, state: NodeStatus, message: str = "") -> None:
        self.states[nid] = state
        self.bus.emit(ev.NodeState(node_id=nid, state=state, message=message))

    def _log(self, message: str, level: str = "info", node_id: str = "") -> None:
        self.bus.emit(ev.LogLine(level=level, message=message, node_id=node_id))


def _summarise(exc: BaseException, run_dir: Path | None = None) -> str:
    """One line for a user about an unexpected error (details are in log.txt)."""
    if run_dir is not None and (is_disk_full(exc) or getattr(exc, "errno", None) == errno.EROFS):
        return write_failure_message(exc, run_dir, run_dir) + " (details in log.txt)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return "ran out of memory — lower the batch size or image size"
    return f"{type(exc).__name__}: {text} (details in log.txt)" if text else f"{type(exc).__name__} (details in log.txt)"
