"""One execution of a workflow on the engine's worker thread: nodes in order, the cache, the ending.

Split from :mod:`engine.runner` (which validates, claims the run folder and
starts this on its thread): here the nodes run in topological order, cached
outputs are reused when their key has not changed, a failed node blocks only
what depends on it, and the run always ends with a truthful final status in
run.json and a :class:`engine.events.RunFinished` event.
"""

from __future__ import annotations

import errno
import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import events as ev
from engine.cache import node_key
from engine.context import USER_STOP, StepContext
from engine.errors import RunStopped, UserInputError
from engine.fileio import is_disk_full, write_failure_message
from engine.names import CachePolicy, NodeStatus, RunStatus
from engine.node_warnings import WarningCollector, cached_warnings, keep_warnings
from engine.run_folder import RunLock
from engine.run_handle import RunHandle, RunResult
from engine.steps.registry import StepSpec, get_step
from engine.store import RunRecorder
from engine.validation import resolved_params
from engine.workflow import Workflow

if TYPE_CHECKING:
    from engine.runner import Engine

log = logging.getLogger(__name__)


@dataclass
class RunPlan:
    """What a workflow resolves to before it runs: step specs, full params, seeds."""

    specs: dict[str, StepSpec]
    params: dict[str, dict[str, Any]]
    resolved: Workflow
    seeds: dict[str, int]

    @classmethod
    def of(cls, workflow: Workflow) -> RunPlan:
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


class RunJob:
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
        plan: RunPlan,
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
            self.engine.cache.flush()  # a run ends with its cache entries on disk (a next process reuses them)
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
            handle.finish(RunResult(
                handle.run_id, handle.run_dir, status, message, input_error, dict(self.states),
                warnings=list(recorder.warnings), record_error=recorder.final_write_error,
            ))

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
                text = summarise(exc, self.handle.run_dir)
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
                # written to disk beside the next steps (training does not wait for a decoded folder's
                # fsync); the run's ending waits for it (_end)
                self.engine.cache.put(key, result, to_disk=spec.cache == CachePolicy.DISK, wait=False)
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


def summarise(exc: BaseException, run_dir: Path | None = None) -> str:
    """One line for a user about an unexpected error (details are in log.txt)."""
    if run_dir is not None and (is_disk_full(exc) or getattr(exc, "errno", None) == errno.EROFS):
        return write_failure_message(exc, run_dir, run_dir) + " (details in log.txt)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return "ran out of memory — lower the batch size or image size"
    return f"{type(exc).__name__}: {text} (details in log.txt)" if text else f"{type(exc).__name__} (details in log.txt)"
