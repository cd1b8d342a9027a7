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
import logging
import threading
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.cache import NodeCache, default_cache_dir
from engine.context import RunControl
from engine.errors import UserInputError
from engine.refusal import RunRefused, WorkflowInvalid
from engine.resume_check import ResumePlan, check_resume
from engine.run_folder import RunLock, claim_out_dir, discard_claim, enclosing_run, lock_run, refused_folder
from engine.run_handle import RunHandle, RunResult
from engine.run_index import RunIndex
from engine.run_job import RunJob, RunPlan
from engine.store import RunRecorder
from engine.validation import Problem, topological_order, validate
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
        plan = RunPlan.of(workflow)
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
        job = RunJob(self, workflow, order, device, bus, handle, resume_from or checkpoints_from, plan, recorder,
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
