"""A problem found in a workflow before it runs: which node, which field, what to do.

Kept apart from :mod:`engine.validation` so that step declarations (which the
validator imports) can build problems too without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    node_id: str  # "" for workflow-wide problems
    field: str  # "param 'epochs'", "input 'data'", "type", "link", "id"
    message: str

    def __str__(self) -> str:
        where = f"node '{self.node_id}'" if self.node_id else "workflow"
        return f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


# What a step's own checks return: (field, message) pairs; the caller adds the node id.
Issue = tuple[str, str]


def param_field(name: str) -> str:
    """The field text of a param, as every problem about a param spells it."""
    return f"param '{name}'"
