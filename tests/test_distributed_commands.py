"""The command lines shown for a distributed run (engine.distributed.commands) parse back into what they say."""

from __future__ import annotations

import shlex

from engine.cli import build_parser
from engine.distributed.commands import cluster_commands, local_command, torchrun_command


def test_the_local_command_asks_for_the_processes_and_keeps_the_settings():
    line = local_command("flows/my flow.json", 4, ["--set", "train.epochs=5"])
    args = build_parser().parse_args(shlex.split(line)[1:])
    assert (args.workflow, args.nproc, args.overrides) == ("flows/my flow.json", 4, ["train.epochs=5"])
    assert "--nproc" not in local_command("flow.json", 1), "one process is a plain run"


def test_the_cluster_commands_give_each_machine_its_rank_and_the_same_meeting_point():
    lines = cluster_commands("flow.json", 8, 2, "10.0.0.5:29500")
    parsed = [build_parser().parse_args(shlex.split(line)[1:]) for line in lines]
    assert [a.node_rank for a in parsed] == [0, 1]
    assert {(a.nproc, a.nnodes, a.rdzv_endpoint) for a in parsed} == {(8, 2, "10.0.0.5:29500")}


def test_the_torchrun_form_runs_the_loom_command_line_module():
    assert torchrun_command("flow.json", 2) == "torchrun --nproc-per-node 2 --standalone -m engine.cli run flow.json"
    multi = torchrun_command("flow.json", 4, 3, "head:29400")
    assert "--nnodes 3 --node-rank $NODE_RANK --rdzv-endpoint head:29400 -m engine.cli run flow.json" in multi
