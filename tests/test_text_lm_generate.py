"""`loom generate RUN --prompt ...`: text from a run's language model, in a fresh process; bad inputs are one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.lm.card import load_language_model
from engine.lm.sampling import SAMPLE_SEPARATOR
from tests.hardening_support import assert_refused, copy_run, finished_run, loom
from tests.text_lm_support import lm_flow

ROOT = Path(__file__).resolve().parents[1]
CARD = Path("train") / "language_model.json"


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return finished_run(lm_flow(epochs=2, lr=3e-3, sample_every=1000), tmp_path_factory.mktemp("gen") / "run")


def test_loom_generate_in_a_fresh_process_continues_the_prompt_like_the_trained_model(lm_run, tmp_path):
    args = ["generate", str(lm_run), "--prompt", "the dog", "--n", "3", "--max-tokens", "25", "--seed", "5"]
    proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    texts = proc.stdout.rstrip("\n").split(SAMPLE_SEPARATOR)
    assert len(texts) == 3 and all(t.startswith("the dog") and len(t) > len("the dog") for t in texts)
    here = load_language_model(lm_run / CARD).write("the dog", 3, 25, seed=5)
    assert texts == here

    out = tmp_path / "texts.txt"
    again = subprocess.run([sys.executable, "-m", "engine.cli", *args, "--out", str(out)], capture_output=True,
                           text=True, cwd=ROOT, timeout=300)
    assert again.returncode == 0 and again.stdout == "" and "wrote 3 text(s)" in again.stderr
    assert out.read_text(encoding="utf-8") == proc.stdout


def test_temperature_zero_writes_the_most_likely_text_whatever_the_seed(lm_run, capsys):
    outs = [loom(capsys, "generate", lm_run, "--prompt", "the", "--n", "2", "--max-tokens", "15", "--temperature",
                 "0", "--seed", seed).out for seed in ("1", "2")]
    assert outs[0] == outs[1] and len(set(outs[0].strip().split(SAMPLE_SEPARATOR))) == 1


@pytest.mark.parametrize(("args", "needle"), [
    (["--prompt", ""], "--prompt is empty"),
    (["--prompt", "   "], "--prompt is empty"),
    (["--prompt", "the", "--n", "0"], "--n 0"),
    (["--prompt", "the", "--max-tokens", "0"], "--max-tokens 0"),
    (["--prompt", "the", "--max-tokens", "1000000"], "--max-tokens 1000000"),
    (["--prompt", "the", "--temperature", "-1"], "--temperature -1"),
    (["--prompt", "the", "--temperature", "nan"], "--temperature nan"),
    (["--prompt", "the", "--top-k", "-3"], "--top-k -3"),
    (["--prompt", "the", "--seed", "-1"], "--seed -1"),
    (["--prompt", "the", "--interpolate", "4"], "--interpolate is for images"),
    (["--n", "2", "--out", "images"], "trained a language model, not an image generator"),
    (["--temperature", "0.5", "--out", "images"], "--temperature is for writing text"),
    (["--prompt", "the", "--node", "other"], "no trained language model from node 'other'"),
])
def test_bad_generate_inputs_are_one_line_and_exit_2(lm_run, tmp_path, capsys, args, needle):
    outcome = loom(capsys, "generate", lm_run, *[str(tmp_path / a) if a == "images" else a for a in args])
    assert_refused(outcome, needle)
    assert len(outcome.lines) == 1 and outcome.out == ""


def test_a_run_without_a_language_model_is_refused(tmp_path, capsys):
    (tmp_path / "run.json").write_text(json.dumps({"artifacts": []}))
    assert_refused(loom(capsys, "generate", tmp_path, "--prompt", "the"), "no trained language model",
                   "train_lm step")


def test_an_output_file_in_a_missing_folder_is_refused_before_any_work(lm_run, tmp_path, capsys):
    assert_refused(loom(capsys, "generate", lm_run, "--prompt", "the", "--out", tmp_path / "no" / "t.txt"),
                   "there is no folder")


def edit(**changes: object):  # noqa: ANN201
    def damage(path: Path) -> None:
        card = json.loads(path.read_text())
        for key, value in changes.items():
            if value is ...:
                card.pop(key)
            else:
                card[key] = value
        path.write_text(json.dumps(card))
    return damage


DAMAGE = {
    "garbage": (CARD, lambda p: p.write_bytes(bytes(range(256)) * 4)),
    "cut in half": (CARD, lambda p: p.write_text(p.read_text()[:40])),
    "a list": (CARD, lambda p: p.write_text("[1, 2]")),
    "unknown arch": (CARD, edit(arch="resnet")),
    "absurd width": (CARD, edit(params={"width": 10**9})),
    "no facts": (CARD, edit(facts=...)),
    "vocabulary of text": (CARD, edit(facts={"vocab_size": "many", "block_size": 16})),
    "weights outside": (CARD, edit(weights="../../../etc/passwd")),
    "tokenizer outside": (CARD, edit(tokenizer="/etc/passwd")),
    "sampling of text": (CARD, edit(sampling="hot")),
    "weights missing": (Path("train") / "language_model.safetensors", Path.unlink),
    "weights garbage": (Path("train") / "language_model.safetensors", lambda p: p.write_bytes(b"\0" * 100)),
    "tokenizer missing": (Path("train") / "tokenizer.json", Path.unlink),
    "tokenizer garbage": (Path("train") / "tokenizer.json", lambda p: p.write_text("{not json")),
    "another vocabulary": (CARD, edit(facts={"vocab_size": 99, "block_size": 16})),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_language_model_is_named_with_what_is_wrong(lm_run, tmp_path, capsys, damage):
    run = copy_run(lm_run, tmp_path / "run")
    name, how = DAMAGE[damage]
    how(run / name)
    outcome = loom(capsys, "generate", run, "--prompt", "the", "--n", "1")
    assert_refused(outcome, str(run / name))
    assert len(outcome.lines) == 1
