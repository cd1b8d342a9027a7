"""Why a run was refused before it started: the workflow, or the run folder.

Both are :class:`WorkflowInvalid`, so every caller of ``Engine.start`` (the
CLI, the app's Run button) handles them in the one place it already handles
an invalid workflow: a list of problems, nothing started, nothing written.
"""

from __future__ import annotations

from engine.errors import UserInputError
from engine.validation import Problem


class WorkflowInvalid(UserInputError):
    """Validation found problems; ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class RunRefused(WorkflowInvalid):
    """The run folder cannot be used as asked (taken, unwritable, a different workflow to resume).

    ``str()`` is the plain lines (the CLI prints them as they are); ``problems``
    carries the same lines for callers that list problems.
    """

    def __init__(self, lines: list[str]) -> None:
        UserInputError.__init__(self, "\n".join(lines))
        self.problems = [Problem("", "", line) for line in lines]
        self.lines = lines
