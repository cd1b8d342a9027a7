"""`loom validate` checks what `loom run` checks, and a run refuses bad files before any node starts (issue 18, item 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine import Engine, Workflow, WorkflowInvalid
from engine.preflight import preflight
from engine.validation import apply_overrides, validate
from tests.conftest import EXAMPLES, ROOT
from tests.test_data_helpers import good_images, separable_csv


def loom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, timeout=180,
                          cwd=ROOT, env=os.environ.copy())


def problem_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """The stderr lines of a refused command; every one is a `loom: ` line and none is a traceback."""
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert all(line.startswith("loom: ") for line in lines), lines
    return lines


def two_branches(weights: str) -> dict:
    """Digits into an MLP that trains quickly, and into a ResNet-18 that starts from ``weights``."""
    return {
        "schema": 1, "name": "two branches",
        "nodes": [
            {"id": "data", "type": "digits", "params": {}},
            {"id": "mlp", "type": "mlp", "params": {"hidden": "16"}},
            {"id": "train_mlp", "type": "train", "params": {"epochs": 1}},
            {"id": "resnet", "type": "resnet18", "params": {"weights": weights}},
            {"id": "train_resnet", "type": "train", "params": {"epochs": 1}},
        ],
        "links": [
            {"source": "data.data", "target": "train_mlp.data"}, {"source": "mlp.model", "target": "train_mlp.model"},
            {"source": "data.data", "target": "train_resnet.data"},
            {"source": "resnet.model", "target": "train_resnet.model"},
        ],
    }


def csv_flow(path: Path, target: str = "bought", **train: object) -> Workflow:
    return Workflow.from_json({
        "schema": 1, "name": "table",
        "nodes": [
            {"id": "data", "type": "csv_table", "params": {"path": str(path), "target": target}},
            {"id": "model", "type": "mlp", "params": {"hidden": "16"}},
            {"id": "train", "type": "train", "params": {"epochs": 1, **train}},
        ],
        "links": [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"}],
    })


def test_a_missing_resnet_weights_file_stops_the_run_before_the_other_branch_trains(tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps(two_branches(str(tmp_path / "resnet18_imagenet.pt"))))
    events = []
    with pytest.raises(WorkflowInvalid) as refused:
        Engine(disk_cache=False).start(Workflow.load(flow), out_dir=tmp_path / "run", on_event=events.append)
    [problem] = refused.value.problems
    assert (problem.node_id, problem.field) == ("resnet", "param 'weights'")
    assert "resnet18_imagenet.pt does not exist" in problem.message
    assert events == [] and not (tmp_path / "run").exists()  # nothing ran, no run folder

    proc = loom("run", str(flow), "--out", str(tmp_path / "cli_run"), "-q")
    assert proc.returncode == 2
    [line] = problem_lines(proc)
    assert line.startswith("loom: node 'resnet', param 'weights': ") and "resnet18_imagenet.pt" in line
    assert not (tmp_path / "cli_run").exists()


def test_loom_validate_reports_the_same_file_problems_as_loom_run_all_at_once(tmp_path):
    separable_csv(tmp_path / "table.csv", rows=30)
    flow = two_branches(str(tmp_path / "nowhere.safetensors"))
    flow["nodes"].append({"id": "photos", "type": "image_folder", "params": {"path": str(tmp_path / "no_photos")}})
    flow["nodes"].append({"id": "table", "type": "csv_table",
                          "params": {"path": str(tmp_path / "table.csv"), "target": "purchased"}})
    flow["nodes"][2]["params"]["lr"] = float("nan")
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow))  # json writes NaN, as a hand-edited file may hold it

    checked, ran = loom("validate", str(path)), loom("run", str(path), "--out", str(tmp_path / "run"), "-q")
    assert checked.returncode == ran.returncode == 2
    assert problem_lines(checked) == problem_lines(ran)
    text = "\n".join(problem_lines(checked))
    assert "node 'train_mlp', param 'lr': NaN is not a usable number — use between 1e-07 and 10" in text
    assert "node 'resnet', param 'weights': " in text and "nowhere.safetensors does not exist" in text
    assert "node 'photos', param 'path': " in text and "no_photos does not exist" in text
    assert "node 'table', param 'target': table.csv has no column 'purchased'" in text and "bought" in text
    assert len(problem_lines(checked)) == 4
    assert not (tmp_path / "run").exists()


def test_a_valid_workflow_with_readable_files_passes_validate(tmp_path):
    separable_csv(tmp_path / "table.csv", rows=30)
    path = tmp_path / "flow.json"
    csv_flow(tmp_path / "table.csv").save(path)
    proc = loom("validate", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stderr


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_set_refuses_a_learning_rate_that_is_not_a_finite_number(value):
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    [problem] = apply_overrides(wf, [f"train.lr={value}"])
    assert (problem.node_id, problem.field) == ("train", "param 'lr'")
    assert "not a usable number" in problem.message and "between 1e-07 and 10" in problem.message


@pytest.mark.parametrize(("raw", "shown"), [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"),
                                             ("null", "null"), ("true", "true")])
def test_a_hand_edited_workflow_file_with_a_non_number_is_refused_naming_node_param_and_range(tmp_path, raw, shown):
    text = (EXAMPLES / "classify_digits.json").read_text()
    flow = json.loads(text)
    train = next(n for n in flow["nodes"] if n["id"] == "train")
    train["params"]["lr"] = "@LR@"
    train["params"]["epochs"] = "@EPOCHS@"
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow).replace('"@LR@"', raw).replace('"@EPOCHS@"', raw))
    problems = {p.field: p.message for p in validate(Workflow.load(path))}
    assert set(problems) == {"param 'lr'", "param 'epochs'"}
    assert problems["param 'lr'"].startswith("is empty (null)" if raw == "null" else shown)
    assert "between 1e-07 and 10" in problems["param 'lr'"] and "between 1 and 10000" in problems["param 'epochs'"]
    assert "leave the param out for the default" in problems["param 'epochs'"]


def test_nan_and_null_never_reach_the_run_folder(tmp_path):
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.node("train").params["lr"] = float("nan")
    wf.node("model").params["dropout"] = None
    with pytest.raises(WorkflowInvalid) as refused:
        Engine(disk_cache=False).run(wf, out_dir=tmp_path / "bad")
    assert {p.field for p in refused.value.problems} == {"param 'lr'", "param 'dropout'"}
    assert not (tmp_path / "bad").exists()

    wf.node("train").params.update(lr=0.01, epochs=1)
    del wf.node("model").params["dropout"]
    result = Engine(disk_cache=False).run(wf, out_dir=tmp_path / "good")
    assert result.status == "succeeded", result.message

    def strict(constant: str) -> None:
        raise AssertionError(f"workflow.json holds {constant}")

    ran = json.loads((tmp_path / "good" / "workflow.json").read_text(), parse_constant=strict)
    params = [v for n in ran["nodes"] for v in n["params"].values()]
    assert None not in params


@pytest.mark.parametrize(("node", "param", "value", "words"), [
    ("model", "hidden", "256,abc", "must be whole numbers separated by commas, e.g. 256,128"),
    ("model", "hidden", "256,0", "between 1 and 65536"),
    ("evaluate", "fgsm_eps", "0.01,lots", "must be numbers separated by commas"),
    ("evaluate", "fgsm_eps", "0.5,2", "2 is not between 0 and 1"),
])
def test_free_text_lists_that_do_not_parse_are_refused_at_validation(node, param, value, words):
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.node(node).params[param] = value
    [problem] = validate(wf)
    assert (problem.node_id, problem.field) == (node, f"param '{param}'")
    assert words in problem.message


def test_a_shapes_list_naming_an_unknown_shape_is_refused_with_the_choices():
    from engine.data.shapes import SHAPES
    from engine.steps.data import SHAPE_NAMES

    assert SHAPE_NAMES == SHAPES  # validation knows the shapes without importing torch
    wf = Workflow.load(EXAMPLES / "gan_shapes.json")
    wf.node("data").params["shapes"] = "circle,blob,circle"
    [problem] = validate(wf)
    assert problem.field == "param 'shapes'" and "unknown shape(s) blob" in problem.message
    assert "choose from circle, square" in problem.message


def test_rules_between_params_of_one_node_are_checked_at_validation():
    wf = Workflow.load(EXAMPLES / "classify_digits_cnn.json")
    wf.node("train").params["kfold"] = 1
    wf.node("model").params["weights"] = "imagenet"
    problems = {(p.node_id, p.field): p.message for p in validate(wf)}
    assert "1 fold is not cross-validation" in problems[("train", "param 'kfold'")]
    assert "ImageNet weights exist only for resnet18" in problems[("model", "param 'weights'")]


def test_a_node_position_that_is_not_a_number_is_refused():
    wf = Workflow.load(EXAMPLES / "classify_digits.json")
    wf.node("train").position = (float("nan"), 0.0)
    [problem] = validate(wf)
    assert (problem.node_id, problem.field) == ("train", "position")


def test_validate_opens_no_file_so_the_gui_can_call_it_as_you_type(tmp_path, monkeypatch):
    separable_csv(tmp_path / "table.csv", rows=30)
    wf = csv_flow(tmp_path / "gone.csv")
    validate(wf)  # loads the step declarations once

    def no_io(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("validate() touched the file system")

    for name in ("stat", "open", "scandir", "listdir"):
        monkeypatch.setattr(os, name, no_io)
    monkeypatch.setattr("builtins.open", no_io)
    assert validate(wf) == []
    monkeypatch.undo()
    [problem] = preflight(wf)
    assert (problem.node_id, problem.field) == ("data", "param 'path'") and "gone.csv does not exist" in problem.message


@pytest.mark.parametrize(("make", "wrong"), [
    (lambda p: p.mkdir(), "is a folder — give a file"),
    (lambda p: None, "does not exist — check the spelling"),
])
def test_a_csv_path_that_is_not_a_file_is_named(tmp_path, make, wrong):
    make(tmp_path / "table.csv")
    [problem] = preflight(csv_flow(tmp_path / "table.csv"))
    assert problem.field == "param 'path'" and wrong in problem.message and str(tmp_path / "table.csv") in problem.message


def test_a_misspelt_folder_is_named_with_the_close_name(tmp_path):
    good_images(tmp_path / "photos", per_class=2)
    wf = Workflow.load(EXAMPLES / "classify_folder.json")
    wf.node("data").params["path"] = str(tmp_path / "fotos")
    [problem] = preflight(wf)
    assert f"did you mean {tmp_path / 'photos'}?" in problem.message


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_csv_is_named_with_what_to_do(tmp_path):
    separable_csv(tmp_path / "table.csv", rows=30)
    (tmp_path / "table.csv").chmod(0)
    [problem] = preflight(csv_flow(tmp_path / "table.csv"))
    assert "cannot be read" in problem.message and "permissions" in problem.message


# -- weights files: safe to load, checked without running anything -------------------------------------


class _RunsCode:
    """Unpickling this touches a marker file: what a booby-trapped checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


