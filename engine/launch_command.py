"""The command lines that run a workflow on several processes or machines.

One place writes them, so the app's *Run Settings* (which shows them, ready
to copy) and the README say exactly what ``loom run`` accepts.  The flags are
``loom run``'s own (``--nproc``, ``--nnodes``, ``--node-rank``,
``--rdzv-endpoint``), which start the workers through
``torch.distributed.run``; the ``torchrun`` form is shown too, for clusters
whose schedulers launch torchrun themselves.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

DEFAULT_PORT = 29500
PLACEHOLDER_HOST = "HOST"


@dataclass(frozen=True)
class DistributedPlan:
    """Where the workers run: ``nproc`` processes on each of ``nnodes`` machines."""

    workflow: str
    nproc: int = 1
    nnodes: int = 1
    endpoint: str = f"{PLACEHOLDER_HOST}:{DEFAULT_PORT}"  # the first machine's address, which every machine can reach

    @property
    def world_size(self) -> int:
        return self.nproc * self.nnodes

    def problems(self) -> list[str]:
        """What keeps the plan from running, one sentence each (empty when it can run)."""
        found = []
        if self.nproc < 1:
            found.append(f"processes per machine must be 1 or more (got {self.nproc})")
        if self.nnodes < 1:
            found.append(f"machines must be 1 or more (got {self.nnodes})")
        if self.nnodes > 1:
            host, _, port = self.endpoint.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                found.append(f"rendezvous endpoint '{self.endpoint}' is not HOST:PORT (e.g. node01:{DEFAULT_PORT})")
        return found


NODE_RANK_VARIABLE = "$NODE_RANK"


def _join(args: list[str]) -> str:
    """A shell line: every word quoted as needed, except a ``$VARIABLE`` the shell must expand."""
    return " ".join(a if a.startswith("$") and a[1:].replace("_", "").isalnum() else shlex.quote(a) for a in args)


def loom_command(plan: DistributedPlan, node_rank: int | str = 0) -> str:
    """The ``loom run`` line for one machine (``node_rank`` 0 is the one at the endpoint)."""
    args = ["loom", "run", plan.workflow]
    if plan.nproc > 1 or plan.nnodes > 1:
        args += ["--nproc", str(plan.nproc)]
    if plan.nnodes > 1:
        args += ["--nnodes", str(plan.nnodes), "--node-rank", str(node_rank), "--rdzv-endpoint", plan.endpoint]
    return _join(args)


def torchrun_command(plan: DistributedPlan, node_rank: int | str = 0) -> str:
    """The same with PyTorch's own launcher, for schedulers that start ``torchrun`` themselves."""
    args = ["torchrun", "--nproc-per-node", str(plan.nproc)]
    if plan.nnodes > 1:
        args += ["--nnodes", str(plan.nnodes), "--node-rank", str(node_rank), "--rdzv-endpoint", plan.endpoint]
    return _join([*args, "-m", "engine.cli", "run", plan.workflow])


def cluster_commands(plan: DistributedPlan) -> list[str]:
    """One commented ``loom run`` line per machine, then the ``torchrun`` form: what the app offers to copy."""
    lines = []
    for rank in range(plan.nnodes):
        where = "this computer" if plan.nnodes == 1 else (
            f"machine {rank + 1} of {plan.nnodes}" + (" (the rendezvous host)" if rank == 0 else ""))
        lines += [f"# {where}", loom_command(plan, rank)]
    if plan.nnodes > 1:
        lines += [f"# or, where the cluster's scheduler starts torchrun itself (NODE_RANK = 0 .. {plan.nnodes - 1}):",
                  torchrun_command(plan, NODE_RANK_VARIABLE)]
    else:
        lines += ["# or with PyTorch's own launcher:", torchrun_command(plan)]
    return lines
