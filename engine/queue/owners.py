"""Who runs a queue entry, and whether they still do: owner tokens, process liveness, device slots.

An entry taken by a runner carries the runner's token ``host/pid/random``.
The entry counts as interrupted once that runner is gone: its process ended
(however: a crash leaves no trace but a dead pid), or, in this process, the
runner was dropped (its window closed).  Another machine's processes cannot be
looked at, so its entries count as alive; the run folder's lock protects them.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import uuid
from pathlib import Path

_HOST = socket.gethostname()
_live_owners: set[str] = set()  # the owners (runners) alive in this process
_live_lock = threading.Lock()


def new_owner() -> str:
    """A token for one runner: ``host/pid/random``; alive until :func:`drop_owner` or the process ends."""
    token = f"{_HOST}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
    with _live_lock:
        _live_owners.add(token)
    return token


def drop_owner(token: str) -> None:
    """This runner is gone (its window closed): entries it left *running* count as interrupted."""
    with _live_lock:
        _live_owners.discard(token)


def owner_alive(token: str) -> bool:
    """Whether the runner ``token`` may still be running its entry (another host's: assumed so)."""
    host, _, rest = token.partition("/")
    pid_text, _, _ = rest.partition("/")
    if host != _HOST:
        return True  # cannot look at another machine's processes; its run folder lock still protects the run
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _live_lock:
            return token in _live_owners
    return pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on Windows ``os.kill(pid, 0)`` would end it, so ask the kernel there)."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000 | 0x00100000, False, pid)  # QUERY_LIMITED_INFORMATION | SYNCHRONIZE
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists, it is someone else's
        try:
            return kernel32.WaitForSingleObject(handle, 0) == 0x102  # WAIT_TIMEOUT: still running
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return False
    return True


def device_slot(device: str) -> str:
    """What a device string occupies: ``cuda`` is ``cuda:0``; ``auto`` is whatever it picks on this machine."""
    if device == "auto":
        device = _auto_device()
    if device == "cuda":
        return "cuda:0"
    return device


_auto: list[str] = []


def _auto_device() -> str:
    if not _auto:
        try:
            from engine.device import select_device

            _auto.append(select_device("auto")[0])
        except Exception:  # noqa: BLE001 - no torch here: every "auto" shares one slot
            _auto.append("auto")
    return _auto[0]


def being_written(run_dir: str | None) -> bool:
    """A live process holds the run folder's lock (a child `loom run`, another machine over a share)."""
    from engine.run_folder import RunLock

    if not run_dir or not Path(run_dir).is_dir():
        return False
    return not RunLock(Path(run_dir)).acquire_and_release()