def weights_problem_of(tmp_path: Path, weights: Path | str) -> str:
    problems = preflight(Workflow.from_json(two_branches(str(weights))))
    assert [(p.node_id, p.field) for p in problems] in ([], [("resnet", "param 'weights'")])
    return problems[0].message if problems else ""


def test_a_weights_file_that_would_run_code_is_refused_before_the_run_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"model": {"w": torch.zeros(1)}, "payload": _RunsCode(marker)}, tmp_path / "evil.pt")
    message = weights_problem_of(tmp_path, tmp_path / "evil.pt")
    assert "refused to load" in message and "pickled Python objects" in message
    assert not marker.exists()


def test_a_truncated_or_fake_safetensors_file_is_refused_from_its_header(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1000), "b": torch.zeros(10)}, tmp_path / "good.safetensors")
    whole = (tmp_path / "good.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(whole[: len(whole) - 100])
    (tmp_path / "fake.safetensors").write_bytes(b"this is a text file, renamed")
    assert weights_problem_of(tmp_path, tmp_path / "good.safetensors") == ""
    assert "it is cut short" in weights_problem_of(tmp_path, tmp_path / "cut.safetensors")
    assert "not a readable safetensors file" in weights_problem_of(tmp_path, tmp_path / "fake.safetensors")


def test_a_weights_only_pt_file_passes_and_a_text_file_named_pt_is_refused(tmp_path):
    torch.save({"model": {"w": torch.zeros(3)}}, tmp_path / "ckpt.pt")
    (tmp_path / "notes.pt").write_text("not weights")
    assert weights_problem_of(tmp_path, tmp_path / "ckpt.pt") == ""
    assert "is not a readable PyTorch weights file" in weights_problem_of(tmp_path, tmp_path / "notes.pt")


def test_a_run_folder_given_as_weights_must_hold_an_export_or_a_checkpoint(tmp_path):
    run = tmp_path / "old_run"
    run.mkdir()
    assert "not a Loom run (no run.json)" in weights_problem_of(tmp_path, run)
    (run / "run.json").write_text("{ not json")
    assert "cannot be read as a Loom run record" in weights_problem_of(tmp_path, run)
    (run / "run.json").write_text(json.dumps({"artifacts": []}))
    assert "has no exported weights or checkpoint" in weights_problem_of(tmp_path, run)
    (run / "train" / "checkpoints").mkdir(parents=True)
    torch.save({"model": {"w": torch.zeros(3)}}, run / "train" / "checkpoints" / "best.pt")
    assert weights_problem_of(tmp_path, run) == ""


@pytest.mark.parametrize(("example", "other", "words"), [
    ("gan_digits.json", "vae", "'vae' is not a GAN — train it with a 'train_vae' step"),
    ("vae_digits.json", "dcgan", "'dcgan' is not a VAE — train it with a 'train_gan' step"),
])
def test_a_generative_model_wired_into_the_wrong_trainer_is_refused_at_validation(example, other, words):
    wf = Workflow.load(EXAMPLES / example)
    wf.node("model").type, wf.node("model").params = other, {}
    [problem] = validate(wf)
    assert (problem.node_id, problem.field) == ("train", "input 'model'") and words in problem.message


def test_paths_the_system_cannot_take_are_refused_without_a_traceback(tmp_path):
    flow = {"schema": 1, "name": "odd paths", "nodes": [
        {"id": "data", "type": "image_folder", "params": {"path": "photos\u0000"}},
        {"id": "table", "type": "csv_table", "params": {"path": str(tmp_path / ("x" * 5000)), "target": "y"}},
        {"id": "model", "type": "resnet18", "params": {"weights": "/" + "w" * 5000 + ".pt"}},
    ], "links": []}
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow))
    proc = loom("validate", str(path))
    assert proc.returncode == 2
    fields = [line.split(":")[1] for line in problem_lines(proc)]
    assert fields == [" node 'data', param 'path'", " node 'table', param 'path'", " node 'model', param 'weights'"]
    assert "NUL character" in proc.stderr
