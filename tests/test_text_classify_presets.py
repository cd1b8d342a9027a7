"""The text presets the wizard offers and the bench measures are valid params of the steps they set."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.steps.registry import get_step
from engine.text_presets import PRESETS
from engine.validation import check_params
from tests.conftest import ROOT


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_sets_only_params_its_model_and_train_steps_accept(key):
    preset = PRESETS[key]
    assert check_params("model", get_step(preset.model_type), preset.model) == []
    assert check_params("train", get_step("train"), preset.train) == []
    tokenize = get_step("tokenize")
    if tokenize is not None:  # the tokenize step is declared by the text data steps
        chosen = {"path": "/a/model/folder"} if preset.needs_local_model() else {}  # the wizard asks for it
        assert check_params("tokenize", tokenize, {**preset.tokenize, **chosen}) == []
    assert "time_budget" not in preset.train  # the user's budget, set by the wizard or the bench


def test_the_presets_load_without_torch():
    code = "import sys, engine.text_presets; assert 'torch' not in sys.modules, 'torch was imported'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_the_text_model_steps_are_declared_without_importing_torch_or_transformers():
    code = ("import sys; from engine.steps.registry import get_step; assert get_step('pretrained_text'); "
            "assert get_step('gru') and get_step('transformer'); "
            "bad = {'torch', 'transformers'} & set(sys.modules); assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
