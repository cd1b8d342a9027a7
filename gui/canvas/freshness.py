"""Which results on the canvas are out of date: the node's recipe now versus when it ran.

A node's result depends on its step type, its parameters and, through the
links into it, on everything upstream (the runner's cache key is built the
same way).  Positions do not count.  Comparing a fingerprint of that recipe
taken when the run started with the one of the document now tells, after any
edit (and after undoing it), which badges describe a result that the
workflow on screen would no longer produce.
"""

from __future__ import annotations

import hashlib
import json

from engine.workflow import Workflow


def fingerprints(workflow: Workflow) -> dict[str, str]:
    """A short digest per node of what its result depends on (type, params, upstream recipe)."""
    feeds: dict[str, list[tuple[str, str, str]]] = {}
    for link in workflow.links:
        feeds.setdefault(link.target.node, []).append((link.target.port, link.source.node, link.source.port))
    by_id = {node.id: node for node in workflow.nodes}
    done: dict[str, str] = {}

    def digest(node_id: str, visiting: frozenset[str]) -> str:
        if node_id in done:
            return done[node_id]
        node = by_id.get(node_id)
        if node is None or node_id in visiting:  # a dangling link or a loop: validation reports it
            return f"<{node_id}>"
        inputs = sorted(
            (port, digest(source, visiting | {node_id}), source_port)
            for port, source, source_port in feeds.get(node_id, [])
        )
        text = json.dumps([node.type, node.params, inputs], sort_keys=True, default=str)
        done[node_id] = hashlib.sha1(text.encode()).hexdigest()[:16]
        return done[node_id]

    return {node.id: digest(node.id, frozenset()) for node in workflow.nodes}
