"""Architectures, starting weights and freezing — and refusing weights files that could run code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.errors import UserInputError
from engine.models import ModelSpec, build_model, model_facts
from engine.models.weights import freeze, load_weights_file, transfer


class _RunsCode:
    """Unpickling this calls ``Path.touch`` on a marker: what a booby-trapped checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32), (3, 20, 28)])
def test_cnn_is_sized_from_its_input(shape: tuple[int, ...]) -> None:
    model = build_model(ModelSpec("cnn", {"width": 8}), model_facts(shape, 5))
    assert model(torch.zeros(2, *shape)).shape == (2, 5)
    assert model.features[-1][-1].ceil_mode  # odd sides pool without dropping pixels


def test_cnn_refuses_tables_with_a_reason() -> None:
    with pytest.raises(ValueError, match="MLP"):
        build_model(ModelSpec("cnn", {}), model_facts((20,), 3))


def test_resnet18_adapts_channels_size_and_head() -> None:
    model = build_model(ModelSpec("resnet18", {"input_size": 32}), model_facts((1, 16, 16), 4))
    assert model.backbone.conv1.in_channels == 1
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 4)


def test_freezing_the_backbone_leaves_only_the_head_trainable() -> None:
    model = build_model(ModelSpec("resnet18", {}), model_facts((3, 16, 16), 3))
    freeze(model, "backbone", 0, "test")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"backbone.fc.weight", "backbone.fc.bias"}
    model2 = build_model(ModelSpec("resnet18", {}), model_facts((3, 16, 16), 3))
    freeze(model2, "last_n", 1, "test")
    assert all(p.requires_grad for p in model2.backbone.layer4.parameters())
    assert not any(p.requires_grad for p in model2.backbone.layer3.parameters())


def test_rgb_weights_transfer_to_a_grayscale_model_and_the_head_starts_fresh() -> None:
    source = build_model(ModelSpec("resnet18", {}), model_facts((3, 16, 16), 10))
    target = build_model(ModelSpec("resnet18", {}), model_facts((1, 16, 16), 4))
    head_before = target.backbone.fc.weight.clone()
    loaded, total = transfer(target, source.backbone.state_dict(), "test", "torchvision-style keys")
    assert loaded == total
    assert torch.allclose(target.backbone.conv1.weight, source.backbone.conv1.weight.sum(1, keepdim=True))
    assert torch.equal(target.backbone.fc.weight, head_before)


def test_weights_of_another_architecture_are_refused() -> None:
    mlp = build_model(ModelSpec("mlp", {"hidden": "32"}), model_facts((1, 8, 8), 10))
    cnn = build_model(ModelSpec("cnn", {}), model_facts((1, 8, 8), 10))
    with pytest.raises(UserInputError, match="do not fit"):
        transfer(cnn, mlp.state_dict(), "node 'model', weights", "mlp.pt")


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"model": {"w": torch.zeros(1)}, "payload": _RunsCode(marker)}, evil)
    with pytest.raises(UserInputError) as info:
        load_weights_file(evil, "node 'model', weights")
    message = str(info.value)
    assert "evil.pt" in message and "pickled" in message and "could run code" in message
    assert not marker.exists(), "loading must never execute the payload"


def test_a_workflow_pointing_at_a_booby_trapped_file_fails_as_bad_input(tmp_path: Path) -> None:
    from engine import Engine, Workflow, WorkflowInvalid

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save(_RunsCode(marker), evil)
    wf = Workflow.from_json({"schema": 1, "name": "t", "nodes": [
        {"id": "data", "type": "digits", "params": {}},
        {"id": "model", "type": "cnn", "params": {"weights": str(evil)}},
        {"id": "train", "type": "train", "params": {"epochs": 1}},
    ], "links": [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"}]})
    with pytest.raises(WorkflowInvalid) as refused:  # by the preflight, before any node runs
        Engine(disk_cache=False).run(wf, out_dir=tmp_path / "run", device="cpu")
    message = str(refused.value)
    assert "refused to load" in message and "evil.pt" in message
    assert "node 'model', param 'weights'" in message
    assert not marker.exists() and not (tmp_path / "run").exists()


def test_safetensors_and_weights_only_files_load(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    model = build_model(ModelSpec("cnn", {"width": 4}), model_facts((1, 8, 8), 3))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp_path / "w.safetensors")
    torch.save({"model": model.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    for name in ("w.safetensors", "ckpt.pt"):
        state = load_weights_file(tmp_path / name, "test")
        assert torch.equal(state["head.weight"], model.head.weight)


def test_imagenet_offline_names_the_file_and_the_cache_folder(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from engine.models import weights

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(UserInputError) as info:
        weights.load_source("imagenet", "resnet18", "node 'model', weights")
    text = str(info.value)
    assert "resnet18-f37072fd.pth" in text and str(tmp_path / "hub" / "checkpoints") in text


def test_a_previous_run_folder_is_a_transfer_source(tmp_path: Path) -> None:
    from engine.models.weights import load_source

    run = tmp_path / "run"
    (run / "train" / "checkpoints").mkdir(parents=True)
    model = build_model(ModelSpec("cnn", {"width": 4}), model_facts((1, 8, 8), 3))
    torch.save({"model": model.state_dict()}, run / "train" / "checkpoints" / "best.pt")
    (run / "run.json").write_text(json.dumps({"artifacts": [
        {"node": "train", "kind": "checkpoint", "path": "train/checkpoints/last.pt"}]}))
    state, what = load_source(str(run), "cnn", "test")
    assert "best.pt" in what and torch.equal(state["head.bias"], model.head.bias)


def test_a_model_trained_upstream_transfers_and_its_frozen_backbone_stays_put(tmp_path: Path) -> None:
    from engine import Engine, Workflow

    cnn = {"width": 4, "stages": 1}
    wf = Workflow.from_json({"schema": 1, "name": "t", "nodes": [
        {"id": "data", "type": "digits", "params": {}},
        {"id": "source_model", "type": "cnn", "params": cnn},
        {"id": "pretrain", "type": "train", "params": {"epochs": 1, "batch_size": 128}},
        {"id": "model", "type": "cnn", "params": {**cnn, "freeze": "backbone"}},
        {"id": "train", "type": "train", "params": {"epochs": 1, "batch_size": 128, "lr": 0.01}},
    ], "links": [{"source": s, "target": t} for s, t in [
        ("data.data", "pretrain.data"), ("source_model.model", "pretrain.model"),
        ("pretrain.model", "model.pretrained"), ("data.data", "train.data"), ("model.model", "train.model")]]})
    out = tmp_path / "run"
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    report = json.loads((out / "run.json").read_text())["nodes"]["train"]["report"]
    assert report["pretrained"] == "connected model" and report["tensors_loaded"] > 0
    before = torch.load(out / "pretrain" / "checkpoints" / "last.pt", weights_only=True)["model"]
    after = torch.load(out / "train" / "checkpoints" / "last.pt", weights_only=True)["model"]
    for name, tensor in before.items():
        if name.startswith("features.") and not name.endswith("num_batches_tracked"):  # weights and BN statistics
            assert torch.equal(tensor, after[name]), name
    assert not torch.equal(before["head.bias"], after["head.bias"])
