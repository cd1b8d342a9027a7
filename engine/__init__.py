"""Loom's engine: workflows, steps, runs. Headless: this package never imports Qt.

The public API is small::

    from engine import Engine, Workflow, validate
    result = Engine().run(Workflow.load("flow.json"), out_dir="runs/r1")
"""

from __future__ import annotations

__version__ = "0.1.0"

from engine.runner import Engine, RunHandle, RunResult, WorkflowInvalid  # noqa: E402
from engine.validation import Problem, validate  # noqa: E402
from engine.workflow import Link, Node, Workflow  # noqa: E402

__all__ = ["Engine", "Link", "Node", "Problem", "RunHandle", "RunResult", "Workflow", "WorkflowInvalid", "validate"]
