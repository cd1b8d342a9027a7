"""Finished runs that several test modules try, drill into and export, trained once per test session.

One seeded digits CNN run (the built-in example without its Export step, 4
epochs: ~99 % test accuracy): its train step leaves the model card the Try
panel loads.  The 20 digit images are real: two of each class from the run's
own held-out test split, written as PNG files.  And a toy text classifier.
Registered as a plugin in tests/conftest.py; tests must not write into these
run folders.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import Engine, Workflow
from tests.conftest import EXAMPLES


def digits_cnn_workflow(epochs: int = 4, export: bool = False) -> Workflow:
    data = json.loads((EXAMPLES / "classify_digits_cnn.json").read_text())
    if not export:
        data["nodes"] = [n for n in data["nodes"] if n["id"] != "export"]
        data["links"] = [lk for lk in data["links"] if not lk["target"].startswith("export.")]
    for node in data["nodes"]:
        if node["id"] == "train":
            node["params"].update(epochs=epochs, seed=0)
    return Workflow.from_json(data)


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished digits CNN run with no Export step: only its train step's card holds the model."""
    run = tmp_path_factory.mktemp("try") / "run"
    result = Engine(disk_cache=False).run(digits_cnn_workflow(), out_dir=run, device="cpu")
    assert result.status == "succeeded", result.message
    return run


@pytest.fixture(scope="session")
def digit_pngs(digits_run: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    """Two held-out test images of each digit as 16 px PNG files (the run's input size), with their class."""
    from engine.data.builtin import load_digits

    data = load_digits(16)
    with (digits_run / "evaluate" / "predictions.csv").open() as f:
        test_rows = list(csv.DictReader(f))
    picked: dict[str, list[int]] = {}
    for row in test_rows:
        if len(picked.setdefault(row["true"], [])) < 2:
            picked[row["true"]].append(int(row["sample"]))
    assert sorted(picked) == [str(d) for d in range(10)] and all(len(v) == 2 for v in picked.values())
    folder = tmp_path_factory.mktemp("digits")
    out = []
    for label, samples in sorted(picked.items()):
        for i in samples:
            assert data.classes[int(data.labels[i])] == label
            pixels = (data.x[i, 0].numpy() * 255).round().astype(np.uint8)
            path = folder / f"digit_{label}_{i}.png"
            Image.fromarray(pixels).save(path)
            out.append((path, label))
    return out


@pytest.fixture(scope="session")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy text classifier (sport, cooking, computers) with no Export step."""
    import torch

    from tests.text_flows import classify_texts

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("try_text") / "run"
    result = Engine(disk_cache=False).run(classify_texts("transformer", export=False, epochs=12, lr=0.01),
                                          out_dir=out, device="cpu")
    torch.set_num_threads(threads)
    assert result.status == "succeeded", result.message
    return out
