"""dcgan's draw_size: a generator that draws at the data's native size and upscales it the way the data was.

The built-in digits are 8 x 8 upscaled bicubically; the digits recipe draws them at 8 px and upscales with the
same fixed kernel, which brought its Fréchet distance from ~2-8x the real-vs-real floor to ~1.1x
(bench/judge_samples.py).  These tests pin what that promises.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from engine.generative import GenSpec, build_gan, build_generator
from engine.generative.card import load_generator
from engine.runner import Engine
from engine.validation import validate
from engine.workflow import Workflow
from gui.wizards.recipes import GenerateChoices, generate_workflow

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


def test_samples_are_bicubic_upscales_of_an_image_drawn_at_draw_size():
    g, d = build_gan(GenSpec("dcgan", {"latent_dim": 8, "width": 8, "draw_size": 8, "num_classes": 10}), (1, 16, 16))
    g.eval()
    z, labels = torch.randn(5, 8), torch.arange(5)
    with torch.no_grad():
        out = g(z, labels)
        small = g.net(torch.cat([z, g.embed(labels)], 1).view(5, -1, 1, 1))
    assert small.shape == (5, 1, 8, 8) and out.shape == (5, 1, 16, 16)
    assert torch.allclose(out, F.interpolate(small, size=(16, 16), mode="bicubic", align_corners=False).clamp(-1, 1))
    assert d(out, labels).shape == (5,)  # the discriminator judges the full-size images


def test_draw_size_0_or_the_image_size_changes_nothing():
    spec = {"latent_dim": 8, "width": 8}
    plain = build_generator(GenSpec("dcgan", spec), (1, 16, 16))
    for same in (0, 16):
        other = build_generator(GenSpec("dcgan", {**spec, "draw_size": same}), (1, 16, 16))
        assert plain.state_dict().keys() == other.state_dict().keys()
        assert [v.shape for v in plain.state_dict().values()] == [v.shape for v in other.state_dict().values()]


@pytest.mark.parametrize("draw, words", [(32, "larger than the images"), (5, "draw_size 5")])
def test_a_draw_size_the_model_cannot_draw_says_so(draw, words):
    with pytest.raises(ValueError, match=words):
        build_gan(GenSpec("dcgan", {"draw_size": draw}), (1, 16, 16))


def test_the_digits_recipes_draw_at_the_digits_native_8_px():
    example = Workflow.load(EXAMPLES / "gan_digits.json")
    assert validate(example) == [] and example.node("model").params["draw_size"] == 8
    assert generate_workflow(GenerateChoices()).node("model").params["draw_size"] == 8


def test_a_run_drawing_at_8_px_saves_a_card_that_draws_16_px_images(tmp_path):
    wf = Workflow.load(EXAMPLES / "gan_digits.json")
    wf.node("model").params.update(width=8, latent_dim=8)
    wf.node("train").params.update(epochs=1, time_budget=0.0, batch_size=64, sample_every=50, samples=10,
                                   quality_every=0)
    wf.remove_node("generate")
    run = tmp_path / "run"
    assert Engine(disk_cache=False).run(wf, out_dir=run, device="cpu").status == "succeeded"
    card = load_generator(run / "train" / "generator.json")
    images = card.decode01(card.noise(4, 0), labels=torch.tensor([7, 7, 1, 1]))
    assert images.shape == (4, 1, 16, 16) and float(images.min()) >= 0 and float(images.max()) <= 1
