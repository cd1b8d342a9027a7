"""Export: safetensors + model card, TorchScript and ONNX agree with PyTorch; `loom predict` in a fresh process."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import Engine, Workflow

ROOT = Path(__file__).resolve().parents[1]


def export_flow() -> Workflow:
    nodes = [
        {"id": "data", "type": "digits", "params": {"size": 16}},
        {"id": "prep", "type": "normalize", "params": {"range": "-1..1"}},
        {"id": "model", "type": "cnn", "params": {"width": 8, "stages": 2}},
        {"id": "train", "type": "train", "params": {"epochs": 1, "batch_size": 32, "lr": 0.005}},
        {"id": "evaluate", "type": "evaluate", "params": {"mistakes": 0}},
        {"id": "export", "type": "export", "params": {}},
    ]
    links = [
        ("data.data", "prep.data"), ("prep.data", "train.data"), ("model.model", "train.model"),
        ("train.model", "evaluate.model"), ("prep.data", "evaluate.data"), ("train.model", "export.model"),
        ("evaluate.metrics", "export.metrics"),
    ]
    return Workflow.from_json({"schema": 1, "name": "export", "nodes": nodes,
                               "links": [{"source": s, "target": t} for s, t in links]})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "run"
    result = Engine(disk_cache=False).run(export_flow(), out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    return out


def digits_inputs(n: int = 100) -> torch.Tensor:
    """The first ``n`` digits prepared exactly as the workflow prepared them."""
    from engine.data.builtin import load_digits
    from engine.data.transforms import normalize_images

    data = normalize_images(load_digits(16), value_range="-1..1")
    return data.x[:n].contiguous()


def test_the_card_describes_how_to_use_the_model(run_dir: Path) -> None:
    from engine import __version__

    card = json.loads((run_dir / "export" / "model_card.json").read_text())
    assert card["classes"] == [str(i) for i in range(10)]
    assert card["input"]["channels"] == 1 and card["input"]["height"] == card["input"]["width"] == 16
    assert card["normalization"] == {"mean": [0.5], "std": [0.5]}
    assert card["versions"]["loom"] == __version__
    assert 0 < card["metrics"]["accuracy"] <= 1 and "f1" in card["metrics"]["per_class"]["3"]
    assert set(card["files"]) == {"weights", "torchscript", "onnx"}
    kinds = {a["kind"] for a in json.loads((run_dir / "run.json").read_text())["artifacts"]}
    assert {"weights", "model_card", "torchscript", "onnx"} <= kinds


def test_onnx_and_torchscript_agree_with_pytorch_on_100_images(run_dir: Path) -> None:
    import onnxruntime as ort

    from engine.export.load import load_export

    x = digits_inputs(100)
    loaded = load_export(run_dir)
    with torch.inference_mode():
        want = loaded.module(x)
    session = ort.InferenceSession(str(run_dir / "export" / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, still the TorchScript loader
        scripted = torch.jit.load(str(run_dir / "export" / "model.torchscript.pt"))
    with torch.inference_mode():
        ts_out = scripted(x)
    assert (onnx_out - want).abs().max().item() < 1e-4
    assert (ts_out - want).abs().max().item() < 1e-4
    assert want.argmax(1).float().std() > 0, "a trained model, not a constant"


def test_resnet18_exports_with_its_input_resize(tmp_path: Path) -> None:
    import onnxruntime as ort

    from engine.context import RunControl, StepContext
    from engine.events import EventBus
    from engine.export.writer import write_export
    from engine.models import ModelSpec, TrainedModel, build_model, model_facts

    spec = ModelSpec("resnet18", {"input_size": 32})
    module = build_model(spec, model_facts((3, 16, 16), 4)).eval()
    trained = TrainedModel(spec, module, ["a", "b", "c", "d"], "image", model_facts((3, 16, 16), 4),
                           {"normalization": {"mean": [0.5], "std": [0.5]}})
    ctx = StepContext("export", {}, {}, "cpu", tmp_path, EventBus(), RunControl())
    card = write_export(ctx, trained, None, torchscript=True, onnx=True, opset=17)
    assert card["checks"]["onnx_max_abs_diff"] < 1e-4
    x = torch.randn(100, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    session = ort.InferenceSession(str(tmp_path / "export" / "model.onnx"), providers=["CPUExecutionProvider"])
    with torch.inference_mode():
        want = module(x)
    got = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
    assert (got - want).abs().max().item() < 1e-4


def write_digit_pngs(folder: Path, n: int = 6) -> list[int]:
    from PIL import Image
    from sklearn.datasets import load_digits

    folder.mkdir(parents=True, exist_ok=True)
    d = load_digits()
    for i in range(n):
        Image.fromarray((d.images[i] / 16 * 255).round().astype(np.uint8)).save(folder / f"img{i}.png")
    (folder / "notes.txt").write_text("not an image, ignored by suffix")
    return [int(t) for t in d.target[:n]]


def test_loom_predict_classifies_images_from_a_fresh_process(run_dir: Path, tmp_path: Path) -> None:
    from engine.export.load import load_export, predict

    write_digit_pngs(tmp_path / "new")
    out = tmp_path / "preds.csv"
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "predict", str(run_dir), str(tmp_path / "new"),
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open()))
    assert [Path(r["file"]).name for r in rows] == [f"img{i}.png" for i in range(6)]
    assert {"prediction", "confidence", "p_0", "p_9"} <= set(rows[0])
    here, _ = predict(load_export(run_dir / "export"), [str(tmp_path / "new")])
    assert [r["prediction"] for r in rows] == [r["prediction"] for r in here]
    assert all(0 < float(r["confidence"]) <= 1 for r in rows)


def test_loom_predict_without_an_export_says_what_to_add(tmp_path: Path) -> None:
    from engine.cli import main

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text(json.dumps({"artifacts": []}))
    write_digit_pngs(tmp_path / "imgs", 1)
    assert main(["predict", str(tmp_path / "run"), str(tmp_path / "imgs")]) == 2
