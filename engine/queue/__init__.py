"""The run queue: workflows lined up in the run index, run one at a time per device (see store.py, runner.py)."""

from engine.queue.owners import device_slot, drop_owner, new_owner, owner_alive
from engine.queue.runner import QueueRunner
from engine.queue.store import (
    ENDED,
    WAITING,
    QueueEntry,
    QueueState,
    RunQueue,
    check_workflow,
    start_kwargs,
    state_after,
)

__all__ = ["ENDED", "WAITING", "QueueEntry", "QueueRunner", "QueueState", "RunQueue", "check_workflow",
           "device_slot", "drop_owner", "new_owner", "owner_alive", "start_kwargs", "state_after"]
