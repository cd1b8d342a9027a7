"""Data sources: messy image folders, CSV tables, shapes, the benchmark cache — as an analyst meets them."""

from __future__ import annotations

import os

import pytest
import torch

from engine import Engine, Workflow
from engine.store import read_metrics, read_run
from engine.workflow import Endpoint, Link, Node
from tests.conftest import EXAMPLES
from tests.test_data_helpers import good_images, messy_folder, separable_csv


def folder_flow(path, epochs: int = 1) -> Workflow:
    wf = Workflow.load(EXAMPLES / "classify_folder.json")
    wf.node("data").params.update(path=str(path), size=12)
    wf.node("train").params.update(epochs=epochs, batch_size=16)
    return wf


def test_a_messy_folder_is_cleaned_reported_and_still_trains(tmp_path):
    expected = messy_folder(tmp_path / "photos")
    result = Engine().run(folder_flow(tmp_path / "photos"), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message

    info = read_run(tmp_path / "run")
    report = info["nodes"]["data"]["report"]
    listed = {item["file"]: item["reason"] for item in report["skipped"]}
    assert listed == expected
    assert next(s for s in report["skipped"] if s["file"] == "blue/bomb.png")["detail"].startswith("3,600,000,000 pixels")
    assert report["duplicates"] == 1
    assert report["duplicate_files"] == [{"file": "blue/x_copy.png", "same_as": "blue/img003.png"}]
    # 30 good pictures + the RGBA one (flattened, not skipped)
    assert report["counts"] == {"blue": 11, "green": 10, "red": 10}
    assert report["converted_modes"] == {"RGBA": 1}
    assert report["channels"] == 3 and report["size"] == [12, 12]

    assert (tmp_path / "run" / "data" / "preview.png").is_file()
    assert {"node": "data", "kind": "preview", "path": "data/preview.png"} in info["artifacts"]
    assert any(m["name"] == "train_loss" and m["node"] == "train" for m in read_metrics(tmp_path / "run"))
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "skipped red/half.png: truncated or corrupt image" in log


def test_editing_the_folder_invalidates_the_cached_dataset(tmp_path):
    good_images(tmp_path / "imgs", per_class=4)
    wf = Workflow(name="folder only", nodes=[Node("data", "image_folder", {"path": str(tmp_path / "imgs"), "size": 8})])
    engine = Engine(cache_dir=tmp_path / "cache")
    first = engine.run(wf, out_dir=tmp_path / "r1")
    again = engine.run(wf, out_dir=tmp_path / "r2")
    assert (first.node_states["data"], again.node_states["data"]) == ("done", "cached")
    good_images(tmp_path / "imgs", classes=("red", "green", "blue", "grey"), per_class=4)
    changed = engine.run(wf, out_dir=tmp_path / "r3")
    assert changed.node_states["data"] == "done"
    assert read_run(tmp_path / "r3")["nodes"]["data"]["report"]["samples"] == 16


def test_a_flat_folder_is_an_unlabelled_dataset_and_grey_images_keep_one_channel(tmp_path):
    from engine.data.folder import FolderOptions, load_image_folder

    flat = tmp_path / "flat"
    flat.mkdir()
    from PIL import Image

    for i in range(5):
        Image.new("L", (10 + i, 9), 40 * i).save(flat / f"{i}.bmp")
    (flat / ".DS_Store").write_bytes(b"junk")
    data, report, _ = load_image_folder(flat, FolderOptions(size=8, fit="pad"))
    assert data.labels is None and data.classes == []
    assert data.x.shape == (5, 1, 8, 8)
    assert report.skipped == []  # hidden files are not "bad images"


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp"])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P"])
def test_common_formats_and_modes_are_accepted_and_converted(tmp_path, suffix, mode):
    from PIL import Image

    from engine.data.images import decode_file

    img = Image.new("RGB", (20, 14), (200, 30, 30)).convert(mode)
    if suffix == ".jpg" and mode in ("RGBA", "P"):
        img = img.convert("RGB")  # JPEG stores neither alpha nor a palette
    path = tmp_path / f"picture{suffix}"
    img.save(path)
    for channels in (1, 3):
        decoded = decode_file(path, 10, "crop", channels)
        assert decoded.ok, decoded.reason
        assert decoded.pixels.shape == (channels, 10, 10) and decoded.pixels.dtype == torch.uint8


