"""The feature network the quality metric measures images with.

FID uses an ImageNet Inception network; Loom has neither the weights nor the
time for one on 2 CPU cores, and ImageNet features say little about 32 px
digits anyway.  So the features come from a small conv net fitted on the
run's own images:

* with labels, a classifier trained for a bounded number of steps (a few
  seconds on one core; batch norm, a one-cycle learning rate and a random
  shift of each image make those steps count) — its hidden layer knows what tells the classes apart,
  and its softmax says whether a sample looks like *some* class (the
  "confident" share);
* without labels, the same net left at its seeded random weights: random conv
  features still compare image statistics (edges, blobs, colours, layout).

Everything here is seeded and draws random numbers only from its own
generators (weight init runs under ``fork_rng``), so fitting it never moves
the training run's random streams and a resumed run gets the same features.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.training import clock  # the one time source (a test's fake clock reaches the fit too)

FEATURES = 128  # the hidden layer's width: the Fréchet statistics are FEATURES x FEATURES
FIT_STEPS = 600  # at most this many optimiser steps of the labelled fit (batch FIT_BATCH): 3-6 s on one core
FIT_EPOCHS = 20  # ... and at most this many passes over the images (a small dataset needs fewer steps)
FIT_BATCH = 64
FIT_LR = 4e-3  # the peak of the one-cycle schedule (warm-up over the first tenth, then cosine to 0)
SETTLED, SETTLED_BATCHES = 1.0, 20  # the fit ends early once this many batches in a row are all labelled right
SHIFT = 2  # px: random shifts of each image while fitting, so slightly misplaced samples are still recognised


class FeatureNet(nn.Module):
    """[0, 1] pixels -> FEATURES-d features (and class logits when it has a head).

    Three convs with batch norm (a few hundred steps then reach what plain
    convs reach in thousands: 98 % on held-out digits instead of 87-90 %),
    stride 2 while the side is 8 px or more, so any image ends at about 4 x 4
    (an adaptive pool takes larger ones there), and a dense hidden layer whose
    activations are the features: they keep *where* things are, which a global
    average would throw away.  In eval mode batch norm is a fixed affine map,
    so an image's features never depend on the rest of its batch.
    """

    def __init__(self, channels: int, classes: int = 0, width: int = 16, size: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in, side = channels, size
        for c_out in (width, 2 * width, 4 * width):
            stride = 2 if side >= 8 else 1
            side = (side + 1) // stride if stride == 2 else side
            layers += [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
            c_in = c_out
        if side != 4:
            layers.append(nn.AdaptiveAvgPool2d(4))
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(4 * width * 16, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, classes) if classes > 1 else None

    def features(self, x01: torch.Tensor) -> torch.Tensor:
        return self.body((x01 - 0.5) * 2)

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        if self.head is None:
            raise RuntimeError("this feature network has no classifier head (the data had no labels)")
        return self.head(self.features(x01))


def build_feature_net(channels: int, classes: int, seed: int, size: int = 32) -> FeatureNet:
    """A FeatureNet for ``size`` px images, initialised from ``seed`` alone, without touching the global random
    stream."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return FeatureNet(channels, classes, size=size).eval()


def shift_each(x: torch.Tensor, generator: torch.Generator, shift: int) -> torch.Tensor:
    """Each image moved by its own random offset in [-shift, shift] px (edges repeated), drawn from ``generator``."""
    n, c, h, w = x.shape
    if shift <= 0:
        return x
    padded = F.pad(x, (shift, shift, shift, shift), mode="replicate")
    dy = torch.randint(0, 2 * shift + 1, (n, 1), generator=generator).to(x.device)
    dx = torch.randint(0, 2 * shift + 1, (n, 1), generator=generator).to(x.device)
    rows = (dy + torch.arange(h, device=x.device)).view(n, 1, h, 1).expand(n, c, h, w + 2 * shift)
    cols = (dx + torch.arange(w, device=x.device)).view(n, 1, 1, w).expand(n, c, h, w)
    return padded.gather(2, rows).gather(3, cols)


