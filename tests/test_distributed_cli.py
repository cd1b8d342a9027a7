"""`loom run FLOW --nproc N`: real worker processes through torch.distributed.run (gloo, 1 thread each, tiny runs)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from engine.distributed.fingerprint import ENV as FINGERPRINTS
from engine.distributed.fingerprint import state_hash
from engine.run_index import RunIndex

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
CNN = str(EXAMPLES / "classify_digits_cnn.json")
TINY_CNN = ["--set", "train.epochs=2", "--set", "train.restore_best=false", "--set", "export.onnx=false"]
HANG_S = 300  # only catches a hang; never a claim about speed


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    scratch = tmp_path / "tmp"  # the system temp folder of the run: what the ranks leave there is checked
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(scratch), **extra}


def loom(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env_for(tmp_path, **extra),
                          capture_output=True, text=True, timeout=HANG_S)


def fingerprints(folder: Path) -> dict[int, str]:
    return {int(p.stem.removeprefix("rank")): p.read_text() for p in sorted(folder.glob("rank*.txt"))}


def test_two_processes_train_the_cnn_example_to_bit_identical_weights_and_only_rank0_writes(tmp_path):
    out, prints = tmp_path / "run", tmp_path / "prints"
    done = loom(tmp_path, "run", CNN, *TINY_CNN, "--nproc", "2", "--out", str(out), "-q",
                **{FINGERPRINTS: str(prints)})
    assert done.returncode == 0, done.stderr
    ranks = fingerprints(prints)
    assert set(ranks) == {0, 1} and ranks[0] == ranks[1], "both ranks end with the same weights, bit for bit"
    final = torch.load(out / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert ranks[0] == f"model {state_hash(final['model'])}\n", "the fingerprints are of the weights rank 0 saved"
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "succeeded"
    assert (info["world_size"], info["backend"], info["rank_devices"]) == (2, "gloo", ["cpu", "cpu"])
    steps = {int(line.split(",")[0]) for line in (out / "metrics.csv").read_text().splitlines()[1:]
             if ",train_loss," in line}
    assert max(steps) == 2 * 23, "1439 training samples in steps of 32 x 2 ranks: 23 steps an epoch"
    assert "rank 0 of 2 (gloo; devices by rank: cpu, cpu)" in (out / "log.txt").read_text()
    left = [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("loom-")]
    assert left == [], "rank 1's scratch folder and the launcher's logs are removed"
    assert done.stderr.count("succeeded:") == 1, "rank 0 speaks for the run; rank 1 says nothing"
    listed = [Path(row["run_dir"]).resolve() for row in RunIndex().list()]
    assert listed == [out.resolve()], "one index entry, rank 0's"


@pytest.mark.parametrize(("example", "sets"), [
    ("gan_mlp_digits.json", ["train.epochs=1", "train.batch_size=128", "train.sample_every=5", "train.d_steps=2"]),
    ("lm_python_docs.json", ["model.embed=16", "model.width=32", "model.layers=1", "model.block_size=32",
                             "train.epochs=1", "train.time_budget=0", "train.batch_size=64", "train.sample_every=20",
                             "generate.max_tokens=20"]),
])
def test_a_gan_and_a_language_model_train_with_two_processes(tmp_path, example, sets):
    out, prints = tmp_path / "run", tmp_path / "prints"
    args = [arg for s in sets for arg in ("--set", s)]
    done = loom(tmp_path, "run", str(EXAMPLES / example), *args, "--nproc", "2", "--out", str(out), "-q",
                **{FINGERPRINTS: str(prints)})
    assert done.returncode == 0, done.stderr
    ranks = fingerprints(prints)
    assert set(ranks) == {0, 1} and ranks[0] == ranks[1]
    assert json.loads((out / "run.json").read_text())["world_size"] == 2
    assert list((out / "train").glob("samples*")) or list((out / "train").glob("*.png")) or \
        list((out / "train").glob("*.txt")), "rank 0 wrote the samples"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def rank_pid(launcher: int, rank: int) -> int | None:
    for pid in children(launcher):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ:
            return pid
    return None


@pytest.mark.parametrize(("flow", "sets", "logged"), [
    (CNN, ["train.epochs=200", "train.patience=1", "train.monitor=val_loss", "train.lr=0.5", "export.onnx=false"],
     "early stopping at epoch"),
    (str(EXAMPLES / "gan_mlp_digits.json"), ["train.epochs=100000", "train.time_budget=0.02"],
     "time budget of 0.02 min reached"),
])
def test_early_stopping_and_the_time_budget_end_every_rank_at_the_same_step(tmp_path, flow, sets, logged):
    out = tmp_path / "run"
    done = loom(tmp_path, "run", flow, *[a for s in sets for a in ("--set", s)], "--nproc", "2", "--out", str(out),
                "-q")
    assert done.returncode == 0, done.stderr
    assert logged in (out / "log.txt").read_text()
    assert json.loads((out / "run.json").read_text())["status"] == "succeeded"


GAN = str(EXAMPLES / "gan_mlp_digits.json")
LONG_GAN = ["--set", "train.epochs=1000", "--set", "train.checkpoint_every=10", "--set", "train.sample_every=1000"]


def kill_rank_mid_run(tmp_path: Path, out: Path, rank: int) -> tuple[int, int, str]:
    """Start the long GAN on 2 processes, SIGKILL ``rank`` once the first checkpoint is written;
    returns (its pid, the launcher's exit code, the launcher's stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "run", GAN, *LONG_GAN, "--nproc", "2", "--out",
                             str(out), "-q"], cwd=ROOT, env=env_for(tmp_path), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        checkpoint = out / "train" / "checkpoints" / "last.pt"
        deadline = time.monotonic() + HANG_S
        while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # the first checkpoint (step 10): both ranks are training, 1000 epochs to go
        victim = rank_pid(proc.pid, rank)
        assert victim is not None and proc.poll() is None, f"rank {rank} is running"
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=HANG_S)
        print(f"\nexit {time.monotonic() - killed:.2f} s after SIGKILL of rank {rank}")  # measured, never asserted
    finally:
        if proc.poll() is None:
            proc.kill()
    return victim, proc.returncode, stderr


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the rank's process through /proc")
def test_a_killed_rank_ends_the_run_naming_it_and_one_process_resumes_it(tmp_path):
    out = tmp_path / "run"
    victim, code, stderr = kill_rank_mid_run(tmp_path, out, rank=1)
    assert code == 1
    assert f"rank 1 (pid {victim}) died: killed by SIGKILL" in stderr
    assert "Traceback" not in stderr
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    checkpoint = out / "train" / "checkpoints" / "last.pt"
    position = torch.load(checkpoint, weights_only=True)["position"]

    epochs = position["epoch"] + 1  # finish the checkpoint's epoch and one more, on one process
    resumed = loom(tmp_path, "run", GAN, *LONG_GAN, "--set", f"train.epochs={epochs}", "--nproc", "1",
                   "--resume", str(out), "-q")
    assert resumed.returncode == 0, resumed.stderr
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "succeeded" and info["world_size"] == 1
    log = (out / "log.txt").read_text()
    assert f"resumed at step {position['step']}" in log
    if position["batch"]:  # mid-epoch: the batch moves to the one covering the same samples
        assert "the checkpoint was written by 2 process(es), this run has 1" in log
    final = torch.load(checkpoint, weights_only=True)
    assert final["position"]["epoch"] == epochs + 1 and final["world_size"] == 1


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the rank's process through /proc")
def test_when_rank0_dies_the_launcher_ends_its_record(tmp_path):
    out = tmp_path / "run"
    victim, code, stderr = kill_rank_mid_run(tmp_path, out, rank=0)
    assert code == 1
    said = f"rank 0 (pid {victim}) died: killed by SIGKILL"
    assert said in stderr and "Traceback" not in stderr
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "failed" and info["message"].startswith(said), "not left 'running' for ever"
    assert said in (out / "log.txt").read_text()
    assert [row["status"] for row in RunIndex().list()] == ["failed"]
    assert torch.load(out / "train" / "checkpoints" / "last.pt", weights_only=True)["position"]["step"] >= 10


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm-to-launcher"])
def test_a_stop_ends_every_rank_together_and_rank0_keeps_a_checkpoint(tmp_path, how):
    """Ctrl-C in a terminal signals the launcher and every rank; the app or a scheduler ends the launcher alone."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "run", GAN, *LONG_GAN, "--nproc", "2", "--out",
                             str(out), "-q"],
                            cwd=ROOT, env=env_for(tmp_path), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        checkpoint = out / "train" / "checkpoints" / "last.pt"
        deadline = time.monotonic() + HANG_S
        while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # the launcher and every rank get it
        else:
            os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "stopped"
    saved = torch.load(checkpoint, weights_only=True)
    assert not saved["finished"] and saved["world_size"] == 2
    steps = [int(line.split(",")[0]) for line in (out / "metrics.csv").read_text().splitlines()[1:]
             if ",loss_d," in line]
    assert saved["position"]["step"] == max(steps), "the checkpoint holds the last step both ranks took"
    assert "Traceback" not in stderr


def test_bad_process_counts_are_one_line_and_exit_2(tmp_path):
    for flags in (["--nproc", "0"], ["--nproc", "-1"]):
        done = loom(tmp_path, "run", CNN, *flags)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [f"loom: --nproc {flags[1]}: the number of processes must be 1 "
                                                    "or more"]


@pytest.mark.skipif(torch.cuda.device_count() >= 4, reason="this machine could give 4 CUDA ranks a GPU each")
def test_more_cuda_ranks_than_gpus_is_refused_in_one_line(tmp_path):
    done = loom(tmp_path, "run", CNN, "--nproc", "4", "--device", "cuda")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loom: --") and "CUDA GPU" in lines[0]


def test_an_unreachable_rendezvous_is_one_line_and_exit_2(tmp_path):
    done = loom(tmp_path, "run", CNN, "--nnodes", "2", "--node-rank", "1", "--rdzv-endpoint", "127.0.0.1:1",
                "--rdzv-timeout", "1")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--rdzv-endpoint 127.0.0.1:1: could not reach it" in lines[0]


def test_a_folder_rank0_refuses_ends_every_rank_with_its_one_message(tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    done = loom(tmp_path, "run", CNN, *TINY_CNN, "--nproc", "2", "--out", str(used))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "already exists and is not empty" in lines[0]
    assert (used / "notes.txt").read_text() == "mine" and sorted(p.name for p in used.iterdir()) == ["notes.txt"]


def test_the_command_line_help_does_not_import_torch(tmp_path):
    code = "import sys; from engine.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False"


def test_plain_torchrun_starts_the_same_distributed_run(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           "-m", "engine.cli", "run", CNN, *TINY_CNN, "--out", str(out), "-q"],
                          cwd=ROOT, env=env_for(tmp_path), capture_output=True, text=True, timeout=HANG_S)
    assert done.returncode == 0, done.stderr
    info = json.loads((out / "run.json").read_text())
    assert (info["status"], info["world_size"], info["backend"]) == ("succeeded", 2, "gloo")


def test_two_machines_meet_at_the_rendezvous_endpoint(tmp_path):
    """Two `loom run --nnodes 2` commands on this computer stand in for two machines."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "run"
    machines = [subprocess.Popen([sys.executable, "-m", "engine.cli", "run", CNN, *TINY_CNN, "--out", str(out), "-q",
                                  "--nproc", "1", "--nnodes", "2", "--node-rank", str(rank),
                                  "--rdzv-endpoint", f"127.0.0.1:{port}"],
                                 cwd=ROOT, env=env_for(tmp_path), text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for rank in (0, 1)]
    ended = [m.communicate(timeout=HANG_S) for m in machines]
    assert [m.returncode for m in machines] == [0, 0], [err for _, err in ended]
    info = json.loads((out / "run.json").read_text())
    assert (info["status"], info["world_size"], info["rank_devices"]) == ("succeeded", 2, ["cpu", "cpu"])
    assert ended[1][1].strip() == "", "machine 1 (rank 1) leaves the talking to machine 0"
