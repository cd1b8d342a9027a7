"""`loom predict RUN texts.csv|folder|--text "..."` with an exported text model, and the inputs it refuses."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from engine.export.load import load_export, predict
from engine.runner import Engine
from tests.fakes import deterministic_torch  # noqa: F401
from tests.text_flows import classify_texts

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ("import sys; sys.path.insert(0, '.'); import tests.toy_texts; from engine.cli import main; "
          "sys.exit(main(sys.argv[1:]))")

pytestmark = pytest.mark.usefixtures("deterministic_torch")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("predict") / "run"
    result = Engine(disk_cache=False).run(classify_texts("transformer", epochs=12, lr=0.01), out_dir=out,
                                          device="cpu")
    torch.set_num_threads(threads)
    assert result.status == "succeeded", result.message
    return out


def loom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", DRIVER, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_texts_from_a_csv_a_folder_and_the_command_line_are_classified_in_a_fresh_process(run, tmp_path):
    table = tmp_path / "new.csv"
    table.write_text("id,text\n1,The referee stopped the match.\n2,Add flour to the pastry.\n", encoding="utf-8")
    folder = tmp_path / "notes"
    (folder / "deeper").mkdir(parents=True)
    (folder / "a.txt").write_text("The kernel and the compiler.", encoding="utf-8")
    (folder / "deeper" / "b.txt").write_text("\ufeffA tennis league final.", encoding="utf-8")  # a BOM is fine
    (folder / "c.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")  # skipped, named
    out = tmp_path / "preds.csv"
    proc = loom("predict", str(run), str(table), str(folder), "--text", "Garlic sauce in the oven.", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"loom: skipped {folder / 'c.txt'}: " in proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["input"] for r in rows] == ["Garlic sauce in the oven.", f"{table}:row 2", f"{table}:row 3",
                                          str(folder / "a.txt"), str(folder / "deeper" / "b.txt")]
    assert [r["prediction"] for r in rows] == ["cooking", "sport", "cooking", "computers", "sport"]
    assert set(rows[0]) == {"input", "prediction", "confidence", "p_sport", "p_cooking", "p_computers"}
    here, _ = predict(load_export(run), [str(table)], options={"texts": ["Garlic sauce in the oven."]})
    assert [r["confidence"] for r in here] == [float(r["confidence"]) for r in rows[:3]]


@pytest.mark.parametrize(("args", "message"), [
    ((), "nothing to classify — give files or folders after the run, or --text"),
    (("--text", "  "), "--text number 1 is empty"),
    (("{missing}",), "no such file or folder"),
    (("{wrong_column}",), "the model reads the column(s) text, but the file has body"),
    (("{empty_folder}",), "the folder holds no text files"),
])
def test_bad_inputs_are_refused_with_one_line_and_exit_2(run, tmp_path, args, message):
    (tmp_path / "wrong.csv").write_text("body\nsome words\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "nope.txt", "wrong_column": tmp_path / "wrong.csv", "empty_folder": tmp_path / "empty"}
    proc = loom("predict", str(run), *[a.format(**paths) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and proc.stderr.count("loom: ") == 1 and "Traceback" not in proc.stderr


def test_text_given_to_an_image_model_is_refused(tmp_path):
    from engine.errors import UserInputError
    from engine.workflow import Workflow

    flow = Workflow.from_json({
        "schema": 1, "name": "digits",
        "nodes": [{"id": "data", "type": "digits", "params": {"size": 8}}, {"id": "model", "type": "mlp"},
                  {"id": "train", "type": "train", "params": {"epochs": 1}},
                  {"id": "export", "type": "export", "params": {"onnx": False, "torchscript": False}}],
        "links": [{"source": "data.data", "target": "train.data"}, {"source": "model.model", "target": "train.model"},
                  {"source": "train.model", "target": "export.model"}],
    })
    assert Engine(disk_cache=False).run(flow, out_dir=tmp_path / "run", device="cpu").status == "succeeded"
    with pytest.raises(UserInputError, match="--text gives texts, but this model classifies images"):
        predict(load_export(tmp_path / "run"), [], options={"texts": ["hello"]})
