"""Following a run folder that another process is writing, as the engine events a live run emits.

The run folder is the contract between a run and whoever watches it: a
``loom run`` in a terminal, a ``torchrun`` job on a cluster (rank 0 writes),
or the app's own engine.  :class:`RunFolderFollower` is polled (the app does
it off the GUI thread about twice a second) and turns what appeared since the
last poll — metrics.csv rows, log lines, artifacts and node states in
run.json, the final status — into :mod:`engine.events`, so a followed run
goes through the very code that draws a live one.  No Qt here.
"""

from engine.follow.folder import RunFolderFollower, check_run_folder

__all__ = ["RunFolderFollower", "check_run_folder"]
