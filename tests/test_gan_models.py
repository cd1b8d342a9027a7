"""The GAN architectures: sized from the data, initialised as DCGAN prescribes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.generative import GenSpec, build_gan
from engine.generative.shapes import conv_plan


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 32, 32), (3, 32, 32), (3, 64, 64)])
def test_dcgan_generator_and_discriminator_fit_the_image_shape(shape):
    g, d = build_gan(GenSpec("dcgan", {"latent_dim": 16, "width": 8}), shape)
    z = torch.randn(4, 16)
    fake = g(z)
    assert fake.shape == (4, *shape)
    assert fake.min() >= -1 and fake.max() <= 1  # Tanh output matches data in -1..1
    assert d(fake).shape == (4,)  # one logit per image


def test_dcgan_uses_the_dcgan_initialisation():
    g, d = build_gan(GenSpec("dcgan", {"width": 32}), (1, 32, 32))
    convs = [m.weight for m in [*g.modules(), *d.modules()] if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    norms = [m.weight for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    all_conv = torch.cat([w.flatten() for w in convs])
    all_bn = torch.cat([w.flatten() for w in norms])
    assert abs(all_conv.mean()) < 0.002 and 0.018 < all_conv.std() < 0.022
    assert abs(all_bn.mean() - 1.0) < 0.01 and 0.01 < all_bn.std() < 0.03


def test_dcgan_discriminator_ends_in_a_logit_not_a_sigmoid():
    g, d = build_gan(GenSpec("dcgan", {"width": 8}), (1, 32, 32))
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    assert isinstance(list(d.modules())[-1], nn.Conv2d)


def test_mlp_gan_matches_the_classic_layout():
    g, d = build_gan(GenSpec("gan_mlp", {}), (1, 28, 28))
    widths = [m.out_features for m in g.modules() if isinstance(m, nn.Linear)]
    assert widths == [256, 512, 1024, 28 * 28]
    assert [m.p for m in d.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3, 0.3]
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in g.modules())
    assert isinstance(list(g.modules())[-1], nn.Tanh)
    assert g(torch.randn(2, 100)).shape == (2, 1, 28, 28)
    assert d(torch.randn(2, 1, 28, 28)).shape == (2,)


@pytest.mark.parametrize("shape", [(1, 30, 30), (1, 32, 28), (2, 32, 32)])
def test_shapes_the_conv_models_cannot_take_are_refused_with_a_fix(shape):
    with pytest.raises(ValueError) as err:
        conv_plan(shape)
    assert "px" in str(err.value) or "channels" in str(err.value)


def test_minibatch_std_shows_the_discriminator_how_alike_a_batch_is():
    from engine.generative.dcgan import MinibatchStd

    varied = MinibatchStd()(torch.randn(8, 4, 2, 2))
    alike = MinibatchStd()(torch.randn(1, 4, 2, 2).expand(8, 4, 2, 2))
    assert varied.shape == alike.shape == (8, 5, 2, 2)
    assert alike[:, 4].abs().max() == 0 and varied[:, 4].min() > 0.5  # a collapsed batch has zero spread


@pytest.mark.parametrize("options", [{"minibatch_std": True}, {"d_norm": "spectral"}, {"pack": 4},
                                     {"minibatch_std": True, "d_norm": "spectral", "pack": 2}])
def test_anti_collapse_options_keep_the_discriminator_a_logit_per_image(options):
    g, d = build_gan(GenSpec("dcgan", {"latent_dim": 16, "width": 8, **options}), (3, 32, 32))
    logits = d(g(torch.randn(8, 16)))
    assert logits.shape == (8 // options.get("pack", 1),)  # one logit per image, or per pack of images
    logits.sum().backward()
    assert all(p.grad is not None for p in d.parameters())
    spectral = options.get("d_norm") == "spectral"
    assert any(isinstance(m, nn.BatchNorm2d) for m in d.modules()) is not spectral
    first_conv = next(m for m in d.modules() if isinstance(m, nn.Conv2d))
    assert nn.utils.parametrize.is_parametrized(first_conv) is spectral


def test_packing_judges_images_together_in_order():
    from engine.generative.dcgan import Pack

    x = torch.arange(5 * 3 * 2 * 2, dtype=torch.float32).view(5, 3, 2, 2)
    packed = Pack(2)(x)
    assert packed.shape == (2, 6, 2, 2)  # the fifth image, which fills no pack, is dropped
    assert torch.equal(packed[1], torch.cat([x[2], x[3]]))
