"""What the ranks agree on (engine.distributed.sync / world / launcher's verdict), on a real 2-process gloo group
for the collectives and as plain functions for the rest."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.distributed.launcher import Ended, blame, judge, plan_from, worker_argv
from engine.distributed.world import EXIT_PEER_LOST, World, from_env
from engine.errors import UserInputError

ROOT = Path(__file__).resolve().parents[1]

RANK_CODE = r"""
import json, sys, torch
from engine.distributed import world
from engine.distributed.sync import RankSync
joined = world.start(world.from_env(), "cpu")
sync = RankSync(joined, joined.device)
r = joined.rank
values, stop, spent = sync.step([torch.tensor(float(r)), 10.0 * r], stop=(r == 1), spent=False)
decided = sync.decide("early_stopping" if r == 0 else "")
bn = torch.nn.BatchNorm1d(3)
bn.running_mean.fill_(float(r + 1))
sync.sync_buffers([bn])
print(json.dumps({"rank": r, "values": values, "stop": stop, "spent": spent, "decided": decided,
                  "bn": bn.running_mean.tolist(), "record": joined.record(), "any": sync.any(r == 0)}))
world.end()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_average_the_step_values_and_share_stop_decisions_and_rank0_buffers():
    port = free_port()
    procs = []
    for rank in range(2):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": "2",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1"}
        procs.append(subprocess.Popen([sys.executable, "-c", RANK_CODE], cwd=ROOT, env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    results = sorted((json.loads(out.strip().splitlines()[-1]) for out, _ in outs), key=lambda r: r["rank"])
    for res in results:
        assert res["values"] == [0.5, 5.0], "each value is the mean over the ranks"
        assert res["stop"] is True and res["spent"] is False, "one rank's stop stops all"
        assert res["decided"] == "early_stopping", "rank 0's epoch-end decision holds everywhere"
        assert res["bn"] == [1.0, 1.0, 1.0], "rank 0's BatchNorm statistics everywhere"
        assert res["any"] is True
        assert res["record"] == {"world_size": 2, "backend": "gloo", "rank_devices": ["cpu", "cpu"]}


def test_the_torchrun_environment_names_this_process():
    assert from_env({}) is None
    world = from_env({"RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert world == World(rank=1, size=4, local_rank=1, local_size=2) and not world.is_main
    with pytest.raises(UserInputError, match="rank 5 of 2"):
        from_env({"RANK": "5", "WORLD_SIZE": "2"})
    with pytest.raises(UserInputError, match="whole numbers"):
        from_env({"RANK": "x", "WORLD_SIZE": "2"})


def ended(*codes: int) -> list[Ended]:
    return [Ended(rank, 1000 + rank, code) for rank, code in enumerate(codes)]


def test_the_launcher_blames_the_rank_that_died_not_the_ones_that_noticed():
    # rank 0 saw the all-reduce fail (exit 75), rank 1 was SIGKILLed, rank 2 was ended by the launcher
    who = blame(ended(EXIT_PEER_LOST, -signal.SIGKILL, -signal.SIGTERM))
    assert who is not None and who.rank == 1
    code, message = judge({e.rank: _Failure(e) for e in ended(EXIT_PEER_LOST, -signal.SIGKILL)}, Path("/nonexistent"))
    assert code == 1 and message.startswith("rank 1 (pid 1001) died: killed by SIGKILL")
    assert blame(ended(EXIT_PEER_LOST, 1)).rank == 1, "a rank that failed by itself before one that noticed"


def test_a_run_that_failed_on_every_rank_is_told_by_rank0_alone():
    both_failed = {0: _Failure(Ended(0, 10, 1)), 1: _Failure(Ended(1, 11, 1))}
    assert judge(both_failed, Path("/x")) == (1, ""), "a diverged run: rank 0 printed why, nothing to add"
    alone = judge({0: _Failure(Ended(0, 10, EXIT_PEER_LOST)), 1: _Failure(Ended(1, 11, 1))}, Path("/x"))
    assert alone[0] == 1 and alone[1].startswith("rank 1 (pid 11) failed (exit code 1)")


def test_the_launcher_passes_on_invalid_input_and_interruption():
    assert judge({0: _Failure(Ended(0, 10, 2)), 1: _Failure(Ended(1, 11, EXIT_PEER_LOST))}, Path("/x"))[0] == 2
    assert judge({0: _Failure(Ended(0, 10, 130)), 1: _Failure(Ended(1, 11, 130))}, Path("/x")) == (130, "")


class _Failure:
    """The two fields of torch's ProcessFailure the launcher reads."""

    def __init__(self, e: Ended) -> None:
        self.pid, self.exitcode, self.local_rank = e.pid, e.exitcode, e.rank


def args(**kw: object) -> argparse.Namespace:
    base = dict(workflow="flow.json", nproc=None, nnodes=1, node_rank=0, rdzv_endpoint=None, rdzv_timeout=300.0,
                device="auto", out=None, force=False, overrides=[], resume=None, quiet=False, no_cache=False)
    return argparse.Namespace(**{**base, **kw})


@pytest.mark.parametrize(("given", "said"), [
    (dict(nproc=0), "--nproc 0: the number of processes must be 1 or more"),
    (dict(nproc=-2), "--nproc -2"),
    (dict(nnodes=2), "give --rdzv-endpoint HOST:PORT"),
    (dict(nnodes=2, rdzv_endpoint="nohost"), "expected HOST:PORT"),
    (dict(nnodes=2, node_rank=2, rdzv_endpoint="a:1"), "--node-rank 2: with --nnodes 2 it must be 0..1"),
])
def test_bad_launch_flags_are_refused_with_the_flag_named(given, said):
    with pytest.raises(UserInputError, match=said.replace("+", r"\+")):
        plan_from(args(**given))


def test_workers_get_the_run_arguments_without_the_launch_flags():
    argv = worker_argv(args(nproc=2, out="runs/x", overrides=["train.epochs=2"], resume=None, quiet=True))
    assert argv == ["run", "flow.json", "--device", "auto", "--out", "runs/x", "--set", "train.epochs=2", "--quiet"]


def test_each_rank_gets_its_own_gpu_or_the_run_is_refused_or_falls_back_to_cpus_saying_why(monkeypatch):
    import torch

    from engine.distributed.world import cpu_fallback, rank_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert rank_device("auto", 1, 2) == ("cuda:1", "nccl") == rank_device("cuda", 1, 2)
    assert rank_device("auto", 2, 4) == ("cpu", "gloo")
    assert "4 processes but 2 CUDA GPUs" in cpu_fallback("auto", 4) and cpu_fallback("auto", 2) == ""
    with pytest.raises(UserInputError, match="--nproc 4 --device cuda: this computer has 2 CUDA GPUs"):
        rank_device("cuda", 0, 4)
    assert rank_device("cpu", 0, 4) == ("cpu", "gloo")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserInputError, match="no CUDA GPU"):
        rank_device("cuda", 0, 1)
