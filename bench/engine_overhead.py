"""Engine overhead: the same MLP, data and steps, through Loom and by hand.

Trains an MLP on the built-in digits (32 px) through the engine's `train`
node (events, metrics.csv, progress, checkpoints included) and as a plain
PyTorch loop, interleaving the two so machine noise hits both alike.  Both
do the same work, in two scenarios:

* ``train``: no validation split, training steps only;
* ``train+val``: a validation pass after every epoch that keeps the best
  epoch's weights (what the engine does by default; the plain loop does it
  the way one would write it by hand).

Rounds alternate A B, B A (bench/abba.py); every round's ratio engine/plain
is printed with the load average, then the median (target >= 0.97 on CPU).  Fixed costs (building the model, the final
checkpoint) count against the engine; ``--epochs`` sets how far they are
amortised (the default, 40 epochs of 12 steps, is a run of a few seconds).

    python bench/engine_overhead.py [--rounds 5] [--epochs 40] [--scenario train train+val]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from abba import abba, ratios, summary  # noqa: E402

from engine import Engine, Workflow  # noqa: E402
from engine import events as ev  # noqa: E402
from engine.data.builtin import load_digits  # noqa: E402
from engine.data.datasets import ImageDataset  # noqa: E402
from engine.data.splits import stratified_split  # noqa: E402
from engine.data.transforms import normalize_images  # noqa: E402
from engine.models import ModelSpec, build_model, model_facts  # noqa: E402
from engine.workflow import Endpoint, Link, Node  # noqa: E402

HIDDEN, BATCH, LR = "512,256", 128, 1e-3
NO_VAL = (0.9, 0.0, 0.1)  # the `train` scenario's split: train/val/test
SCENARIOS = ("train", "train+val")


def workflow(epochs: int, scenario: str) -> Workflow:
    wf = Workflow.load(ROOT / "resources" / "examples" / "classify_digits.json")
    wf.node("data").params["size"] = 32
    wf.node("model").params.update(hidden=HIDDEN, dropout=0.0)
    wf.node("train").params.update(epochs=epochs, batch_size=BATCH, lr=LR, optimizer="adam", seed=0)
    wf.remove_node("evaluate")
    if scenario == "train":
        train, val, test = NO_VAL
        wf.add_node(Node("split", "split", {"train": train, "val": val, "test": test, "seed": 0}))
        wf.links = [lk for lk in wf.links if lk.target.node != "train" or lk.target.port != "data"]
        wf.links += [Link(Endpoint.parse("preprocess.data"), Endpoint.parse("split.data")),
                     Link(Endpoint.parse("split.data"), Endpoint.parse("train.data"))]
    return wf


def engine_round(epochs: int, scenario: str, out: Path) -> float:
    """Seconds the `train` node ran (a fresh engine, so nothing is reused from a cache)."""
    engine = Engine(disk_cache=False)
    times: dict[str, float] = {}

    def on_event(e: ev.Event) -> None:
        if isinstance(e, ev.NodeState) and e.node_id == "train" and e.state in ("running", "done"):
            times[e.state] = time.perf_counter()

    result = engine.run(workflow(epochs, scenario), out_dir=out, on_event=on_event, device="cpu")
    assert result.status == "succeeded", result.message
    return times["done"] - times["running"]


def plain_round(epochs: int, scenario: str) -> float:
    """The hand-written loop, on a worker thread like the engine's, so threading is not what differs."""
    data = normalize_images(load_digits(32), value_range="-1..1")
    if scenario == "train":
        data = data.with_x(data.x, splits=stratified_split(data.labels, len(data), NO_VAL, 0))
    seconds: list[float] = []
    worker = threading.Thread(target=lambda: seconds.append(_plain_loop(data, epochs)))
    worker.start()
    worker.join()
    return seconds[0]


def _plain_loop(data: ImageDataset, epochs: int) -> float:
    x, y = data.images(), data.labels
    train_idx, val_idx = data.split("train"), data.split("val")
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model = build_model(ModelSpec("mlp", {"hidden": HIDDEN, "dropout": 0.0}), model_facts(data.sample_shape, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    best_loss, best_state = float("inf"), None
    for epoch in range(1, epochs + 1):
        model.train()
        gen = torch.Generator().manual_seed(epoch)
        perm = train_idx[torch.randperm(len(train_idx), generator=gen)]
        for i in range(0, len(perm), BATCH):
            sel = perm[i:i + BATCH]
            loss = F.cross_entropy(model(x[sel]), y[sel])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if len(val_idx):
            model.eval()
            with torch.no_grad():
                logits = model(x[val_idx])
                val_loss = F.cross_entropy(logits, y[val_idx]).item()
                _val_accuracy = (logits.argmax(1) == y[val_idx]).float().mean().item()
            if val_loss < best_loss:
                best_loss, best_state = val_loss, {k: v.clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    args = parser.parse_args()
    summary_lines: list[str] = []
    run_ids = iter(range(10**6))  # every engine round writes a fresh run folder
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in args.scenario:
            data = normalize_images(load_digits(32), value_range="-1..1")
            n_train = len(data.split("train")) if scenario == "train+val" else len(
                stratified_split(data.labels, len(data), NO_VAL, 0)["train"])
            samples = n_train * args.epochs
            engine_round(1, scenario, Path(tmp) / f"{scenario}-warmup")
            plain_round(1, scenario)
            print(f"{scenario}: A = the engine's train node, B = the plain loop (samples/s)")
            pairs = abba(lambda s=scenario, n=samples: n / engine_round(args.epochs, s, Path(tmp) / f"{s}-{next(run_ids)}"),
                         lambda s=scenario, n=samples: n / plain_round(args.epochs, s), args.rounds)
            summary_lines.append(summary(f"{scenario:>9} engine/plain", ratios(pairs), 0.97))
    print(f"\nMLP {HIDDEN} on digits 32px, batch {BATCH}, {args.epochs} epochs x {args.rounds} rounds, "
          f"{torch.get_num_threads()} threads (target >= 0.97)")
    print("\n".join(summary_lines))


if __name__ == "__main__":
    main()
