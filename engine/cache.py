"""The per-node output cache.

A node's key is a hash of its step type and version, its resolved params, the
device and its inputs' keys, so a change anywhere upstream changes every key
below it.  Outputs live in memory for the process (the GUI re-runs often) and,
for steps declared ``cache="disk"``, also on disk so a second ``loom run`` can
reuse them.  Disk entries are written with ``torch.save`` of plain tensors and
read back with ``torch.load(weights_only=True)``: nothing is unpickled.

Steps that only relabel their input (split, augment, a new normalisation of
uint8 images) hand on the very same sample tensor.  Such an entry is saved as
a reference (``x_from``: the entry and output that hold the samples) instead
of another copy, and loading it shares that entry's tensor, so a warm run
holds the samples once, not once per node.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.fileio import atomic_write

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    env = os.environ.get("LOOM_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "loom" / "nodes"


#: How entries are stored.  Part of every key, so entries written before a change of storage (2: uint8
#: pixels and ``x_from`` references) are never read by code that expects the other form, either way.
CACHE_FORMAT = 2


def node_key(step_type: str, version: int, params: dict[str, Any], device: str, input_keys: dict[str, str]) -> str:
    payload = json.dumps(
        {"type": step_type, "v": version, "params": params, "device": device, "inputs": input_keys,
         "format": CACHE_FORMAT},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


class NodeCache:
    """Memory LRU plus an optional disk tier for ``to_state``-able outputs."""

    def __init__(self, disk_dir: Path | None = None, max_memory_entries: int = 32) -> None:
        self.disk_dir = disk_dir
        self._writers: list[threading.Thread] = []  # disk writes still under way (put(wait=False)), in order
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._max = max_memory_entries
        self._lock = threading.Lock()
        # id(sample tensor) -> (weak reference to it, entry key, output name) of what this process saved
        self._saved_x: dict[int, tuple[weakref.ref, str, str]] = {}

    def get(self, key: str, from_disk: bool) -> dict[str, Any] | None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        if from_disk and self.disk_dir is not None:
            outputs = self._load(key)
            if outputs is not None:
                self._remember(key, outputs)
            return outputs
        return None

    def put(self, key: str, outputs: dict[str, Any], to_disk: bool, wait: bool = True) -> None:
        """Keep ``outputs`` in memory and, with ``to_disk``, on disk.

        ``wait=False`` writes the disk entry on a thread of its own, so the run
        goes on (a decoded folder is tens of MB to serialise and fsync) while
        it is written; :meth:`flush` waits for such writes.  The outputs must
        not change afterwards: cached values are shared, never modified.
        """
        self._remember(key, outputs)
        if not to_disk or self.disk_dir is None:
            return
        if wait:
            self._save_or_warn(key, outputs)
            return
        with self._lock:
            previous = self._writers[-1] if self._writers else None
            writer = threading.Thread(target=self._save_after, args=(previous, key, outputs),
                                      name=f"cache-write-{key[:8]}")
            self._writers.append(writer)
        writer.start()

    def flush(self) -> None:
        """Wait until every disk write that ``put(wait=False)`` started has ended."""
        with self._lock:
            writers, self._writers = self._writers, []
        for writer in writers:
            writer.join()

    def _save_after(self, previous: threading.Thread | None, key: str, outputs: dict[str, Any]) -> None:
        """Entries are written in the order they were put: a later one may refer to an earlier one's file."""
        if previous is not None:
            previous.join()
        self._save_or_warn(key, outputs)

    def _save_or_warn(self, key: str, outputs: dict[str, Any]) -> None:
        try:
            self._save(key, outputs)
        except Exception as exc:  # a full disk must not fail the run
            log.warning("could not write the node cache (%s); continuing without it", exc)

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()

    def _remember(self, key: str, outputs: dict[str, Any]) -> None:
        with self._lock:
            self._memory[key] = outputs
            self._memory.move_to_end(key)
            while len(self._memory) > self._max:
                self._memory.popitem(last=False)

    def _path(self, key: str) -> Path:
        assert self.disk_dir is not None
        return self.disk_dir / f"{key}.pt"

    def _save(self, key: str, outputs: dict[str, Any]) -> None:
        import torch

        states = {name: value.to_state() for name, value in outputs.items()}
        for name, value in outputs.items():
            x = getattr(value, "x", None)
            if not isinstance(x, torch.Tensor) or not x.numel() or "x" not in states[name]:
                continue
            with self._lock:
                known = self._saved_x.get(id(x))
            if known is not None and known[0]() is x and self._path(known[1]).exists():
                states[name]["x"] = torch.empty(0)
                states[name]["x_from"] = [known[1], known[2]]  # the samples are there already
            else:
                self._holds(x, key, name)
        atomic_write(self._path(key), lambda f: torch.save(states, f))

    def _holds(self, x: Any, key: str, name: str) -> None:
        """Remember that entry ``key`` holds the samples ``x`` (as output ``name``), for later entries to refer to."""
        with self._lock:
            self._saved_x = {i: v for i, v in self._saved_x.items() if v[0]() is not None}
            self._saved_x[id(x)] = (weakref.ref(x), key, name)

    def _load(self, key: str) -> dict[str, Any] | None:
        import torch

        from engine.data.datasets import dataset_from_state

        path = self._path(key)
        if not path.exists():
            return None
        try:
            states = torch.load(path, map_location="cpu", weights_only=True)
            for state in states.values():
                if "x_from" in state:
                    ref_key, ref_name = state["x_from"]
                    held = self.get(str(ref_key), from_disk=True)
                    if held is None or str(ref_name) not in held:
                        return None  # the entry holding the samples is gone: recompute
                    state["x"] = held[str(ref_name)].x
            outputs = {name: dataset_from_state(state) for name, state in states.items()}
        except Exception as exc:  # corrupt or old entry: recompute
            log.info("ignoring unreadable cache entry %s (%s)", path.name, exc)
            return None
        for name, value in outputs.items():
            if "x_from" not in states[name] and isinstance(getattr(value, "x", None), torch.Tensor):
                self._holds(value.x, key, name)
        return outputs