def one_cycle(step: int, steps: int, peak: float) -> float:
    """The learning rate of ``step`` of ``steps``: linear warm-up over the first tenth, then cosine down to 0."""
    warm = max(1, steps // 10)
    if step < warm:
        return peak * (step + 1) / warm
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))


class FeatureFit:
    """Trains a classifier on ``x01`` (N x C x H x W pixels) a few steps at a time; deterministic from ``seed``.

    The same ``steps`` (at most FIT_EPOCHS passes) in the same order whether
    they run at once (:meth:`finish`) or in slices between training steps
    (:meth:`advance`), so the fitted network never depends on timing.  An easy
    data set ends early, once SETTLED_BATCHES batches in a row (augmented, as
    trained on) are all labelled right: that depends on the data alone.  Each
    step times itself (``seconds``, ``pace``), so a caller can tell what a step costs.
    """

    def __init__(self, x01: torch.Tensor, labels: torch.Tensor, classes: int, seed: int,
                 steps: int = FIT_STEPS, batch: int = FIT_BATCH) -> None:
        self.x01, self.labels, self.batch = x01, labels, batch
        self.steps = max(1, min(steps, FIT_EPOCHS * len(x01) // batch))
        self.net = build_feature_net(int(x01.shape[1]), classes, seed, int(x01.shape[-1])).to(x01.device).train()
        self.gen = torch.Generator().manual_seed(seed + 1)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=FIT_LR)
        self.order = torch.empty(0, dtype=torch.long)
        self.done = 0
        self.seconds = 0.0
        self.recent: list[float] = []  # accuracy of the last SETTLED_BATCHES training batches

    @property
    def finished(self) -> bool:
        return self.done >= self.steps

    def step(self) -> None:
        start = clock.now()
        batch, x01 = self.batch, self.x01
        if len(self.order) < batch:
            self.order = torch.cat([self.order, torch.randperm(len(x01), generator=self.gen)])
        idx, self.order = self.order[:batch], self.order[batch:]
        xb = shift_each(x01[idx.to(x01.device)], self.gen, SHIFT)
        for group in self.opt.param_groups:
            group["lr"] = one_cycle(self.done, self.steps, FIT_LR)
        logits, yb = self.net(xb), self.labels[idx.to(self.labels.device)]
        loss = F.cross_entropy(logits, yb)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.done += 1
        self.recent = [*self.recent[-(SETTLED_BATCHES - 1):], float((logits.argmax(1) == yb).float().mean())]
        if self.done >= SETTLED_BATCHES and min(self.recent) >= SETTLED:  # already sure: stop early
            self.steps = self.done
        self.seconds += clock.now() - start

    @property
    def pace(self) -> float:
        """Seconds per step so far (0 before the first)."""
        return self.seconds / self.done if self.done else 0.0

    def advance(self, seconds: float) -> None:
        """Fit steps within about ``seconds`` (at least one), unless finished: no step starts that the pace so far
        says would end past them."""
        end = clock.now() + seconds
        while not self.finished:
            self.step()
            if clock.now() + self.pace > end:
                break

    def finish(self) -> FeatureNet:
        while not self.finished:
            self.step()
        return self.net.eval()


def fit_feature_net(x01: torch.Tensor, labels: torch.Tensor, classes: int, seed: int,
                    steps: int = FIT_STEPS, batch: int = FIT_BATCH) -> FeatureNet:
    """Train a classifier on ``x01`` for ``steps`` steps at once (see :class:`FeatureFit`)."""
    return FeatureFit(x01, labels, classes, seed, steps, batch).finish()


@torch.inference_mode()
def embed(net: FeatureNet, x01: torch.Tensor, batch: int = 256) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(features N x FEATURES, class probabilities N x K or None) of [0, 1] images, in batches."""
    feats, probs = [], []
    for part in x01.split(batch):
        f = net.features(part.float())
        feats.append(f.float())
        if net.head is not None:
            probs.append(net.head(f).float().softmax(1))
    return torch.cat(feats), (torch.cat(probs) if probs else None)
