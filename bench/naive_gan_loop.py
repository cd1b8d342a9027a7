"""The DCGAN training loop a user would copy from the PyTorch tutorial, on an image folder.

    python bench/naive_gan_loop.py FOLDER --steps 312 [--channels 3] [--size 32]

torchvision ``ImageFolder`` + transforms (Grayscale when 1 channel, ToTensor,
Normalize(0.5, 0.5)) + ``DataLoader(batch_size=64, shuffle=True)`` with its
defaults (no worker processes), the same DCGAN as Loom's ``dcgan`` node (built
by Loom's own builder, so the model is not what differs), Adam 2e-4 /
(0.5, 0.999) and BCE-with-logits, for a fixed number of optimisation steps,
with torch's default thread count.  Nothing else: no checkpoints, no sample
grids, no metrics file.  It is the "B" side of ``bench/end_to_end_gan.py``,
which times this script as a whole process (imports and data loading
included), the way a user would feel it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine.generative.dcgan import build_dcgan  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", help="an image folder with one subfolder per class")
    ap.add_argument("--steps", type=int, required=True, help="optimisation steps (D then G) to train")
    ap.add_argument("--channels", type=int, choices=(1, 3), default=3)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--latent-dim", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, as a user gets it)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    steps_of = [transforms.Resize(args.size), transforms.CenterCrop(args.size)]
    if args.channels == 1:
        steps_of.append(transforms.Grayscale(1))
    steps_of += [transforms.ToTensor(), transforms.Normalize([0.5] * args.channels, [0.5] * args.channels)]
    dataset = datasets.ImageFolder(args.folder, transform=transforms.Compose(steps_of))
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True)

    g, d = build_dcgan({"latent_dim": args.latent_dim, "width": args.width}, (args.channels, args.size, args.size))
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    step = 0
    while step < args.steps:
        for real, _ in loader:
            n = real.shape[0]
            fake = g(torch.randn(n, args.latent_dim))
            real_logits, fake_logits = d(real), d(fake.detach())
            loss_d = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                      + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            out = d(fake)
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            step += 1
            if step % 50 == 0:
                print(f"step {step}/{args.steps}  loss_d {loss_d.item():.3f}  loss_g {loss_g.item():.3f}", flush=True)
            if step >= args.steps:
                break
    print(f"done: {step} steps", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