WHOLE_FILE_BYTES = 1 << 20  # files up to this size are hashed whole
EDGE_BYTES = 64 << 10  # larger files: this much of their start and of their end


def path_fingerprint(path: str | Path) -> str:
    """Identity of a file or folder tree, content included: changed pixels with the same name,
    size and mtime (a copy that preserves times, an editor that restores them) still change it.

    Used by path-based sources (``StepSpec.fingerprint``) so that editing the
    folder or file invalidates the cached dataset.  To stay cheap on every run,
    files up to 1 MB are hashed whole and larger ones by their size, mtime and
    first and last 64 KB (an edit inside a large file almost always moves its
    tail or its time).  The tree is walked with ``os.scandir`` and plain
    strings (a 10,000-image folder costs ~0.1 s, not ~0.5 s with pathlib);
    files, order and hashed bytes are what ``rglob("*")`` gave, so keys made
    before stay valid.
    """
    root = Path(path).expanduser()
    try:
        if not root.exists():
            return "missing"
        is_file = root.is_file()
    except (OSError, ValueError):  # a name the OS refuses; the preflight has said so
        return "unusable"
    h = hashlib.blake2b(digest_size=16)
    top = os.fspath(root)
    entries = [(top, ())] if is_file else sorted(_tree_files(top, ()), key=lambda e: e[1])
    for full, parts in entries:
        shown = "/".join((root.name, *parts)) if root.name else "/".join(parts)
        try:
            st = os.stat(full)
            h.update(f"{shown}|{st.st_size}|{st.st_mtime_ns}\n".encode())
            _hash_content(h, full, st.st_size)
        except OSError:
            h.update(f"{shown}|unreadable\n".encode())
    return h.hexdigest()[:24]


def _tree_files(folder: str, parts: tuple[str, ...]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(path, its parts below the root) of every file under ``folder``; like ``rglob``, it lists linked files
    and does not enter linked folders."""
    try:
        with os.scandir(folder) as listing:
            found = list(listing)
    except OSError:
        return
    for entry in found:
        try:
            if entry.is_dir(follow_symlinks=True):
                if not entry.is_symlink():
                    yield from _tree_files(entry.path, (*parts, entry.name))
            elif entry.is_file(follow_symlinks=True):
                yield entry.path, (*parts, entry.name)
        except OSError:
            continue


def _hash_content(h: hashlib.blake2b, path: str, size: int) -> None:
    with open(path, "rb") as f:
        if size <= WHOLE_FILE_BYTES:
            h.update(f.read())
            return
        h.update(f.read(EDGE_BYTES))
        f.seek(-EDGE_BYTES, os.SEEK_END)
        h.update(f.read(EDGE_BYTES))
