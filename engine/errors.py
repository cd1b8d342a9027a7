"""Exceptions with a meaning for the user.

``UserInputError`` is the user's to fix (a missing file, a bad column name):
the CLI exits 2 and the GUI shows the message on the node.  ``RunStopped``
is the cooperative answer to Stop.  Anything else escaping a step is a
failure during the run (CLI exit 1); its traceback goes to the log file only.
"""

from __future__ import annotations


class LoomError(Exception):
    """Base of Loom's own errors; ``str()`` is a finished, user-facing sentence."""


class UserInputError(LoomError):
    """Bad input the user can fix; the message names the file/field and what to do."""


class RunStopped(LoomError):
    """Raised inside a step when the user asked the run to stop."""


class TrainingDiverged(LoomError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""
