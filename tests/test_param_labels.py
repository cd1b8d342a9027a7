"""Parameter labels are words an analyst reads, and every parameter says what it does.

The inspector, ``loom steps`` and the docs show ``Param.title``: the declared
``label``, else the name with its underscores turned to spaces.  A name such
as ``lr_g`` then reads "Lr g", which says nothing to someone who did not
write the code, so such a param needs a label.  The rule checked here: no
title word is a known abbreviation or a bare one- or two-letter fragment
(short English words and the "k" of "top-k" excepted), and every
param, advanced or not, has help text (the inspector shows it under the field).
"""

from __future__ import annotations

import re

import pytest

from engine.steps.registry import all_steps

SHORT_WORDS = {"a", "an", "as", "at", "by", "in", "of", "on", "or", "to", "up", "per"}
# Spellings the automatic title produces from code names; in a title they mean the name was never given words.
ABBREVIATIONS = {"lr", "dim", "eps", "std", "mb", "len", "ff", "val", "kfold", "fgsm", "amp", "hflip", "vflip",
                 "beta1", "beta2", "embed", "dedupe", "opset", "onnx", "torchscript", "vocab", "max", "min", "num",
                 "norm", "cfg", "params", "init", "dropout_p", "lr_g", "lr_d"}
ACRONYMS = {"ONNX", "GPU", "CPU", "CSV", "FGSM", "Adam", "TorchScript"}  # written the way their owners write them

# Loom's own steps (tests register helper steps of their own, which no analyst sees).
PARAMS = [(spec.type, param) for spec in all_steps() if spec.run.__module__.startswith("engine.")
          for param in spec.params]


def bad_words(title: str) -> list[str]:
    """Title words that read as code: abbreviations, and short fragments that are not English words."""
    bad = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9_]*", title.replace("Top-k", "Top k sampling")):
        if word in ACRONYMS:
            continue
        low = word.lower()
        if low in ABBREVIATIONS or (len(low) <= 2 and low not in SHORT_WORDS and low != "k"):
            bad.append(word)
    return bad


def test_the_rule_catches_the_names_it_is_meant_for() -> None:
    assert bad_words("Lr g") == ["Lr", "g"]
    assert bad_words("Latent dim") == ["dim"]
    assert bad_words("Onnx") == ["Onnx"]
    assert bad_words("Generator learning rate") == []
    assert bad_words("Noise size (latent dimensions)") == []
    assert bad_words("Top-k sampling") == []


@pytest.mark.parametrize(("step", "param"), PARAMS, ids=[f"{s}.{p.name}" for s, p in PARAMS])
def test_every_title_reads_as_words(step: str, param) -> None:
    assert bad_words(param.title) == [], f"{step}.{param.name} reads {param.title!r}: give it label=... in words"


@pytest.mark.parametrize(("step", "param"), PARAMS, ids=[f"{s}.{p.name}" for s, p in PARAMS])
def test_every_param_has_help_text(step: str, param) -> None:
    assert len(param.help.split()) >= 3, f"{step}.{param.name} has no help text to show under its field"


def test_every_advanced_param_says_what_it_does() -> None:
    advanced = [(step, p) for step, p in PARAMS if p.advanced]
    assert advanced, "some params are advanced"
    assert [f"{step}.{p.name}" for step, p in advanced if len(p.help.split()) < 3] == []


def test_the_gan_trainer_speaks_of_generator_and_discriminator() -> None:
    titles = {p.name: p.title for step, p in PARAMS if step == "train_gan"}
    assert titles["lr_g"] == "Generator learning rate"
    assert titles["lr_d"] == "Discriminator learning rate"
    latent = {step: p.title for step, p in PARAMS if p.name == "latent_dim"}
    assert latent["dcgan"] == "Noise size (latent dimensions)"
