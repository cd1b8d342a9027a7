"""A run trained by ``loom run`` in other processes, steered and seen like one on the engine's own thread.

Several processes (``--nproc N``: PyTorch's launcher, DDP) cannot train on
the app's worker thread, yet the app must show them like any run.  The run
folder is already the contract between a writer and its readers, so this
handle starts ``python -m engine.cli run FLOW --nproc N --out RUN`` in its own
process group and turns what rank 0 writes into the same events a live run
emits (:class:`engine.follow.RunFolderFollower`).  It offers the
:class:`engine.run_handle.RunHandle` surface callers use: ``run_dir``,
``running``, ``result``, ``wait`` and ``stop``.  Stop is what Ctrl-C does in
a terminal (SIGINT to the whole group): every rank stops at its next batch,
rank 0 keeps the checkpoint, the folder says *stopped*.  Pause is not
offered: ranks paused one by one would time out waiting for each other.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.context import USER_STOP
from engine.names import RunStatus
from engine.run_handle import RunResult, StartedRun

log = logging.getLogger(__name__)
POLL_S = 0.3
STOP_GRACE_S = 60.0  # after a Stop, how long the ranks get to write their checkpoint before they are killed
PAUSE_UNSUPPORTED = "a run on several processes cannot pause (its processes would time out waiting for each other)"


def launcher_command(workflow_file: Path, run_dir: Path, nproc: int, device: str, resume: bool) -> list[str]:
    """The ``loom run`` line that trains in ``run_dir`` on ``nproc`` processes (``resume``: continue it there)."""
    argv = [sys.executable, "-m", "engine.cli", "run", str(workflow_file), "--nproc", str(nproc), "--device", device,
            "--quiet"]
    folder = str(Path(run_dir).resolve())
    return argv + (["--resume", folder] if resume else ["--out", folder])


class ExternalRun(StartedRun):
    """Started by :meth:`start`; events go to ``on_event`` from this handle's own follower thread."""

    can_pause = False  # see the module's docstring

    def __init__(self, run_dir: Path, on_event: Callable[[ev.Event], None] | None = None,
                 poll_s: float = POLL_S) -> None:
        from engine.follow import RunFolderFollower

        super().__init__(Path(run_dir).name, Path(run_dir))
        self.on_event = on_event
        self.poll_s = poll_s
        self.follower = RunFolderFollower(self.run_dir)
        self.process: subprocess.Popen | None = None
        self._workflow_file: Path | None = None
        self._stderr_file: Path | None = None
        self._record_before = _identity(self.run_dir / "run.json")  # a resumed run's old record: not this run's
        self._stop_asked = threading.Event()
        self._thread: threading.Thread | None = None

    # -- starting --------------------------------------------------------------------------------------
    def start(self, workflow_json: str, nproc: int, device: str = "auto", resume: bool = False,
              env: dict[str, str] | None = None) -> ExternalRun:
        """Write the workflow to a temporary file, start the launcher, follow the folder from a thread."""
        fd, name = tempfile.mkstemp(prefix="loom-flow-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(workflow_json)
        self._workflow_file = Path(name)
        fd, name = tempfile.mkstemp(prefix="loom-launcher-", suffix=".log")
        os.close(fd)
        self._stderr_file = Path(name)
        command = launcher_command(self._workflow_file, self.run_dir, nproc, device, resume)
        if resume:  # the folder is read from its start again: a caller's earlier points make way for them
            nodes = [str(n.get("id")) for n in json.loads(workflow_json).get("nodes", [])]
            self._emit_all([ev.Rewind(node_id=n, step=-1) for n in nodes])
        with self._stderr_file.open("wb") as err:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                            env=env,  # the caller's folder: relative data paths mean the same
                                            start_new_session=True)  # its own group: Stop signals every rank
        self._thread = threading.Thread(target=self._follow, name=f"loom-follow-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    # -- steering ----------------------------------------------------------------------------------------
    def stop(self, reason: str = "") -> None:  # noqa: ARG002 - the CLI's own Stop wording is what the folder says
        """Ctrl-C for the whole process group: the ranks stop at their next batch and keep a checkpoint."""
        self._stop_asked.set()
        self._signal(signal.SIGINT)

    def pause(self) -> None:
        self._say(PAUSE_UNSUPPORTED, "warning")

    def resume(self) -> None:
        """Nothing is paused (see :meth:`pause`)."""

    # -- the follower thread ---------------------------------------------------------------------------
    def _follow(self) -> None:
        process = self.process
        assert process is not None
        stop_deadline: float | None = None
        result: RunResult | None = None
        try:
            while True:
                exited = process.poll() is not None
                if self._record_written():
                    self._emit_all(self.follower.poll())
                if exited or self.follower.ended:
                    break
                if self._stop_asked.is_set() and stop_deadline is None:
                    stop_deadline = time.monotonic() + STOP_GRACE_S
                if stop_deadline is not None and time.monotonic() > stop_deadline:
                    self._say(f"the run's processes did not stop within {STOP_GRACE_S:.0f} s: killing them", "warning")
                    self._signal(signal.SIGKILL)
                    stop_deadline = float("inf")
                time.sleep(self.poll_s)
            code = process.wait()
            if self._record_written():
                self._emit_all(self.follower.poll())  # the last rows and the final status, written before exit
            result = self._result(code)
            if not self.follower.ended:  # no final status in the folder: the launcher's own verdict ends the run
                self._emit(ev.RunFinished(run_id=self.run_id, status=result.status, message=result.message))
        except Exception as exc:  # noqa: BLE001 - the handle must end, whatever happened
            log.debug("following %s failed", self.run_dir, exc_info=True)
            result = RunResult(self.run_id, self.run_dir, RunStatus.FAILED,
                               f"internal error while following the run: {type(exc).__name__}: {exc}")
            self._emit(ev.RunFinished(run_id=self.run_id, status=RunStatus.FAILED, message=result.message))
        finally:
            for path in (self._workflow_file, self._stderr_file):
                if path is not None:
                    path.unlink(missing_ok=True)
            self.finish(result or RunResult(self.run_id, self.run_dir, RunStatus.FAILED, "the run ended without a result"))

    def _record_written(self) -> bool:
        """Whether this run wrote run.json yet (a resumed folder holds the last session's until rank 0 starts)."""
        now = _identity(self.run_dir / "run.json")
        return now is not None and now != self._record_before

    def _result(self, code: int) -> RunResult:
        """The folder's final status where rank 0 wrote one, else the launcher's exit code and its last line."""
        said = self._launcher_said()
        status = self.follower.status
        if status:
            message = str((self.follower.info or {}).get("message") or "")
            if status == RunStatus.SUCCEEDED and code != 0:  # rank 0 finished, another rank did not
                return RunResult(self.run_id, self.run_dir, RunStatus.FAILED, said or f"the launcher exited {code}")
            fallback = said if status != RunStatus.SUCCEEDED else ""
            return RunResult(self.run_id, self.run_dir, RunStatus(status), message or fallback, input_error=code == 2)
        if code in (130, -signal.SIGINT) or self._stop_asked.is_set():
            return RunResult(self.run_id, self.run_dir, RunStatus.STOPPED, said or USER_STOP)
        return RunResult(self.run_id, self.run_dir, RunStatus.FAILED,
                         said or f"the run's processes ended with exit code {code} before writing a status",
                         input_error=code == 2)

    def _launcher_said(self) -> str:
        """The launcher's last ``loom:`` line (a rank that died, a rendezvous that failed), or its last line."""
        try:
            lines = [ln.strip() for ln in self._stderr_file.read_text(errors="replace").splitlines() if ln.strip()]
        except (OSError, AttributeError):
            return ""
        told = [ln.removeprefix("loom:").strip() for ln in lines if ln.startswith("loom:")]
        return (told or lines or [""])[-1][:500]

    def _signal(self, sig: int) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)

    def _emit_all(self, events: Sequence[ev.Event]) -> None:
        for event in events:
            self._emit(event)

    def _emit(self, event: ev.Event) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # noqa: BLE001 - a listener's bug must not end the following
                log.exception("a run event listener failed")

    def _say(self, message: str, level: str = "info") -> None:
        self._emit(ev.LogLine(level=level, message=message))


def start_on_processes(engine: Any, workflow: Any, resolved: dict[str, Any], processes: int, *, out_dir: str | Path | None = None,
                       device: str = "auto", on_event: Callable[[ev.Event], None] | None = None,
                       resume_from: str | Path | None = None, runs_root: str | Path = "runs",
                       force: bool = False) -> ExternalRun:
    """``Engine.start`` for several processes: the folder is claimed (or checked for resuming) here, then
    released to rank 0, which locks and writes it; the workflow was validated by the caller."""
    from engine.resume_check import check_resume

    if resume_from is not None:
        resume = check_resume(resume_from, resolved)
        if resume.lock is not None:
            resume.lock.release()  # rank 0 takes it
        run_dir = resume.run_dir
    else:
        run_dir, _moved, lock, _created = engine.claim_new(out_dir, runs_root, workflow.name, force)
        lock.release()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                      env.get("PYTHONPATH", "")]))
    return ExternalRun(run_dir, on_event).start(json.dumps(workflow.to_json()), processes, device,
                                                resume=resume_from is not None, env=env)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