@pytest.mark.parametrize("fit", ["resize", "crop", "pad"])
def test_every_fit_mode_gives_square_images_of_the_chosen_size(fit):
    from engine.data.images import fit_to

    wide = torch.full((3, 10, 30), 200, dtype=torch.uint8)
    out = fit_to(wide, 16, fit)
    assert out.shape == (3, 16, 16)
    if fit == "pad":
        assert out[:, 0].max() == 0 and out[:, 8].min() == 200  # letterbox bars above, picture in the middle


def test_csv_with_text_and_missing_values_trains_an_mlp_to_high_test_accuracy(tmp_path):
    separable_csv(tmp_path / "shop.csv")
    wf = Workflow(
        name="table",
        nodes=[
            Node("data", "csv_table", {"path": str(tmp_path / "shop.csv"), "target": "bought", "missing": "impute"}),
            Node("split", "split", {"train": 0.7, "val": 0.1, "test": 0.2, "seed": 1}),
            Node("model", "mlp", {"hidden": "16", "dropout": 0.0}),
            Node("train", "train", {"epochs": 15, "batch_size": 32, "lr": 0.01}),
            Node("evaluate", "evaluate", {"split": "test"}),
        ],
        links=[
            Link(Endpoint("data", "data"), Endpoint("split", "data")),
            Link(Endpoint("split", "data"), Endpoint("train", "data")),
            Link(Endpoint("model", "model"), Endpoint("train", "model")),
            Link(Endpoint("train", "model"), Endpoint("evaluate", "model")),
            Link(Endpoint("split", "data"), Endpoint("evaluate", "data")),
        ],
    )
    result = Engine().run(wf, out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    nodes = read_run(tmp_path / "run")["nodes"]
    data = nodes["data"]["report"]
    assert data["imputed_cells"] == {"income": 24, "colour": 16}
    assert data["dropped_columns"][0]["column"] == "customer_id"
    assert data["features"] == ["age", "income", "colour=blue", "colour=green", "colour=red"]
    assert nodes["split"]["report"]["splits"] == {"train": 210, "val": 30, "test": 60}
    assert nodes["evaluate"]["report"]["accuracy"] >= 0.9


def test_csv_standardisation_uses_training_rows_only_and_dropping_is_counted(tmp_path):
    from engine.data.tables import encode_rows, load_csv

    separable_csv(tmp_path / "t.csv", rows=200)
    data, report = load_csv(tmp_path / "t.csv", "bought", missing="drop")
    assert report.dropped_missing == len({i for i in range(200) if i % 13 == 0 or i % 19 == 0})
    assert len(data) == 200 - report.dropped_missing
    age = data.x[:, data.feature_names.index("age")]
    train = age[data.split("train")]
    assert abs(float(train.mean())) < 1e-5 and abs(float(train.std()) - 1) < 1e-4
    # new rows are encoded exactly like the training table
    again = encode_rows(data.encoding, ["bought", "colour", "income", "age"], [["?", "red", "1000", "30"]])
    assert again.shape == (1, data.x.shape[1])
    assert again[0, data.feature_names.index("colour=red")] == 1


def test_a_re_split_table_is_re_standardised_on_its_new_training_rows(tmp_path):
    from engine.data.splits import stratified_split
    from engine.data.tables import load_csv, restandardise

    separable_csv(tmp_path / "t.csv", rows=200)
    data, _ = load_csv(tmp_path / "t.csv", "bought", missing="impute")
    j = data.feature_names.index("age")
    raw_before = data.x[:, j] * data.encoding["columns"][0]["std"] + data.encoding["columns"][0]["mean"]
    resplit = restandardise(data.with_x(data.x, splits=stratified_split(data.labels, len(data), (0.5, 0.25, 0.25), 9)))
    age = resplit.x[resplit.split("train"), j]
    assert abs(float(age.mean())) < 1e-5 and abs(float(age.std()) - 1) < 1e-4
    col = resplit.encoding["columns"][0]
    assert torch.allclose(resplit.x[:, j] * col["std"] + col["mean"], raw_before, atol=1e-3)  # same raw values


def test_shapes_are_deterministic_and_balanced():
    from engine.data.shapes import SHAPES, make_shapes

    a = make_shapes(count=800, size=32, shapes=list(SHAPES), seed=3)
    b = make_shapes(count=800, size=32, shapes=list(SHAPES), seed=3)
    c = make_shapes(count=800, size=32, shapes=list(SHAPES), seed=4)
    assert torch.equal(a.x, b.x) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.x, c.x)
    assert a.x.shape == (800, 3, 32, 32) and a.x.min() >= 0 and a.x.max() <= 1
    assert torch.bincount(a.labels).tolist() == [100] * len(SHAPES)
    # every image shows a shape that stands out from its background
    per_image_std = a.x.flatten(1).std(1)
    assert float(per_image_std.min()) > 0.02


