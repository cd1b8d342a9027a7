"""Class-conditional DCGAN and VAE: when a model draws classes, what it is built of, and grids with a row per class."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.data.builtin import load_digits
from engine.errors import UserInputError
from engine.generative import GenSpec, build_gan, build_generator
from engine.generative.card import load_generator
from engine.generative.conditional import grid_inputs, resolve_conditional
from engine.runner import Engine
from engine.workflow import Workflow

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
SIDE, SAMPLES, PAD = 16, 20, 2  # 20 samples over 10 classes: 2 columns


@pytest.fixture(scope="module")
def digits():
    return load_digits(8)


def test_auto_draws_classes_when_the_images_have_labels(digits) -> None:
    spec, classes, note = resolve_conditional(GenSpec("dcgan", {"conditional": "auto"}), digits, "train")
    assert spec.num_classes == 10 and classes == tuple(str(d) for d in range(10)) and "10 classes" in note
    unlabelled = dataclasses.replace(digits, labels=None)
    spec, classes, _ = resolve_conditional(GenSpec("vae", {"conditional": "auto"}), unlabelled, "train")
    assert spec.num_classes == 0 and classes == ()


def test_off_never_and_on_insists_on_labels(digits) -> None:
    assert resolve_conditional(GenSpec("dcgan", {"conditional": "off"}), digits, "train")[0].num_classes == 0
    with pytest.raises(UserInputError, match="node 'train'.*no class labels"):
        resolve_conditional(GenSpec("dcgan", {"conditional": "on"}), dataclasses.replace(digits, labels=None), "train")


def test_a_packing_discriminator_trains_without_classes_under_auto_and_refuses_on(digits) -> None:
    spec, classes, note = resolve_conditional(GenSpec("dcgan", {"conditional": "auto", "pack": 4}), digits, "train")
    assert spec.num_classes == 0 and classes == () and "pack" in note
    with pytest.raises(UserInputError, match="set pack to 1"):
        resolve_conditional(GenSpec("dcgan", {"conditional": "on", "pack": 4}), digits, "train")


def test_the_mlp_gan_is_never_conditional(digits) -> None:
    assert resolve_conditional(GenSpec("gan_mlp", {"conditional": "on"}), digits, "train")[0].num_classes == 0


def test_a_grid_has_one_row_per_class_and_the_same_noise_down_each_column() -> None:
    latents = torch.randn(SAMPLES, 4)
    z, labels, cols = grid_inputs(latents, 10)
    assert cols == 2 and len(z) == 20
    assert labels.tolist() == [k for k in range(10) for _ in range(2)]
    for row in range(10):
        assert torch.equal(z[2 * row:2 * row + 2], latents[:2])
    assert grid_inputs(latents, 0) == (latents, None, 0)


def test_the_conditional_generator_and_projection_discriminator_use_the_label() -> None:
    g, d = build_gan(GenSpec("dcgan", {"latent_dim": 8, "width": 8, "num_classes": 3}), (1, SIDE, SIDE))
    g.eval(), d.eval()
    z = torch.randn(2, 8)
    with pytest.raises(ValueError, match="needs the labels"):
        g(z)
    a, b = g(z, torch.tensor([0, 0])), g(z, torch.tensor([1, 1]))
    assert a.shape == (2, 1, SIDE, SIDE) and not torch.equal(a, b)  # the class changes the picture
    with torch.no_grad():
        d.project.weight.normal_()  # (it starts near zero)
    assert not torch.equal(d(a, torch.tensor([0, 0])), d(a, torch.tensor([2, 2])))  # and the verdict


def tiny(kind: str) -> Workflow:
    wf = Workflow.load(EXAMPLES / f"{kind}_digits.json")
    wf.node("data").params.update(size=SIDE)
    wf.node("model").params.update(width=8, latent_dim=8, conditional="on")
    wf.node("train").params.update(epochs=1, time_budget=0.0, batch_size=128, sample_every=1000, samples=SAMPLES)
    wf.node("generate").params.update(n=4, **{"class": "7"})
    return wf


@pytest.mark.parametrize("kind", ["gan", "vae"])
def test_a_conditional_model_trains_and_its_grid_shows_one_row_per_class(kind: str, tmp_path: Path) -> None:
    run = tmp_path / kind
    result = Engine(disk_cache=False).run(tiny(kind), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    trained = load_generator(run / "train" / "generator.json")
    assert trained.classes == tuple(str(d) for d in range(10)) and trained.spec.num_classes == 10
    grids = sorted((run / "train" / "samples").glob("step_*.png"))
    assert grids, "no sample grid"
    height, width = np.asarray(Image.open(grids[-1])).shape[:2]
    assert (height, width) == (PAD + 10 * (SIDE + PAD), PAD + 2 * (SIDE + PAD))  # 10 rows (classes) x 2 columns
    assert "class-conditional on 10 classes" in (run / "log.txt").read_text()
    assert len(list((run / "generate" / "images").glob("*.png"))) == 4


def test_a_card_whose_classes_do_not_match_its_model_is_refused(tmp_path: Path) -> None:
    from engine.generative.card import card_problem

    card = {"arch": "vae", "params": {"num_classes": 3}, "sample_shape": [1, 16, 16], "classes": ["a", "b"]}
    assert "names 2 classes" in card_problem(card)
    assert card_problem({**card, "classes": ["a", "b", "c"]}) == ""
    assert build_generator(GenSpec("vae", card["params"]), (1, 16, 16)).fc.in_features == 16 + 3


def test_mode_seeking_pairs_share_a_class_and_punish_noise_that_changes_nothing() -> None:
    from engine.training.gan import mode_seeking, paired_labels

    assert paired_labels(torch.tensor([3, 1, 4, 1, 5])).tolist() == [3, 1, 3, 1, 5]
    z = torch.randn(8, 4)
    same = torch.zeros(8, 1, 4, 4)
    varied = torch.randn(8, 1, 4, 4)
    assert mode_seeking(same, z) > 1000 * mode_seeking(varied, z)  # one picture for every noise: a large penalty
