"""The command lines that start a workflow on several processes or machines, ready to copy.

For the app's run settings ("processes on this computer", and the equivalent for a cluster) and the
README: the same run as ``loom run --nproc`` on one machine, as ``loom run`` with rendezvous flags on
each machine of a cluster, and as plain ``torchrun``.  Only text: nothing here starts anything.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

DEFAULT_ENDPOINT = "HOST:29500"  # machine 0's address and a free port: the user fills in HOST


def local_command(workflow: str, nproc: int, extra: Sequence[str] = ()) -> str:
    """``loom run FLOW --nproc N ...`` for this computer (N = 1: a plain run)."""
    args = ["loom", "run", workflow, *extra]
    if nproc > 1:
        args += ["--nproc", str(nproc)]
    return shlex.join(args)


def cluster_commands(workflow: str, nproc: int, nnodes: int, endpoint: str = DEFAULT_ENDPOINT,
                     extra: Sequence[str] = ()) -> list[str]:
    """One ``loom run`` line per machine (``--node-rank`` 0..M-1); machine 0 writes the run folder."""
    return [shlex.join(["loom", "run", workflow, *extra, "--nproc", str(nproc), "--nnodes", str(nnodes),
                        "--node-rank", str(rank), "--rdzv-endpoint", endpoint]) for rank in range(nnodes)]


def torchrun_command(workflow: str, nproc: int, nnodes: int = 1, endpoint: str = DEFAULT_ENDPOINT,
                     extra: Sequence[str] = ()) -> str:
    """The same run started by ``torchrun`` itself (for clusters whose scheduler starts torchrun)."""
    args = ["torchrun", "--nproc-per-node", str(nproc)]
    if nnodes > 1:
        args += ["--nnodes", str(nnodes), "--node-rank", "$NODE_RANK", "--rdzv-endpoint", endpoint]
    else:
        args.append("--standalone")
    line = shlex.join([*args, "-m", "engine.cli", "run", workflow, *extra])
    return line.replace("'$NODE_RANK'", "$NODE_RANK")
