"""GRU, LSTM and Transformer text classifiers: padding is masked, they learn, and they export to ONNX faithfully."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

from engine.models import ModelSpec, build_model
from engine.runner import Engine
from engine.steps.registry import get_step
from engine.store import read_run
from tests.fakes import deterministic_torch  # noqa: F401 - one thread: fair to the other tests on a busy machine
from tests.text_flows import SMALL, classify_texts
from tests.toy_texts import text_dataset

pytestmark = pytest.mark.usefixtures("deterministic_torch")

FACTS = {"input_shape": (20,), "num_classes": 3, "vocab_size": 60, "pad_id": 0}
VARIANTS = [
    ("gru", {"bidirectional": True, "layers": 2, "pooling": "mean_max"}),
    ("gru", {"bidirectional": True, "pooling": "last"}),
    ("lstm", {"bidirectional": False, "pooling": "last"}),
    ("lstm", {"bidirectional": True, "pooling": "max"}),
    ("transformer", {"pooling": "mean", "positions": "learned"}),
    ("transformer", {"pooling": "cls", "positions": "sinusoidal"}),
    ("transformer", {"pooling": "max", "layers": 1}),
]


def built(arch: str, params: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    spec = ModelSpec(arch, {**get_step(arch).defaults(), **SMALL[arch], **params})
    return build_model(spec, FACTS).eval()


@pytest.mark.parametrize(("arch", "params"), VARIANTS)
def test_padding_after_a_text_never_changes_its_prediction(arch, params):
    model = built(arch, params)
    gen = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        for length in (1, 3, 7, 20):
            text = torch.randint(1, 60, (1, length), generator=gen)
            padded = torch.zeros(1, 20, dtype=torch.long)
            padded[0, :length] = text
            assert torch.allclose(model(text), model(padded), atol=1e-5), (arch, params, length)


@pytest.mark.parametrize(("arch", "params"), VARIANTS)
def test_an_empty_text_gets_a_usable_prediction(arch, params):
    with torch.inference_mode():
        logits = built(arch, params)(torch.zeros(2, 20, dtype=torch.long))
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()


def test_a_text_model_fed_images_says_to_tokenize_first():
    with pytest.raises(ValueError, match="feed it from a 'tokenize' step"):
        build_model(ModelSpec("gru", get_step("gru").defaults()), {"input_shape": (1, 8, 8), "num_classes": 2})


@pytest.mark.parametrize("arch", ["gru", "transformer"])
def test_gru_and_transformer_learn_which_topic_a_text_is_about(tmp_path, arch):
    run = tmp_path / "run"
    flow = classify_texts(arch, export=False, epochs=12, lr=0.01)
    result = Engine(disk_cache=False).run(flow, out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    report = read_run(run)["nodes"]["evaluate"]["report"]
    assert report["accuracy"] >= 0.9 and report["samples"] == 24


@pytest.mark.parametrize("arch", ["gru", "lstm", "transformer"])
def test_the_export_step_checks_onnx_against_pytorch_on_token_ids(tmp_path, arch):
    run = tmp_path / "run"
    flow = classify_texts(arch, {"bidirectional": True} if arch != "transformer" else {}, epochs=1)
    result = Engine(disk_cache=False).run(flow, out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    card = json.loads((run / "export" / "model_card.json").read_text())
    assert card["files"]["onnx"] == "model.onnx" and card["files"]["tokenizer"] == "tokenizer.json"
    assert card["checks"]["onnx_max_abs_diff"] < 1e-4
    assert "not_exported" not in card

    import onnxruntime as ort

    data = text_dataset()
    ids = data.x[data.split("test")]
    session = ort.InferenceSession(str(run / "export" / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_pred = torch.from_numpy(session.run(None, {"input": ids.numpy()})[0]).argmax(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated; the file is still TorchScript
        torchscript = torch.jit.load(str(run / "export" / "model.torchscript.pt"))
    with torch.inference_mode():
        assert torch.equal(torchscript(ids).argmax(1), onnx_pred)


def test_a_model_that_cannot_be_traced_still_exports_its_weights_and_says_why(tmp_path, monkeypatch):
    import engine.export.writer as writer

    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("Unsupported: an operator the exporter lacks")

    monkeypatch.setattr(writer, "save_onnx", refuse)
    run = tmp_path / "run"
    result = Engine(disk_cache=False).run(classify_texts("gru", epochs=1), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    card = json.loads((run / "export" / "model_card.json").read_text())
    assert "onnx" not in card["files"] and card["files"]["weights"] == "model.safetensors"
    assert "cannot be exported to ONNX" in card["not_exported"]["onnx"]
    assert "ONNX export skipped" in (run / "log.txt").read_text()
