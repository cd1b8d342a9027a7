"""Distributed training on PyTorch's own machinery: ``torch.distributed`` + DDP, launched by ``torchrun``.

One job per module:

* :mod:`.world`    — who this process is (rank, world size) from the torchrun environment, and the
  process group's start and end;
* :mod:`.sharding` — each rank's share of an epoch's permutation (plain arithmetic, no communication);
* :mod:`.sync`     — what the loop driver agrees on with the other ranks each step: mean metrics,
  stop, budget, epoch-end decisions, buffers;
* :mod:`.ddp`      — wrapping the algorithm's modules in DistributedDataParallel without changing
  their identity or their ``state_dict`` keys;
* :mod:`.launcher` — ``loom run --nproc N``: starting the workers through ``torch.distributed.run``'s
  Python API and naming a rank that died;
* :mod:`.rank_run` — one rank's run: rank 0 writes the run folder, the others work in a scratch
  folder that is removed;
* :mod:`.fingerprint` — a hash of each rank's final weights (``LOOM_DIST_FINGERPRINTS``), proof that
  the ranks end bit-identical.

Importing this package is cheap: ``torch.distributed`` is imported only when a process group is
started or a launch begins (the CLI's ``--help`` and the app's start-up never pay for it).
"""