def test_torchvision_datasets_offline_say_what_to_download_and_where(tmp_path, monkeypatch):
    from engine.data.tvdatasets import DatasetMissing, load_torchvision

    with pytest.raises(DatasetMissing) as info:
        load_torchvision("FashionMNIST", tmp_path / "cache", download=False)
    text = str(info.value)
    assert "train-images-idx3-ubyte.gz" in text and str(tmp_path / "cache" / "FashionMNIST" / "raw") in text


def test_a_missing_benchmark_fails_the_node_as_bad_input_with_that_message(tmp_path):
    wf = Workflow(name="mnist", nodes=[
        Node("data", "torchvision_dataset", {"name": "MNIST", "root": str(tmp_path / "none"), "download": False}),
    ])
    result = Engine().run(wf, out_dir=tmp_path / "run")
    assert result.status == "failed" and result.input_error
    assert result.message.startswith("data: node 'data': MNIST is not in the cache folder")
    assert "t10k-labels-idx1-ubyte.gz" in result.message and "\n" not in result.message


def test_torchvision_datasets_are_read_from_a_filled_cache_without_unpickling(tmp_path):
    import gzip

    import numpy as np

    from engine.data.tvdatasets import load_torchvision

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)

    def idx(name: str, array: np.ndarray) -> None:
        head = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (raw / f"{name}.gz").write_bytes(gzip.compress(head + array.astype(np.uint8).tobytes()))

    idx("train-images-idx3-ubyte", np.full((6, 28, 28), 255))
    idx("train-labels-idx1-ubyte", np.arange(6) % 3)
    idx("t10k-images-idx3-ubyte", np.zeros((2, 28, 28)))
    idx("t10k-labels-idx1-ubyte", np.array([1, 2]))
    data, n_train = load_torchvision("MNIST", tmp_path, download=False)
    assert n_train == 6 and data.x.shape == (8, 1, 28, 28)
    assert data.images()[0].max() == 1.0 and data.labels.tolist() == [0, 1, 2, 0, 1, 2, 1, 2]


def test_cifar10_is_read_from_its_binary_release(tmp_path):
    import numpy as np

    from engine.data.tvdatasets import load_torchvision

    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = np.zeros((2, 3073), dtype=np.uint8)
        records[:, 0] = [3, 7]  # labels: cat, horse
        records[1, 1:1025] = 255  # second image: red channel full
        (folder / name).write_bytes(records.tobytes())
    data, n_train = load_torchvision("CIFAR10", tmp_path, download=False)
    assert n_train == 10 and data.x.shape == (12, 3, 32, 32)
    assert data.classes[3] == "cat" and data.labels[:2].tolist() == [3, 7]
    x = data.images()
    assert x[1, 0].min() == 1.0 and x[1, 1].max() == 0.0


def test_every_source_declares_a_preview(tmp_path):
    from engine.steps.registry import get_step

    for name in ("digits", "image_folder", "shapes", "torchvision_dataset"):
        assert get_step(name).produces_images, name
    assert get_step("image_folder").fingerprint is not None
    assert get_step("csv_table").fingerprint is not None
    assert os.environ["LOOM_CACHE_DIR"]  # tests never touch the user's cache


def test_centred_shapes_vary_only_in_shape_and_colour():
    from engine.data.shapes import make_shapes

    data = make_shapes(count=400, size=32, shapes=["circle", "square"], seed=1, layout="centred")
    # Every shape covers the centre pixel and leaves the corners to the background.
    fg_at_centre = (data.x[:, :, 16, 16] - data.x[:, :, 0, 0]).abs().sum(1)
    assert (fg_at_centre > 0.05).float().mean() > 0.95
    # Squares sit flat: their top edge is a straight row, so the pixel above the centre
    # and the one near the top-left inner corner agree.
    squares = data.x[data.labels == 1]
    assert torch.allclose(squares[:, :, 6, 16], squares[:, :, 6, 9], atol=0.15)
    with pytest.raises(ValueError, match="layout"):
        make_shapes(count=10, layout="scattered")
