"""Engine overhead: the same MLP, data and step count, through Loom and by hand.

Trains an MLP on the built-in digits (32 px) twice per round — once as the
engine's `train` node (events, metrics.csv, progress, validation, checkpoints
included) and once as a plain PyTorch loop — interleaving rounds so machine
noise hits both alike.  Prints the median samples/s of each and the ratio
engine/plain (target >= 0.97 on CPU).

    python bench/engine_overhead.py [--rounds 5] [--epochs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Engine, Workflow  # noqa: E402
from engine import events as ev  # noqa: E402
from engine.data.builtin import load_digits  # noqa: E402
from engine.data.transforms import normalize_images  # noqa: E402
from engine.models import ModelSpec, build_model  # noqa: E402

HIDDEN, BATCH, LR = "512,256", 128, 1e-3


def workflow(epochs: int) -> Workflow:
    wf = Workflow.load(ROOT / "resources" / "examples" / "classify_digits.json")
    wf.node("data").params["size"] = 32
    wf.node("model").params.update(hidden=HIDDEN, dropout=0.0)
    wf.node("train").params.update(epochs=epochs, batch_size=BATCH, lr=LR, optimizer="adam", seed=0)
    wf.remove_node("evaluate")
    return wf


def engine_round(epochs: int, out: Path) -> float:
    """Seconds the `train` node ran (a fresh engine, so nothing is reused from a cache)."""
    engine = Engine(disk_cache=False)
    times: dict[str, float] = {}

    def on_event(e: ev.Event) -> None:
        if isinstance(e, ev.NodeState) and e.node_id == "train" and e.state in ("running", "done"):
            times[e.state] = time.perf_counter()

    result = engine.run(workflow(epochs), out_dir=out, on_event=on_event, device="cpu")
    assert result.status == "succeeded", result.message
    return times["done"] - times["running"]


def plain_round(epochs: int) -> float:
    """The hand-written loop, on a worker thread like the engine's, so threading is not what differs."""
    seconds: list[float] = []
    worker = threading.Thread(target=lambda: seconds.append(_plain_loop(epochs)))
    worker.start()
    worker.join()
    return seconds[0]


def _plain_loop(epochs: int) -> float:
    data = normalize_images(load_digits(32), value_range="-1..1")
    x, y = data.x, data.labels
    train_idx = data.split("train")
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model = build_model(ModelSpec("mlp", {"hidden": HIDDEN, "dropout": 0.0}), data.sample_shape, 10)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    for epoch in range(1, epochs + 1):
        gen = torch.Generator().manual_seed(epoch)
        perm = train_idx[torch.randperm(len(train_idx), generator=gen)]
        for i in range(0, len(perm), BATCH):
            sel = perm[i:i + BATCH]
            loss = F.cross_entropy(model(x[sel]), y[sel])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    n_train = len(load_digits(8).split("train"))
    samples = n_train * args.epochs
    eng_rates, plain_rates = [], []
    with tempfile.TemporaryDirectory() as tmp:
        engine_round(1, Path(tmp) / "warmup")
        plain_round(1)
        for r in range(args.rounds):
            seconds = engine_round(args.epochs, Path(tmp) / f"r{r}")
            eng_rates.append(samples / seconds)
            plain_rates.append(samples / plain_round(args.epochs))
            print(f"round {r + 1}: engine {eng_rates[-1]:,.0f} samples/s, plain {plain_rates[-1]:,.0f} samples/s")
    e, p = statistics.median(eng_rates), statistics.median(plain_rates)
    ratios = [a / b for a, b in zip(eng_rates, plain_rates, strict=True)]
    print(f"\nMLP {HIDDEN} on digits 32px, batch {BATCH}, {args.epochs} epochs x {args.rounds} rounds, "
          f"{torch.get_num_threads()} threads")
    print(f"median engine {e:,.0f} samples/s, plain {p:,.0f} samples/s")
    print(f"throughput ratio engine/plain: {e / p:.3f} (median of per-round ratios {statistics.median(ratios):.3f}; "
          "target >= 0.97)")


if __name__ == "__main__":
    main()
