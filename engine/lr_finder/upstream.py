"""The inputs of one node, computed the way a run computes them: through the node cache.

The range test needs what reaches the train step (the dataset after its
preprocessing, the model's spec), not a run.  This executes only the nodes
that feed the train step, in the runner's order and with the runner's cache
keys (:func:`engine.cache.node_key`, the same type, version, params, device
and input keys), so data a run has already prepared comes from the cache at
once, and what the finder prepares is there for the next run.  Steps write
their side files (reports, cards) into a throw-away folder, never a run's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.cache import NodeCache, node_key
from engine.context import RunControl, StepContext
from engine.errors import UserInputError
from engine.names import CachePolicy
from engine.node_warnings import WarningCollector, cached_warnings, keep_warnings
from engine.steps.registry import get_step
from engine.validation import resolved_params, topological_order
from engine.workflow import Workflow


def feeding(workflow: Workflow, node_id: str) -> Workflow:
    """The sub-workflow of ``node_id`` and every node upstream of it (the rest is not needed to feed it)."""
    keep, todo = {node_id}, [node_id]
    while todo:
        for link in workflow.links_into(todo.pop()):
            if link.source.node not in keep:
                keep.add(link.source.node)
                todo.append(link.source.node)
    sub = workflow.copy()
    sub.nodes = [n for n in sub.nodes if n.id in keep]
    sub.links = [lk for lk in sub.links if lk.source.node in keep and lk.target.node in keep]
    return sub


def node_inputs(workflow: Workflow, node_id: str, device: str, cache: NodeCache, bus: ev.EventBus,
                control: RunControl) -> dict[str, Any]:
    """Run (or take from ``cache``) the nodes upstream of ``node_id``; the values on its input ports.

    ``workflow`` must be valid.  A step's :class:`UserInputError` comes back
    naming its node, as a run's failed node does.
    """
    sub = feeding(workflow, node_id)
    keys: dict[str, str] = {}
    outputs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="loom-lr-finder-") as scratch:
        for nid in topological_order(sub):
            if nid == node_id:
                break
            control.check()
            outputs[nid], keys[nid] = _output(sub, nid, device, cache, bus, control, Path(scratch), outputs, keys)
    return {lk.target.port: outputs[lk.source.node][lk.source.port] for lk in sub.links_into(node_id)}


def _output(wf: Workflow, nid: str, device: str, cache: NodeCache, bus: ev.EventBus, control: RunControl,
            scratch: Path, outputs: dict[str, dict[str, Any]], keys: dict[str, str]) -> tuple[dict[str, Any], str]:
    node = wf.node(nid)
    assert node is not None
    spec = get_step(node.type)
    assert spec is not None, f"unknown step type {node.type!r} in a validated workflow"
    params = resolved_params(spec, node.params)
    links = wf.links_into(nid)
    input_keys = {lk.target.port: f"{keys[lk.source.node]}:{lk.source.port}" for lk in links}
    if spec.fingerprint is not None:
        input_keys["@source"] = spec.fingerprint(params)
    key = node_key(spec.type, spec.version, params, device, input_keys)
    if spec.cache != CachePolicy.NONE:
        cached = cache.get(key, from_disk=spec.cache == CachePolicy.DISK)
        if cached is not None:
            bus.emit(ev.LogLine(level="info", message="cached: inputs and settings unchanged", node_id=nid))
            for warning in cached_warnings(cached):  # what the step warned about still holds
                bus.emit(ev.LogLine(level="warning", message=f"(when it was computed) {warning}", node_id=nid))
            return cached, key
    ctx = StepContext(node_id=nid, params=dict(params),
                      inputs={lk.target.port: outputs[lk.source.node][lk.source.port] for lk in links},
                      device=device, run_dir=scratch, bus=bus, control=control)
    bus.emit(ev.LogLine(level="info", message="preparing (needed by the learning-rate finder)", node_id=nid))
    warned = WarningCollector(nid)
    stop_listening = bus.subscribe(warned)
    try:
        result = spec.run(ctx) or {}
    except UserInputError as exc:
        raise UserInputError(f"{nid}: {exc}") from None
    finally:
        stop_listening()
    if spec.cache != CachePolicy.NONE:
        keep_warnings(result, warned.lines)
        cache.put(key, result, to_disk=spec.cache == CachePolicy.DISK)
    return result, key
