"""One quality check of a generator: Fréchet distance to real images, confident share, classes covered.

:class:`QualityCheck` is built once per training run.  :meth:`QualityCheck.prepare`
fits the feature network (or seeds a random one), picks two disjoint halves of
real images, caches their feature statistics and the *reference* distance
between them; :meth:`QualityCheck.measure` then draws the same seeded noise
through the generator every time, so the curve moves only because the
generator does.  Read a distance against the reference: a perfect generator
scores about the reference (two sets of real images of the same size differ
by that much by chance alone).  What a check costs is the caller's business
(:mod:`.watch` keeps the quality work within a share of the training time).

Nothing here draws from the global random streams, and the generator runs in
eval mode under ``inference_mode`` (no batch-norm statistics move), so a run
with quality checks trains exactly the weights it would without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from engine.generative.quality.features import FeatureFit, FeatureNet, build_feature_net, embed
from engine.generative.quality.frechet import Stats, frechet_distance, stats_of
from engine.threads import one_intraop_thread
from engine.training import clock  # tiny convs: one thread is fastest, and the features stay the same

SAMPLES = 500  # generated (and real) images per check: enough for stable statistics, cheap to draw
CONFIDENT = 0.9  # a sample is "confident" when the classifier gives its class at least this probability
SEED_OFFSET = 7_777  # keeps the check's seeds apart from the run's other seeded streams
FIT_IMAGES = 4000  # at most this many real images fit the classifier (its steps are bounded anyway)
HOLD_OUT = 0.1  # of the real images: scores the fitted classifier (a line in the log), never trained on
PROBE = 32  # samples the cost estimate before the first check draws


@dataclass
class Reference:
    """What :meth:`QualityCheck.prepare` learned about the real images."""

    distance: float  # Fréchet distance between two disjoint halves of real images (the floor to aim for)
    samples: int  # images per half, and generated images per check
    labelled: bool
    classifier_accuracy: float | None = None  # on held-out real images
    real_confident: float | None = None  # share of real images the classifier labels confidently

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"quality_reference": round(self.distance, 4), "quality_samples": self.samples}
        if self.classifier_accuracy is not None:
            out["quality_classifier_accuracy"] = round(self.classifier_accuracy, 4)
        if self.real_confident is not None:
            out["quality_real_confident"] = round(self.real_confident, 4)
        return out


def covered_classes(pred: torch.Tensor, confident: torch.Tensor, classes: int) -> int:
    """Classes that get at least half their fair share (1 / 2K) of all samples, counting confident ones only."""
    counts = torch.bincount(pred[confident].cpu(), minlength=classes)
    need = max(1.0, len(pred) / (2 * classes))
    return int((counts >= need).sum())


class QualityCheck:
    """Measures generators against the real images ``pool`` (dataset indices) of an image dataset.

    ``data`` is an :class:`engine.data.datasets.ImageDataset` (model-space
    images and their normalisation); only the images a check needs are turned
    into [0, 1] pixels, on ``device``.
    """

    def __init__(self, data: Any, pool: torch.Tensor, seed: int, device: Any = "cpu",
                 samples: int = SAMPLES) -> None:
        self.data, self.pool, self.device = data, pool.cpu(), device
        self.labels = data.labels
        self.num_classes = int(data.num_classes) if data.labels is not None else 0
        self.seed = seed + SEED_OFFSET
        self.samples = max(2, min(samples, len(pool) // 2))
        self.net: FeatureNet | None = None
        self.real: Stats | None = None
        self.reference: Reference | None = None
        self.fit: FeatureFit | None = None  # the classifier being fitted (labelled data), until prepare ends

    @property
    def ready(self) -> bool:
        """Whether :meth:`prepare` has run (checks can measure at once)."""
        return self.reference is not None

    @property
    def labelled(self) -> bool:
        return self.labels is not None and self.num_classes > 1

    def pixels(self, idx: torch.Tensor) -> torch.Tensor:
        """[0, 1] pixels of dataset indices ``idx``, on the check's device.

        Through ``images01``, which knows how the dataset stores its pixels: uint8
        storage (image folders) is raw 0..255, not normalised, so undoing the
        normalisation on it would clamp nearly every pixel to 1 (blank images, a
        classifier at chance and a Fréchet distance of ~0 for any generator).
        """
        return self.data.images01(idx.cpu()).to(self.device)

    def _order(self) -> torch.Tensor:
        return self.pool[torch.randperm(len(self.pool), generator=torch.Generator().manual_seed(self.seed))]

    def _held_out(self, order: torch.Tensor) -> torch.Tensor:
        return order[len(order) - max(1, int(HOLD_OUT * len(order))):][:SAMPLES]

    def advance(self, seconds: float) -> None:
        """Spend about ``seconds`` on fitting the classifier (labelled data; at least one step), so the fit can
        be spread over training steps instead of holding up the start; :meth:`prepare` finishes the rest."""
        if self.ready or not self.labelled:
            return
        with one_intraop_thread():
            if self.fit is None:
                assert self.labels is not None
                order = self._order()
                fit_idx = order[: len(order) - len(self._held_out(order))][:FIT_IMAGES]
                self.fit = FeatureFit(self.pixels(fit_idx), self.labels.cpu()[fit_idx].to(self.device),
                                      self.num_classes, self.seed)
            self.fit.advance(seconds)

    @property
    def fitted(self) -> bool:
        """Whether the features are ready to be summarised (fit finished, or nothing to fit)."""
        return not self.labelled or (self.fit is not None and self.fit.finished) or self.net is not None

    @property
    def fit_pace(self) -> float:
        """Seconds per step of the classifier's fit so far (0 before its first step, or with nothing to fit)."""
        return self.fit.pace if self.fit is not None else 0.0

    def prepare(self) -> Reference:
        """Fit (or seed) the features and summarise the real images; call once before :meth:`measure`."""
        if self.labelled and self.fit is None and self.net is None:
            self.advance(0.0)  # builds the fit (one step); the rest below
        with one_intraop_thread():
            self.reference = self._prepare()
        return self.reference

    def _prepare(self) -> Reference:
        n = self.samples
        order = self._order()
        half_a, half_b = order[:n], order[n:2 * n]
        accuracy = real_conf = None
        if self.labelled:
            assert self.labels is not None and self.fit is not None
            held = self._held_out(order)
            labels = self.labels.cpu()
            self.net = self.fit.finish()
            self.fit = None
            _, probs = embed(self.net, self.pixels(held))
            assert probs is not None
            conf, pred = probs.cpu().max(1)
            accuracy = float((pred == labels[held]).float().mean())
            real_conf = float((conf >= CONFIDENT).float().mean())
        else:
            self.net = build_feature_net(self.data.channels, 0, self.seed, self.data.size[-1]).to(self.device).eval()
        feats_a, _ = embed(self.net, self.pixels(half_a))
        feats_b, _ = embed(self.net, self.pixels(half_b))
        self.real = stats_of(feats_a)
        distance = frechet_distance(self.real, stats_of(feats_b))
        return Reference(distance, n, self.labelled, accuracy, real_conf)

    def measure(self, trained: Any) -> dict[str, float]:
        """``quality`` (Fréchet distance to real images), and with labels ``confident`` and ``classes``."""
        if self.net is None or self.real is None:
            self.prepare()
        assert self.net is not None and self.real is not None
        with one_intraop_thread():
            fake01 = generate01(trained, self.samples, self.seed + 1, self.device)
            feats, probs = embed(self.net, fake01)
        out = {"quality": frechet_distance(self.real, stats_of(feats))}
        if probs is not None:
            conf, pred = probs.max(1)
            confident = conf >= CONFIDENT
            out["confident"] = float(confident.float().mean())
            out["classes"] = float(covered_classes(pred, confident, self.num_classes))
        return out

    def probe(self, trained: Any, n: int = PROBE) -> float:
        """Seconds to draw and embed ``n`` samples scaled to a whole check: an estimate before the first one.

        With the features not fitted yet, the probe embeds with a random network of the same shape (the same
        cost).  Draws only its own seeded noise, like :meth:`measure`.
        """
        n = max(1, min(n, self.samples))
        net = self.net if self.net is not None else build_feature_net(self.data.channels, self.num_classes, self.seed,
                                                                      self.data.size[-1])
        start = clock.now()
        with one_intraop_thread():
            embed(net.to(self.device), generate01(trained, n, self.seed + 2, self.device))
        return (clock.now() - start) * self.samples / n


def generate01(trained: Any, n: int, seed: int, device: Any, batch: int = 250) -> torch.Tensor:
    """``n`` [0, 1] images from ``trained`` (a TrainedGenerator) for fixed seeded noise, in eval mode.

    A conditional generator (one that carries ``classes``) gets the classes in
    turn (0, 1, ..., K-1, 0, ...), so every class is asked for equally often.
    """
    from engine.generative.preview import to_pixels01

    module = trained.module
    z = trained.noise(n, seed).to(device)
    classes = conditional_classes(trained)
    labels = torch.arange(n, device=device) % classes if classes else None
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            parts = []
            for i in range(0, n, batch):
                args = (z[i:i + batch],) if labels is None else (z[i:i + batch], labels[i:i + batch])
                parts.append(to_pixels01(module(*args).float(), trained.normalization))
    finally:
        module.train(was_training)
    return torch.cat(parts)


def conditional_classes(trained: Any) -> int:
    """How many classes a conditional generator takes (its module is called ``module(z, labels)``); 0 otherwise."""
    if not getattr(trained, "conditional", False):
        return 0
    classes = getattr(trained, "classes", None) or ()
    return len(classes) if not isinstance(classes, int) else classes
