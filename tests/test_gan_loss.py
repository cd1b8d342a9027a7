"""The GAN objective: non-saturating generator loss, one-sided label smoothing."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812

from engine.training import gan


def test_generator_loss_is_computed_against_the_real_label():
    logits = torch.tensor([-6.0, -1.0, 0.0, 2.0])
    expected = F.binary_cross_entropy_with_logits(logits, torch.ones(4))  # target = "real"
    assert torch.allclose(gan.generator_loss(logits), expected)
    # i.e. -log D(G(z)), not log(1 - D(G(z)))
    assert torch.allclose(gan.generator_loss(logits), -torch.log(torch.sigmoid(logits)).mean(), atol=1e-6)


def test_generator_gradient_does_not_vanish_when_the_discriminator_wins():
    # D confidently rejects the fakes (logit -8): the saturating loss gives ~0 gradient there.
    logits = torch.full((8,), -8.0, requires_grad=True)
    gan.generator_loss(logits).backward()
    non_saturating = logits.grad.abs().mean().item()
    logits2 = torch.full((8,), -8.0, requires_grad=True)
    (-F.binary_cross_entropy_with_logits(logits2, torch.zeros(8))).backward()  # saturating form
    saturating = logits2.grad.abs().mean().item()
    assert non_saturating > 100 * saturating
    assert (logits.grad < 0).all()  # descending the loss raises D's score of the fakes


def test_label_smoothing_is_one_sided():
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([-2.0, 0.5])
    smoothed = gan.discriminator_loss(real, fake, smoothing=0.1)
    expected = F.binary_cross_entropy_with_logits(real, torch.full((2,), 0.9)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros(2)
    )
    assert torch.allclose(smoothed, expected)
    plain = gan.discriminator_loss(real, fake)
    assert torch.allclose(plain, F.binary_cross_entropy_with_logits(real, torch.ones(2)) + F.binary_cross_entropy_with_logits(fake, torch.zeros(2)))
