"""The quality check's features must see the images as they are, however the dataset stores its pixels.

An image folder keeps its pixels as uint8 0..255 (normalised only when read); the check once undid the
normalisation on those raw values, so every pixel clamped to 1, the classifier scored chance and every
generator scored a Fréchet distance of ~0.  These tests pin the fix on the built-in shapes stored that way.
"""

from __future__ import annotations

import pytest
import torch

from engine.data.datasets import ImageDataset
from engine.data.shapes import make_shapes
from engine.data.transforms import normalize_images
from engine.generative.quality import QualityCheck


def shapes_as_an_image_folder(count: int = 600, size: int = 32) -> ImageDataset:
    """The built-in shapes (4 classes, RGB) stored like a decoded PNG folder: uint8, normalised to -1..1 on read."""
    drawn = make_shapes(count, size, seed=0, layout="centred")
    u8 = ImageDataset(x=(drawn.x * 255).round().to(torch.uint8), labels=drawn.labels, classes=drawn.classes,
                      name="folder")
    data = normalize_images(u8, 0, "3", "-1..1")
    assert data.eight_bit  # the storage the bug lived in
    return data


class _Generator:
    """A stand-in TrainedGenerator whose module returns fixed model-space images (whatever the noise)."""

    conditional = False

    def __init__(self, images: torch.Tensor) -> None:
        self.module = _Fixed(images)
        self.normalization = {"mean": [0.5], "std": [0.5]}

    def noise(self, n: int, seed: int) -> torch.Tensor:
        return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


class _Fixed(torch.nn.Module):
    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("images", images)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.images[: len(z)]


def test_the_check_reads_uint8_pixels_as_they_are():
    data = shapes_as_an_image_folder(count=40, size=8)
    check = QualityCheck(data, data.split("all"), seed=0, samples=10)
    idx = torch.tensor([3, 1, 7])
    assert torch.equal(check.pixels(idx), data.x[idx].float() / 255)


@pytest.fixture(scope="module")
def fitted() -> tuple[ImageDataset, QualityCheck]:
    data = shapes_as_an_image_folder()
    check = QualityCheck(data, data.split("all"), seed=0, samples=150)
    check.prepare()
    return data, check


def test_fitted_features_tell_the_built_in_shapes_apart_on_held_out_images(fitted):
    _, check = fitted
    ref = check.reference
    assert ref is not None and ref.labelled
    assert ref.classifier_accuracy is not None and ref.classifier_accuracy >= 0.8  # chance is 0.25
    assert ref.real_confident is not None and ref.real_confident >= 0.5


def test_real_halves_score_a_clear_floor_and_noise_scores_far_above_it(fitted):
    data, check = fitted
    floor = check.reference.distance
    assert floor > 0.05  # not degenerate: the features vary from image to image
    noise = torch.rand(150, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    blank = torch.ones(150, 3, 32, 32)  # an all-white "generator": what the bug made of every real image
    real = data.images(data.split("all")[-150:])  # real images the halves did not use up
    scores = {name: check.measure(_Generator(x))["quality"] for name, x in
              (("noise", noise), ("blank", blank), ("real", real))}
    assert scores["noise"] > 10 * floor and scores["blank"] > 10 * floor
    assert scores["real"] < 2 * floor  # real images score about the floor


def test_the_fit_is_the_same_in_slices_or_at_once_and_ends_early_on_easy_data(monkeypatch):
    """The features never depend on timing: slices of any length give the weights of one uninterrupted fit."""
    from engine.generative.quality.features import FeatureFit
    from tests.fakes import install_fake_clock

    clock = install_fake_clock(monkeypatch, tick=0.001)  # every clock reading moves time on a little
    data = shapes_as_an_image_folder(count=400, size=16)
    x01, labels = data.images01(), data.labels

    at_once = FeatureFit(x01, labels, 4, seed=3)
    cap = at_once.steps
    net = at_once.finish()
    assert at_once.done < cap  # centred shapes are easy: 20 batches in a row all right, and it stops

    sliced = FeatureFit(x01, labels, 4, seed=3)
    while not sliced.finished:
        sliced.advance(0.0025)  # two or three steps per slice
        clock.advance(1.0)  # training steps in between
    assert sliced.done == at_once.done
    a, b = net.state_dict(), sliced.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
