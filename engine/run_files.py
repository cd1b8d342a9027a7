"""Reading a run folder back: run.json and metrics.csv, checked before anyone trusts them.

A run folder outlives the process that wrote it: it is copied, edited,
truncated by a full disk or tampered with.  Every command that reads one
(``compare``, ``generate``, ``predict``, ``--resume``, the index rebuild, the
app's dashboard) comes through here, so a damaged file is always one
:class:`~engine.errors.UserInputError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from engine.errors import UserInputError
from engine.fileio import describe_os_error, json_type, json_type_name, read_json

RUN_JSON = "run.json"
METRICS_CSV = "metrics.csv"
WORKFLOW_JSON = "workflow.json"
METRIC_FIELDS = ("step", "epoch", "node", "name", "value", "time")

_NUMBER = (int, float)
# run.json keys and the JSON types they may hold (type(None): null allowed).
_KINDS: dict[str, tuple[type, ...]] = {
    "status": (str,), "nodes": (dict,), "artifacts": (list,), "run_id": (str,), "workflow": (str,), "message": (str,), "device": (str,), "device_reason": (str,),
    "started": (str, type(None)), "finished": (str, type(None)), "duration_s": (*_NUMBER, type(None)),
    "versions": (dict,), "seeds": (dict,), "timings": (dict,), "segments": (list,), "resumed_from": (str,),
}
DAMAGED = "the run record is damaged"
WORKFLOW_DAMAGED = "the run's copy of its workflow is damaged"
RECORD_KEYS = ("status", "nodes", "artifacts")  # what --resume and compare rely on


def read_run(run_dir: str | Path, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """run.json of a run folder, checked: UserInputError naming the file and the fault otherwise.

    Every key present must hold the type Loom writes; ``required`` keys must
    be there (each command asks for what it uses: ``generate`` the artifacts...).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        what = "is a file, not a run folder" if run_dir.exists() else "no such run folder"
        raise UserInputError(f"{run_dir}: {what} — pass the folder a run wrote (see `loom runs`)")
    path = run_dir / RUN_JSON
    if not path.exists() and not path.is_symlink():
        raise UserInputError(f"{run_dir}: not a Loom run folder (no {RUN_JSON}) — pass the folder a run wrote")
    info = read_json(path, DAMAGED)
    problems = run_record_problems(info, required)
    if problems:
        raise UserInputError(f"{path}: {problems[0]} — {DAMAGED}")
    return info


def run_record_problems(info: dict[str, Any], required: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a parsed run.json (missing keys, wrong types); empty when it is sound."""
    problems = [f"no \"{key}\"" for key in required if key not in info]
    for key, kinds in _KINDS.items():
        value = info.get(key)
        if key in info and (not isinstance(value, kinds) or isinstance(value, bool)):
            problems.append(f"\"{key}\" holds {json_type(value)}, not {json_type_name(kinds)}")
    for node_id, node in (info.get("nodes") or {}).items() if isinstance(info.get("nodes"), dict) else ():
        if not isinstance(node, dict):
            problems.append(f"node '{node_id}' holds {json_type(node)} instead of an object")
        elif "report" in node and not isinstance(node["report"], dict):
            problems.append(f"the report of node '{node_id}' holds {json_type(node['report'])}")
    for i, art in enumerate(info.get("artifacts") or []) if isinstance(info.get("artifacts"), list) else ():
        fields = ("node", "kind", "path")
        if not isinstance(art, dict) or not all(isinstance(art.get(k), str) for k in fields):
            problems.append(f"artifact #{i + 1} is not an object with text node, kind and path")
        elif not is_relative_inside(art["path"]):
            problems.append(f"artifact #{i + 1} points outside the run folder ({art['path'][:80]})")
    return problems


def is_relative_inside(path: str) -> bool:
    """True for a relative path that stays inside its folder (no drive, no root, no ``..``)."""
    for flavour in (PurePosixPath(path), PureWindowsPath(path)):
        if flavour.is_absolute() or flavour.drive or flavour.root or ".." in flavour.parts:
            return False
    return bool(path.strip())


def artifact_path(run_dir: Path, entry: dict[str, Any]) -> Path:
    """The file of a checked artifact entry (read_run refused entries pointing outside the run)."""
    return Path(run_dir) / entry["path"]


def read_metrics(run_dir: str | Path, strict: bool = False) -> list[dict[str, Any]]:
    """Rows of metrics.csv with numbers parsed.

    A crash can leave a torn last line, which is always skipped.  Anything
    else that is wrong (garbage bytes, a foreign header, a bad row in the
    middle) is skipped too unless ``strict``: then it is a UserInputError
    naming the file and line (``--resume`` must not append to a damaged file).
    """
    path = Path(run_dir) / METRICS_CSV
    if not path.exists():
        return []
    if path.is_dir():
        if strict:
            raise UserInputError(f"{path}: is a folder, not a file — the metrics file is damaged; move it away to "
                                 "continue without the earlier curves, or start a fresh run")
        return []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        if strict:
            raise UserInputError(f"{path}: cannot be read ({describe_os_error(exc)})") from None
        return []
    fault = _metrics_fault(raw)
    if fault and strict:
        raise UserInputError(f"{path}: {fault} — the metrics file is damaged; move it away to continue "
                             "without the earlier curves, or start a fresh run")
    text = raw.decode("utf-8", errors="replace").replace("\0", "")
    lines = text.splitlines()
    torn = bool(lines) and not text.endswith("\n")
    rows = []
    reader = csv.reader(lines[1:])
    for number, values in enumerate(reader, start=2):
        row = _metric_row(values)
        if row is not None:
            rows.append(row)
        elif strict and not (torn and number == len(lines)):
            raise UserInputError(f"{path}: line {number} is not {','.join(METRIC_FIELDS)} — the metrics file is "
                                 "damaged; move it away to continue without the earlier curves, or start a fresh run")
    return rows


def _metrics_fault(raw: bytes) -> str:
    if b"\0" in raw:
        return "holds garbage bytes"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "is not text (garbage bytes)"
    header = text.split("\n", 1)[0].strip()
    if text and header != ",".join(METRIC_FIELDS):
        return f"its first line is not the header {','.join(METRIC_FIELDS)}"
    return ""


def _metric_row(values: list[str]) -> dict[str, Any] | None:
    if len(values) != len(METRIC_FIELDS):
        return None
    try:
        return {
            "step": int(values[0]),
            "epoch": int(values[1]),
            "node": values[2],
            "name": values[3],
            "value": float(values[4]),
            "time": float(values[5]),
        }
    except ValueError:
        return None
