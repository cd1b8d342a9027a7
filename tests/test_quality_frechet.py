"""The Fréchet distance behind the generators' quality curve, and the check's promises to training."""

from __future__ import annotations

import math

import pytest
import torch

from engine.generative.quality import QualityCheck, Stats, frechet_distance, stats_of
from engine.generative.quality.check import covered_classes
from engine.training.best import BestKeeper


def gaussian(mean: torch.Tensor, cov: torch.Tensor) -> Stats:
    return Stats(mean.double(), cov.double(), 10_000)


def test_identical_sets_are_at_distance_zero():
    feats = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    assert frechet_distance(stats_of(feats), stats_of(feats.clone())) == pytest.approx(0.0, abs=1e-8)


def test_shifted_gaussians_give_the_closed_form():
    """Same covariance, means apart by d: the distance is |d|^2 exactly."""
    g = torch.Generator().manual_seed(1)
    a = torch.randn(8, 8, generator=g)
    cov = a @ a.T + 0.1 * torch.eye(8)  # a full, non-diagonal covariance
    shift = torch.randn(8, generator=g)
    d = frechet_distance(gaussian(torch.zeros(8), cov), gaussian(shift, cov))
    assert d == pytest.approx(float(shift.double().pow(2).sum()), rel=1e-9)


def test_commuting_covariances_give_the_closed_form():
    """Covariances R diag(s) R^T and R diag(t) R^T: |dmu|^2 + sum (sqrt s - sqrt t)^2."""
    g = torch.Generator().manual_seed(2)
    rot, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
    s, t = torch.rand(6, generator=g).double() + 0.5, torch.rand(6, generator=g).double() * 3
    mu_a, mu_b = torch.randn(6, generator=g).double(), torch.randn(6, generator=g).double()
    d = frechet_distance(gaussian(mu_a, rot @ torch.diag(s) @ rot.T), gaussian(mu_b, rot @ torch.diag(t) @ rot.T))
    expected = float((mu_a - mu_b).pow(2).sum() + (s.sqrt() - t.sqrt()).pow(2).sum())
    assert d == pytest.approx(expected, rel=1e-9)


def test_samples_of_shifted_unit_gaussians_approach_the_closed_form():
    g = torch.Generator().manual_seed(3)
    shift = torch.full((4,), 0.5)  # |d|^2 = 1
    a = torch.randn(20_000, 4, generator=g)
    b = torch.randn(20_000, 4, generator=g) + shift
    assert frechet_distance(stats_of(a), stats_of(b)) == pytest.approx(1.0, abs=0.1)  # sampling noise of the means


def test_fewer_samples_than_features_stay_finite_and_not_negative():
    """Singular covariances (5 samples of 64 features) must not give NaN or a negative distance."""
    g = torch.Generator().manual_seed(4)
    a, b = torch.randn(5, 64, generator=g), torch.randn(5, 64, generator=g)
    d = frechet_distance(stats_of(a), stats_of(b))
    assert math.isfinite(d) and d >= 0
    assert frechet_distance(stats_of(a), stats_of(a)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        stats_of(a[:1])


def test_classes_count_only_those_with_half_their_fair_share_of_confident_samples():
    pred = torch.tensor([0] * 50 + [1] * 45 + [2] * 5)  # 100 samples, 3 classes: need >= 100 / 6 ~ 16.7 each
    confident = torch.ones(100, dtype=torch.bool)
    assert covered_classes(pred, confident, 3) == 2
    confident[:40] = False  # class 0 keeps only 10 confident samples
    assert covered_classes(pred, confident, 3) == 1


def test_best_keeper_knows_lower_quality_is_better_and_runs_out_of_patience():
    keeper = BestKeeper("quality", patience=2)
    module = torch.nn.Linear(2, 1)
    assert keeper.update(10.0, 1, module)
    first = {k: v.clone() for k, v in module.state_dict().items()}
    with torch.no_grad():
        module.weight.add_(1.0)
    assert not keeper.update(12.0, 2, module)
    assert not keeper.exhausted
    assert not keeper.update(float("nan"), 3, module)
    assert keeper.exhausted and keeper.at == 1 and keeper.value == 10.0
    assert keeper.restore(module)
    assert torch.equal(module.weight, first["weight"])
    again = BestKeeper("quality", patience=2)
    again.load_state(keeper.state())
    assert (again.value, again.at, again.bad) == (10.0, 1, 2) and torch.equal(again.weights["weight"], first["weight"])


class _Images:
    """A tiny labelled image dataset with what QualityCheck reads (x, labels, classes, split, images01)."""

    def __init__(self, n: int = 120) -> None:
        g = torch.Generator().manual_seed(5)
        self.labels = torch.arange(n) % 3
        self.x = torch.rand(n, 1, 12, 12, generator=g) * 0.2 + self.labels.view(-1, 1, 1, 1) * 0.3
        self.num_classes, self.channels = 3, 1

    def split(self, name: str) -> torch.Tensor:
        return torch.arange(len(self.x))

    def pixels01(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(0, 1)

    def images01(self, idx: torch.Tensor) -> torch.Tensor:
        return self.pixels01(self.x[idx])


class _Trained:
    """A 'generator' that returns real images: quality about the real-vs-real reference."""

    def __init__(self, data: _Images) -> None:
        self.module = _Copy(data.x)
        self.normalization = {"mean": [0.0], "std": [1.0]}

    def noise(self, n: int, seed: int) -> torch.Tensor:
        return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


class _Copy(torch.nn.Module):
    def __init__(self, x: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("x", x)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.x[: len(z)]


def test_a_check_neither_draws_from_the_global_random_stream_nor_depends_on_it():
    data = _Images()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    check = QualityCheck(data, data.split("all"), seed=0, samples=40)
    ref = check.prepare()
    values = check.measure(_Trained(data))
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(999)  # another global state: the same features, the same numbers
    again = QualityCheck(data, data.split("all"), seed=0, samples=40)
    assert again.prepare().distance == ref.distance
    assert again.measure(_Trained(data)) == values
    assert set(values) == {"quality", "confident", "classes"}
    assert ref.samples == 40 and ref.classifier_accuracy is not None
