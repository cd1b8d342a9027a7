"""GAN training throughput: Loom's ``train_gan`` loop vs a plain hand-written loop.

    python bench/gan_throughput.py [--epochs 6] [--repeats 6] [--threads N] [--width 32] [--device cpu]

Both train the same DCGAN (same seed, same init, same batches of the built-in
digits at 32 px, Adam 2e-4 / (0.5, 0.999), non-saturating loss).  Loom's loop
runs as in a real run: every metric goes through the event bus into a
RunRecorder writing metrics.csv, sample grids are rendered and saved every
``sample_every`` steps, checkpoints are written at each epoch end.  The plain
loop does none of that.  Runs alternate (Loom, plain, Loom, plain, ...) so
load from other processes hits both alike (A B, B A, ...); every round's ratio
Loom / plain is printed with the load average, then the median (target >= 0.97
on CPU).  On a busy
machine wall-clock rates swing with other processes' load, so the ratio of
CPU time (this process's, all threads) is printed as well: it counts the
work each loop does and not the time it waited for a core (it does not
count time blocked on disk, e.g. fsync of checkpoints).

On a CUDA device it also reports images/s of Loom's loop in fp32 and with
mixed precision (``--device cuda``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812

from engine import events as ev
from engine.context import RunControl, StepContext
from engine.data.builtin import load_digits
from engine.data.transforms import normalize_images
from engine.generative import GenSpec, build_gan
from engine.store import RunRecorder
from engine.training.checkpoint import seed_everything
from engine.training.gan import GanConfig, fit_gan
from engine.training.loop import LoopConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from abba import abba, ratios, summary  # noqa: E402


def loom_loop(data, spec: GenSpec, cfg: GanConfig, loop: LoopConfig, device: str) -> tuple[float, float]:  # noqa: ANN001
    """(steps per wall second, steps per CPU second) of fit_gan with a real event bus and run recorder."""
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        bus = ev.EventBus()
        recorder = RunRecorder(run_dir, "bench", {"name": "bench", "nodes": [{"id": "train", "type": "train_gan"}]}, {})
        bus.subscribe(recorder)
        ctx = StepContext("train", {}, {}, device, run_dir, bus, RunControl())
        t0, c0 = time.perf_counter(), time.process_time()
        trained = fit_gan(ctx, data, spec, cfg, loop)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        recorder.close()
    steps = trained.history["steps"]
    return steps / seconds, steps / cpu


def plain_loop(data, spec: GenSpec, cfg: GanConfig, loop: LoopConfig, device: str) -> tuple[float, float]:  # noqa: ANN001
    """The same training written the obvious way, nothing else."""
    t0, c0 = time.perf_counter(), time.process_time()
    seed_everything(loop.seed)
    g, d = build_gan(spec, data.sample_shape)
    g.to(device).train()
    d.to(device).train()
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    steps = 0
    for epoch in range(1, loop.epochs + 1):
        for real, _ in data.batches("all", cfg.batch_size, device, shuffle=True, seed=loop.seed, epoch=epoch, drop_last=True):
            fake = g(torch.randn(real.shape[0], spec.latent_dim, device=device))
            real_logits, fake_logits = d(real), d(fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
                F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            out = d(fake)
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            steps += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=6, help="rounds (A B, then B A, ...)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = normalize_images(load_digits(32), channels="1")
    spec = GenSpec("dcgan", {"latent_dim": 100, "width": args.width})
    cfg = GanConfig(batch_size=args.batch_size)
    loop = LoopConfig(epochs=args.epochs, amp=False, checkpoint_every=500)
    print(f"DCGAN width {args.width}, 32 px digits, batch {args.batch_size}, {args.epochs} epochs x "
          f"{data.num_batches('all', args.batch_size, drop_last=True)} steps, {args.device}, "
          f"{torch.get_num_threads()} thread(s); sample grid every {cfg.sample_every} steps, checkpoint per epoch")
    loom_loop(data, spec, cfg, LoopConfig(epochs=1, amp=False), args.device)  # warm-up
    print("A = loom train_gan, B = the plain loop (steps per wall second)")
    pairs = abba(lambda: loom_loop(data, spec, cfg, loop, args.device),
                 lambda: plain_loop(data, spec, cfg, loop, args.device), args.repeats)
    print(summary("wall-clock loom/plain", ratios(pairs, 0), 0.97))
    print(summary("cpu-time loom/plain", ratios(pairs, 1)))
    if args.device.startswith("cuda"):
        for amp in (False, True):
            rate, _ = loom_loop(data, spec, cfg, LoopConfig(epochs=args.epochs, amp=amp), args.device)
            print(f"cuda {'mixed precision' if amp else 'fp32'}: {rate * args.batch_size:,.0f} images/s")


if __name__ == "__main__":
    main()
