"""The speed policy in real training: bf16 learns as well as fp32, layouts and compile never change checkpoints.

Each run is a tiny digits CNN on the CPU (one thread, as the deterministic fixture sets).
"""

from __future__ import annotations

import pytest
import torch

from engine.models.cnn import SmallCNN
from engine.runner import Engine
from engine.store import read_run
from engine.training import speed
from gui.testing import small_example
from tests.fakes import deterministic_torch  # noqa: F401

pytestmark = pytest.mark.usefixtures("deterministic_torch")

ACCURACY_TOLERANCE = 0.03  # bf16 autocast may cost at most this much test accuracy against fp32


def digits_cnn(**train):
    return small_example("classify_digits_cnn", train={"epochs": 4, **train},
                         export={"torchscript": False, "onnx": False})


def run_digits(tmp_path, name: str, **train) -> tuple[dict, float]:
    out = tmp_path / name
    result = Engine(disk_cache=False).run(digits_cnn(**train), out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    info = read_run(out)
    return info["nodes"]["train"]["speed"], info["nodes"]["evaluate"]["report"]["accuracy"]


def checkpoint_model(run) -> dict:
    return torch.load(run / "train" / "checkpoints" / "last.pt", weights_only=True)["model"]


@pytest.mark.skipif(not speed.cpu_has_native_bf16(), reason="this CPU has no native bf16")
def test_bf16_autocast_on_the_cpu_reaches_the_accuracy_of_fp32(tmp_path):
    fast, fast_acc = run_digits(tmp_path, "bf16")
    plain, plain_acc = run_digits(tmp_path, "fp32", amp=False)
    assert (fast["precision"], plain["precision"]) == ("bf16", "fp32")
    assert fast["channels_last"] and plain["channels_last"]
    assert plain_acc >= 0.9
    assert abs(fast_acc - plain_acc) <= ACCURACY_TOLERANCE, (fast_acc, plain_acc)


def test_every_choice_and_its_reason_goes_to_run_json_and_the_log(tmp_path):
    out = tmp_path / "run"
    flow = small_example("classify_digits_cnn", train={"epochs": 1}, export={"torchscript": False, "onnx": False})
    assert Engine(disk_cache=False).run(flow, out_dir=out, device="cpu").status == "succeeded"
    record = read_run(out)["nodes"]["train"]["speed"]
    assert record["threads"] == 1 and record["compile"] is False and "planned steps" in record["compile_reason"]
    log = (out / "log.txt").read_text()
    assert "speed: 1 thread(s)" in log and "channels_last on" in log


def test_a_channels_last_checkpoint_loads_into_a_plain_model_and_back():
    torch.manual_seed(0)
    fast = SmallCNN(1, 10, 8, 2, 0.0)
    speed.to_channels_last([fast])
    plain = SmallCNN(1, 10, 8, 2, 0.0)
    state = fast.state_dict()
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in plain.state_dict().items()}
    plain.load_state_dict(state)
    again = SmallCNN(1, 10, 8, 2, 0.0)
    speed.to_channels_last([again])
    again.load_state_dict(plain.state_dict())
    x = torch.randn(2, 1, 16, 16)
    fast.eval(), plain.eval(), again.eval()
    assert torch.allclose(fast(x), plain(x), atol=1e-5) and torch.allclose(again(x), plain(x), atol=1e-5)


def test_channels_last_keeps_the_optimiser_on_the_same_parameters():
    model = SmallCNN(1, 10, 8, 1, 0.0)
    before = [id(p) for p in model.parameters()]
    speed.to_channels_last([model])
    assert [id(p) for p in model.parameters()] == before
    conv = model.features[0][0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)


def test_a_compiled_run_keeps_the_original_state_dict_keys(tmp_path, monkeypatch):
    monkeypatch.setattr(speed, "COMPILE_BACKEND", "eager")  # dynamo without code generation: quick
    out = tmp_path / "run"
    flow = small_example("classify_digits_cnn", train={"epochs": 1, "compile": "on"},
                         export={"torchscript": False, "onnx": False})
    assert Engine(disk_cache=False).run(flow, out_dir=out, device="cpu").status == "succeeded"
    record = read_run(out)["nodes"]["train"]["speed"]
    assert record["compile"] is True  # the engine trains on its worker thread, never the window's
    keys = set(checkpoint_model(out))
    assert keys == set(SmallCNN(1, 10, 16, 2, 0.1).state_dict()) and not any("_orig_mod" in k for k in keys)
    assert "torch.compile failed" not in (out / "log.txt").read_text()


def test_a_compile_that_fails_falls_back_to_eager_with_a_log_line(tmp_path, monkeypatch):
    def broken(gm, example_inputs):  # noqa: ANN001, ANN202 - a torch.compile backend
        raise RuntimeError("no compiler on this machine")

    monkeypatch.setattr(speed, "COMPILE_BACKEND", broken)
    out = tmp_path / "run"
    flow = small_example("classify_digits_cnn", train={"epochs": 1, "compile": "on"},
                         export={"torchscript": False, "onnx": False})
    result = Engine(disk_cache=False).run(flow, out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    log = (out / "log.txt").read_text()
    assert "torch.compile failed" in log and "training on without compiling" in log
    assert not any("_orig_mod" in k for k in checkpoint_model(out))


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_a_gan_whose_compile_fails_mid_step_trains_exactly_as_if_never_compiled(tmp_path, monkeypatch, fail_at):
    """A GAN step compiles several graphs (discriminator, generator, their backward passes): whichever one fails,
    the step is taken again from its start, so the weights match a run that never tried to compile."""
    calls = {"n": 0}

    def fails_later(gm, example_inputs):  # noqa: ANN001, ANN202 - a torch.compile backend
        calls["n"] += 1
        if calls["n"] >= fail_at:
            raise RuntimeError("no compiler for this graph")
        return gm.forward

    def tiny_gan(compile_mode: str):
        return small_example("gan_shapes", data={"count": 64, "size": 8},
                             model={"width": 4, "latent_dim": 8, "pack": 1, "minibatch_std": False,
                                    "conditional": "off"},
                             train={"epochs": 2, "batch_size": 16, "samples": 4, "sample_every": 100,
                                    "compile": compile_mode, "amp": False, "ema": 0.9, "quality_every": 0,
                                    "checkpoint_every": 100000})

    monkeypatch.setattr(speed, "COMPILE_BACKEND", fails_later)
    runs = {}
    for mode in ("on", "off"):
        out = tmp_path / mode
        result = Engine(disk_cache=False).run(tiny_gan(mode), out_dir=out, device="cpu")
        assert result.status == "succeeded", result.message
        runs[mode] = torch.load(out / "train" / "checkpoints" / "last.pt", weights_only=True)
    assert calls["n"] >= fail_at and "torch.compile failed" in (tmp_path / "on" / "log.txt").read_text()
    for part in ("generator", "discriminator"):
        for key, value in runs["off"][part].items():
            assert torch.equal(runs["on"][part][key], value), (part, key)
