"""May this workflow continue that run?  Checked before anything is touched.

``--resume RUN`` continues a run in its own folder from its checkpoints.  It
only makes sense with the workflow that ran there: the same nodes, step
types and links, and the same settings, except a few that only say how long
or how often (more epochs, a bigger time budget).  Anything else would mix
two experiments in one folder, so it is refused, one line per difference,
and the run is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import UserInputError
from engine.params import ParamError
from engine.refusal import RunRefused
from engine.run_files import RECORD_KEYS, WORKFLOW_DAMAGED, WORKFLOW_JSON, read_metrics, read_run
from engine.run_folder import RunLock, links_out_of, lock_run
from engine.steps.registry import get_step
from engine.validation import resolved_params
from engine.workflow import Workflow

# Params that only say how long or how often: safe to change between segments of one run.
SAFE_ON_RESUME = frozenset({"epochs", "time_budget", "sample_every", "checkpoint_every", "log_every", "patience"})


@dataclass
class ResumePlan:
    """A resume that passed every check: the run's record, what changed, and the held folder lock."""

    run_dir: Path
    previous: dict[str, Any]
    changes: list[str] = field(default_factory=list)
    lock: RunLock | None = None


def check_resume(run_dir: str | Path, workflow_json: dict[str, Any]) -> ResumePlan:
    """Check ``run_dir`` can be continued by ``workflow_json`` (resolved params); RunRefused otherwise.

    On success the run folder's lock is held (release it when the run ends).
    """
    run_dir = Path(run_dir).expanduser()
    if not run_dir.exists():
        raise RunRefused([f"--resume {run_dir}: no such run folder — give the folder of the run to continue "
                          "(`loom runs` lists them)"])
    try:
        previous = read_run(run_dir, RECORD_KEYS)
        ran = Workflow.load(run_dir / WORKFLOW_JSON, WORKFLOW_DAMAGED)
        read_metrics(run_dir, strict=True)
    except UserInputError as exc:
        raise RunRefused(str(exc).splitlines()) from None  # each line names the damaged file
    links = links_out_of(run_dir)
    if links:
        raise RunRefused([f"{link}: is a link out of the run folder — a resumed run would write through it; "
                          "remove it, or start a fresh run" for link in links[:10]])
    differences, changes = compare_workflows(ran.to_json(), workflow_json)
    if differences:
        raise RunRefused([
            f"cannot resume {run_dir}: this workflow differs from the one that ran there:",
            *(f"  {line}" for line in differences),
            f"{run_dir} was left untouched — to run this workflow, start a fresh run (drop --resume); only "
            f"{', '.join(sorted(SAFE_ON_RESUME))} may change when resuming",
        ])
    lock = lock_run(run_dir, "resume it")
    return ResumePlan(run_dir, previous, changes, lock)


def compare_workflows(ran: dict[str, Any], now: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``(refused differences, allowed changes)`` between the run's workflow and the one given now."""
    before = {n["id"]: n for n in ran["nodes"]}
    after = {n["id"]: n for n in now["nodes"]}
    refused: list[str] = []
    allowed: list[str] = []
    for node_id in before.keys() - after.keys():
        refused.append(f"node '{node_id}' ({before[node_id]['type']}) ran there but is not in this workflow")
    for node_id in after.keys() - before.keys():
        refused.append(f"node '{node_id}' ({after[node_id]['type']}) is new in this workflow")
    for node_id in sorted(before.keys() & after.keys()):
        old, new = before[node_id], after[node_id]
        if old["type"] != new["type"]:
            refused.append(f"node '{node_id}' was a '{old['type']}' step there but is a '{new['type']}' step now")
            continue
        old_params, new_params = _resolved(old), _resolved(new)
        for name in sorted(old_params.keys() | new_params.keys()):
            a, b = old_params.get(name), new_params.get(name)
            if a == b:
                continue
            change = f"node '{node_id}', param '{name}': {_show(a)} there, {_show(b)} now"
            (allowed if name in SAFE_ON_RESUME else refused).append(change)
    links_before = {(lk["source"], lk["target"]) for lk in ran["links"]}
    links_after = {(lk["source"], lk["target"]) for lk in now["links"]}
    for src, dst in sorted(links_before - links_after):
        refused.append(f"link {src} -> {dst} ran there but is not in this workflow")
    for src, dst in sorted(links_after - links_before):
        refused.append(f"link {src} -> {dst} is new in this workflow")
    return refused, allowed


def _resolved(node: dict[str, Any]) -> dict[str, Any]:
    """A node's params with defaults filled in, in JSON form (so 3 and 3.0, tuples and lists compare equal)."""
    spec = get_step(node["type"])
    params = dict(node.get("params") or {})
    if spec is not None:
        with contextlib.suppress(ParamError, TypeError, ValueError):  # an old value now refused: compared as written
            params = resolved_params(spec, params)
    return json.loads(json.dumps(params, default=str))


def _show(value: Any) -> str:
    text = "(not set)" if value is None else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
