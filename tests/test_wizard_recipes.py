"""The wizards' recipes and data checks, without Qt: choices -> a valid, readable workflow; bad folders refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.validation import validate
from gui.wizards.recipes import (
    Budget,
    ClassifyChoices,
    DataChoice,
    FinetuneChoices,
    GenerateChoices,
    RecipeError,
    classify_workflow,
    finetune_workflow,
    generate_workflow,
    require_step,
)
from gui.wizards.scan import scan_folder, scan_table


def types(wf) -> dict[str, str]:
    return {n.id: n.type for n in wf.nodes}


def links(wf) -> set[tuple[str, str]]:
    return {(str(lk.source), str(lk.target)) for lk in wf.links}


def images(folder: Path, n: int, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(folder / f"{i}.png")


def test_classify_recipe_is_a_valid_readable_workflow() -> None:
    wf = classify_workflow(ClassifyChoices(preset="fast"))
    assert validate(wf) == []
    assert types(wf) == {"data": "digits", "preprocess": "normalize", "model": "cnn", "train": "train",
                         "evaluate": "evaluate"}
    assert links(wf) == {("data.data", "preprocess.data"), ("preprocess.data", "train.data"),
                         ("model.model", "train.model"), ("train.model", "evaluate.model"),
                         ("preprocess.data", "evaluate.data")}
    train = wf.node("train").params
    assert train["patience"] > 0 and train["restore_best"] is True  # early stopping on by default
    xs = [wf.node(i).position[0] for i in ("data", "preprocess", "train", "evaluate")]
    assert xs == sorted(xs) and len(set(xs)) == 4  # tidy: left to right


def test_presets_differ_and_accurate_is_resnet() -> None:
    fast, accurate = (classify_workflow(ClassifyChoices(preset=p)) for p in ("fast", "accurate"))
    assert fast.node("model").type == "cnn" and accurate.node("model").type == "resnet18"


def test_time_budget_becomes_the_training_steps_minutes() -> None:
    wf = classify_workflow(ClassifyChoices(budget=Budget(kind="minutes", minutes=3, early_stopping=False)))
    assert validate(wf) == []
    assert wf.node("train").params["time_budget"] == 3.0
    assert wf.node("train").params["patience"] == 0


@pytest.mark.parametrize("model", ["dcgan", "vae"])
def test_a_generative_model_can_train_for_a_time_budget_too(model: str) -> None:
    wf = generate_workflow(GenerateChoices(model=model, budget=Budget(kind="minutes", minutes=4)))
    assert validate(wf) == []
    assert wf.node("train").params["time_budget"] == 4.0


def test_a_gan_on_shapes_gets_the_settings_that_draw_every_shape() -> None:
    wf = generate_workflow(GenerateChoices(model="dcgan", data=DataChoice("shapes"), channels=3, resolution=32))
    assert validate(wf) == []
    assert wf.node("data").params["layout"] == "centred"
    assert GenerateChoices().data.shapes_count == 10000  # a GAN needs more images than a classifier
    assert wf.node("model").params == {"pack": 4, "minibatch_std": True}
    assert wf.node("train").params["batch_size"] % 4 == 0


def test_csv_classify_skips_image_preprocessing(tmp_path: Path) -> None:
    wf = classify_workflow(ClassifyChoices(data=DataChoice("csv", str(tmp_path / "t.csv"), "label")))
    assert types(wf)["data"] == "csv_table" and "preprocess" not in types(wf)
    assert types(wf)["model"] == "mlp"
    assert validate(wf) == []


@pytest.mark.parametrize("model,train", [("dcgan", "train_gan"), ("gan_mlp", "train_gan"), ("vae", "train_vae")])
def test_generate_recipe_for_each_model(model: str, train: str) -> None:
    wf = generate_workflow(GenerateChoices(model=model, data=DataChoice("shapes"), channels=3, resolution=32))
    assert validate(wf) == []
    assert types(wf) == {"data": "shapes", "preprocess": "normalize", "model": model, "train": train,
                         "generate": "generate"}
    assert wf.node("preprocess").params["channels"] == "3"
    assert ("train.generator", "generate.generator") in links(wf)


def test_generate_from_a_folder_ignores_subfolders_as_classes(tmp_path: Path) -> None:
    wf = generate_workflow(GenerateChoices(data=DataChoice("folder", str(tmp_path))))
    assert wf.node("data").type == "image_folder" and wf.node("data").params["labels"] == "none"


def test_finetune_recipes(tmp_path: Path) -> None:
    wf = finetune_workflow(FinetuneChoices(source="imagenet", freeze="last_n", train_blocks=2))
    assert validate(wf) == []
    model = wf.node("model")
    assert model.type == "resnet18" and model.params["weights"] == "imagenet"
    assert model.params["freeze"] == "last_n" and model.params["train_blocks"] == 2
    run = tmp_path / "run"
    run.mkdir()
    (run / "workflow.json").write_text(classify_workflow(ClassifyChoices(preset="fast")).dumps())
    wf = finetune_workflow(FinetuneChoices(source="run", source_path=str(run)))
    assert wf.node("model").type == "cnn" and wf.node("model").params["weights"] == str(run)
    with pytest.raises(RecipeError, match="not a Loom run folder"):
        finetune_workflow(FinetuneChoices(source="run", source_path=str(tmp_path)))


def test_a_missing_step_fails_loudly() -> None:
    with pytest.raises(RecipeError, match="no 'no_such_step' step"):
        require_step("no_such_step")
    with pytest.raises(RecipeError, match="no 'nonsense' setting"):
        require_step("train", "nonsense")


def test_folder_checks_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "is empty" in scan_folder(tmp_path / "empty").problem(need_classes=True)
    images(tmp_path / "one" / "cats", 8)
    assert "only one class (cats)" in scan_folder(tmp_path / "one").problem(need_classes=True)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a picture")
    (junk / "photo.jpg").write_bytes(b"\xff\xd8 broken")
    assert "no usable images" in scan_folder(junk).problem(need_classes=True)
    images(tmp_path / "few" / "a", 8)
    images(tmp_path / "few" / "b", 2, seed=1)
    assert "Too few images: b (2)" in scan_folder(tmp_path / "few").problem(need_classes=True)


def test_a_good_folder_has_counts_thumbnails_and_a_cleaning_report(tmp_path: Path) -> None:
    images(tmp_path / "ok" / "a", 6)
    images(tmp_path / "ok" / "b", 6, seed=1)
    (tmp_path / "ok" / "b" / "readme.txt").write_text("x")
    scan = scan_folder(tmp_path / "ok")
    assert scan.problem(need_classes=True) == ""
    assert scan.files_per_class == {"a": 6, "b": 7} and scan.usable_per_class == {"a": 6, "b": 6}
    assert scan.thumbnails is not None and scan.thumbnails.ndim == 3
    assert "readme.txt: not an image" in scan.summary()


def test_table_checks(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("x,y,label\n" + "".join(f"{i},{i * 2},{'ab'[i % 2]}\n" for i in range(20)))
    scan = scan_table(path)
    assert scan.columns == ["x", "y", "label"] and scan.rows == 20
    assert scan.problem("label") == ""
    path.write_text("x,label\n1,a\n2,a\n")
    assert "only one value" in scan_table(path).problem("label")
