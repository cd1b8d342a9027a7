"""The Fréchet distance between two sets of feature vectors (as FID, with our own features).

Each set is summarised by the mean and covariance of its features (a
Gaussian); the distance between two Gaussians is

    d^2 = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2)

(Dowson & Landau, 1982).  The cross term uses only symmetric matrices:
``S_a^1/2 S_b S_a^1/2`` is symmetric positive semi-definite and has the same
eigenvalues as ``S_a S_b``, so two ``eigh`` calls in float64 replace scipy's
general ``sqrtm``.  Negative eigenvalues (round-off, or covariances of fewer
samples than features, which are singular) are clamped to 0, so the result is
finite and >= 0 for any sample count >= 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Stats:
    """Mean (D) and covariance (D x D) of a set of feature vectors, in float64."""

    mean: torch.Tensor
    cov: torch.Tensor
    count: int


def stats_of(features: torch.Tensor) -> Stats:
    """The Gaussian summary of N x D ``features`` (N >= 2; the unbiased covariance)."""
    f = features.detach().to("cpu", torch.float64)
    if f.dim() != 2 or f.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors (N x D), got shape {tuple(f.shape)}")
    mean = f.mean(0)
    centred = f - mean
    cov = centred.T @ centred / (f.shape[0] - 1)
    return Stats(mean, cov, int(f.shape[0]))


def sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    """The square root of a symmetric positive semi-definite matrix (eigenvalues below 0 count as 0)."""
    sym = (m + m.T) / 2
    values, vectors = torch.linalg.eigh(sym)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: Stats, b: Stats) -> float:
    """Fréchet distance between the Gaussians of ``a`` and ``b`` (0 for identical sets; lower = closer)."""
    root_a = sqrt_psd(a.cov)
    middle = root_a @ b.cov @ root_a
    cross = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    value = (a.mean - b.mean).pow(2).sum() + a.cov.trace() + b.cov.trace() - 2 * cross
    return max(0.0, float(value))
