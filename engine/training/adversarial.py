"""FGSM: the fast gradient sign attack, for adversarial training and robustness checks.

Epsilon is in pixel units (images in [0, 1]) whatever normalisation the data
went through, so ``0.1`` means the same visible change for every dataset;
perturbed images are clamped back into the valid pixel range.  For tables the
step is taken in (standardised) feature units and not clamped.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812

from engine.data.datasets import ImageDataset, TensorDataset


@dataclass(frozen=True)
class PixelSpace:
    """Per-channel scale and bounds of the model's input space."""

    scale: torch.Tensor | None  # epsilon (pixels) -> input units, broadcastable
    lo: torch.Tensor | None
    hi: torch.Tensor | None

    @classmethod
    def of(cls, data: TensorDataset, device: str | torch.device) -> PixelSpace:
        if not isinstance(data, ImageDataset):
            return cls(None, None, None)
        mean = torch.tensor(data.normalization.mean, device=device).view(1, -1, 1, 1)
        std = torch.tensor(data.normalization.std, device=device).view(1, -1, 1, 1)
        if mean.shape[1] == 1 and data.channels > 1:
            mean, std = mean.expand(1, data.channels, 1, 1), std.expand(1, data.channels, 1, 1)
        return cls(1.0 / std, (0 - mean) / std, (1 - mean) / std)


def fgsm(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float, space: PixelSpace,
         loss_fn=F.cross_entropy) -> torch.Tensor:  # noqa: ANN001 - any (logits, y) -> loss callable
    """``x`` moved by ``epsilon`` along the sign of the loss gradient (no grad kept)."""
    with torch.enable_grad():
        x_adv = x.detach().clone().requires_grad_(True)
        loss = loss_fn(model(x_adv).float(), y)
        (grad,) = torch.autograd.grad(loss, x_adv)
    step = grad.sign() * (epsilon if space.scale is None else epsilon * space.scale)
    out = x.detach() + step
    if space.lo is not None:
        out = torch.maximum(torch.minimum(out, space.hi), space.lo)
    return out.detach()


def robustness(model: torch.nn.Module, data: TensorDataset, split: str, epsilons: list[float], device: str,
               batch_size: int = 256) -> dict[str, float]:
    """Accuracy on ``split`` when every sample is attacked with FGSM at each epsilon."""
    space = PixelSpace.of(data, device)
    was_training = model.training
    model.eval()
    correct = dict.fromkeys(epsilons, 0)
    total = 0
    for xb, yb in data.batches(split, batch_size, device):
        total += len(yb)
        for eps in epsilons:
            xa = fgsm(model, xb, yb, eps, space) if eps > 0 else xb
            with torch.no_grad():
                correct[eps] += int((model(xa).argmax(1) == yb).sum())
    model.train(was_training)
    return {f"{eps:g}": (correct[eps] / total if total else float("nan")) for eps in epsilons}
