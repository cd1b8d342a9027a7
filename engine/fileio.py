"""Files in and out: atomic writes, and reads that turn any damage into a sentence.

Writes go to a temporary file in the same folder, are flushed to disk, then
``os.replace``d over the target (atomic on POSIX and Windows), so a crash
never leaves half a file.  The file gets the permissions any program's new
file gets (0666 less the umask: 0644 under the usual 022), so a colleague can
open a shared export or run folder; replacing a file keeps the mode its owner
gave it.  (``tempfile.mkstemp`` would make every file 0600.)

Every file Loom reads back (workflows, run.json, cards) may have been edited,
truncated or replaced by garbage.  :func:`read_json` is the one door they
come through: whatever is wrong (missing, a folder, not UTF-8, not JSON,
nested absurdly deep, the wrong kind of value) becomes a
:class:`~engine.errors.UserInputError` that names the file and the problem,
never a traceback.  :func:`describe_os_error` does the same for failed writes
(disk full, read-only, no permission).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from engine.errors import UserInputError

# Loom's own JSON files are a few levels deep; anything past this is damage or an attack
# (deep nesting is also what makes json/copy/repr recurse until Python gives up).
MAX_JSON_DEPTH = 64
MAX_JSON_BYTES = 64 * 1024 * 1024


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def atomic_write(path: Path, writer: Callable[[BinaryIO], Any]) -> None:
    """Call ``writer(file)`` on a temp file, then move it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _create_temp(path: Path) -> tuple[int, str]:
    """A new, exclusive temp file beside ``path``, with the mode ``path`` has (or a new file's mode).

    Created with mode 0666 so the kernel applies the process's umask itself: no reading of the umask
    (``os.umask`` can only be read by changing it, which races with other threads' file creation).
    """
    try:
        keep = os.stat(path).st_mode & 0o7777
    except OSError:
        keep = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(path.parent, f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if keep is not None:
            with contextlib.suppress(OSError):  # e.g. a file system without POSIX modes
                os.chmod(tmp, keep)
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


# -- reading -------------------------------------------------------------------------------------------------------
def read_json(path: str | Path, advice: str = "", expect: type | None = dict) -> Any:
    """Parse a JSON file Loom wrote (or was given), or raise UserInputError naming it.

    ``advice`` ends every message about a damaged file ("the run record is
    damaged — start a fresh run"); ``expect`` is the type the top level must
    have (None: any).
    """
    path = Path(path)
    tail = f" — {advice}" if advice else ""
    try:
        if path.is_dir():
            raise UserInputError(f"{path}: is a folder, not a file{tail}")
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise UserInputError(f"{path}: {size // 2**20} MB is far too big for a Loom JSON file{tail}")
        text = path.read_bytes().decode("utf-8-sig")  # a BOM (Windows editors) is not damage
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such file{tail}") from None
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: holds garbage bytes, not text{tail}") from None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot be read ({describe_os_error(exc)}){tail}") from None
    return parse_json(text, str(path), advice, expect)


def parse_json(text: str, source: str, advice: str = "", expect: type | None = dict) -> Any:
    """``json.loads`` with every failure (syntax, depth, shape) as a UserInputError naming ``source``."""
    tail = f" — {advice}" if advice else ""
    if not text.strip():
        raise UserInputError(f"{source}: the file is empty{tail}")
    too_deep = False
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}){tail}") \
            from None
    except ValueError as exc:  # e.g. a number with more digits than Python converts
        raise UserInputError(f"{source}: not valid JSON ({str(exc)[:120]}){tail}") from None
    except RecursionError:  # deeper than Python's parser goes
        data, too_deep = None, True
    if too_deep or json_depth(data) > MAX_JSON_DEPTH:
        raise UserInputError(f"{source}: nested more than {MAX_JSON_DEPTH} levels deep (not a Loom file){tail}")
    if expect is not None and not isinstance(data, expect):
        raise UserInputError(f"{source}: holds {json_type(data)} where a JSON {json_type_name(expect)} is "
                             f"expected{tail}")
    return data


def json_depth(value: Any) -> int:
    """How deeply lists/objects nest (iteratively, so a deep value cannot blow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def json_type_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "object", list: "list", str: "text", int: "whole number", float: "number", bool: "true/false",
             type(None): "null"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def json_type(value: Any) -> str:
    """``a list``, ``text "abc"``...: what a JSON value is, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, (dict, list)):
        return f"a JSON {json_type_name(type(value))}"
    shown = repr(value)
    return f"{json_type_name(type(value))} {shown[:40]}{'…' if len(shown) > 40 else ''}"


# -- writing problems ----------------------------------------------------------------------------------------------
_WRITE_PROBLEMS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a file is in the way of a folder",
    errno.EISDIR: "a folder is in the way of a file",
    errno.EEXIST: "something is already there",
    errno.ENAMETOOLONG: "the name is too long",
}


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def describe_os_error(exc: OSError) -> str:
    """``read-only file system`` / ``no space left on device`` / the system's own words."""
    return _WRITE_PROBLEMS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()


def problem_folder(exc: OSError, fallback: Path) -> Path:
    """The folder a failed write was aimed at (a write() error carries no file name)."""
    name = exc.filename if isinstance(exc.filename, str) else None
    return Path(name).parent if name else Path(fallback)


def space_needed_mb(folder: Path) -> int:
    """A sane amount of space to ask for: twice the biggest file written so far, at least 100 MB.

    (An atomic write holds the old and the new file at once; checkpoints are the big files.)
    """
    biggest = 0
    with contextlib.suppress(OSError):
        for i, path in enumerate(Path(folder).rglob("*")):
            if i > 10000:
                break
            with contextlib.suppress(OSError):
                if path.is_file():
                    biggest = max(biggest, path.stat().st_size)
    return max(100, -(-2 * biggest // 2**20))


def disk_full_message(folder: Path, run_dir: Path | None = None) -> str:
    """The one line a user reads when the disk fills up: where, how much, and how to carry on."""
    root = run_dir or folder
    then = f"`loom run WORKFLOW --resume {run_dir}`" if run_dir else "try again"
    return f"no space left on device in {folder}; free {space_needed_mb(root)} MB and {then}"


def write_failure_message(exc: OSError, fallback: Path, run_dir: Path | None = None) -> str:
    """One line for a failed write: disk full gets its own sentence, the rest name folder and cause."""
    folder = problem_folder(exc, fallback)
    if is_disk_full(exc):
        return disk_full_message(folder, run_dir)
    return f"cannot write in {folder} ({describe_os_error(exc)}) — make it writable or pick another folder"


def check_output_file(path: str | Path, option: str) -> Path:
    """Refuse, before any work, an output file path that cannot be a file (a folder, a read-only place)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserInputError(f"{option} {path}: is a folder — give a file name, e.g. {path / 'out.csv'}")
    parent = path.parent
    if not parent.exists():
        raise UserInputError(f"{option} {path}: there is no folder {parent} — create it or pick another place")
    if not parent.is_dir():
        raise UserInputError(f"{option} {path}: {parent} is a file, not a folder — pick another place")
    if not os.access(parent, os.W_OK):
        raise UserInputError(f"{option} {path}: cannot write in {parent} (read-only) — pick another place")
    return path


def write_output_text(path: Path, text: str, option: str) -> None:
    """Atomically write a user-named output file; any failure is one UserInputError line."""
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        if is_disk_full(exc):
            raise UserInputError(f"{option} {path}: {disk_full_message(problem_folder(exc, path.parent))}") from None
        raise UserInputError(f"{option} {path}: cannot be written ({describe_os_error(exc)})") from None
