"""Training a language model end to end (tiny corpus): live text samples, perplexity, the saved model, generate_text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine import events as ev
from engine.lm.card import load_language_model
from engine.lm.sampling import SAMPLE_SEPARATOR
from engine.runner import Engine
from engine.store import read_metrics, read_run
from tests.text_lm_support import lm_flow, steps_per_epoch

EPOCHS = 3


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from more threads, and a single one is immune to a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_with_events(wf, out: Path) -> list[ev.Event]:  # noqa: ANN001
    seen: list[ev.Event] = []
    result = Engine(disk_cache=False).run(wf, out_dir=out, device="cpu", on_event=seen.append)
    assert result.status == "succeeded", result.message
    return seen


@pytest.fixture(scope="module")
def gpt_run(tmp_path_factory) -> tuple[Path, list[ev.Event]]:
    out = tmp_path_factory.mktemp("lm") / "run"
    return out, run_with_events(lm_flow(generate=True, epochs=EPOCHS, lr=3e-3), out)


def val_curve(run: Path, name: str = "val_perplexity") -> list[tuple[int, float]]:
    return [(r["step"], r["value"]) for r in read_metrics(run) if r["node"] == "train" and r["name"] == name]


def test_samples_stream_as_text_events_from_step_zero_before_any_training(gpt_run):
    run, seen = gpt_run
    samples = [e for e in seen if isinstance(e, ev.TextReady) and e.node_id == "train"]
    steps = [e.step for e in samples]
    total = EPOCHS * steps_per_epoch(lm_flow())
    assert steps == [0, *range(5, total + 1, 5), *([total] if total % 5 else [])]
    first_training_step = next(i for i, e in enumerate(seen) if isinstance(e, ev.MetricPoint) and e.name == "train_loss")
    assert seen.index(samples[0]) < first_training_step
    for event in samples:
        assert event.name == "samples" and Path(event.path) == run / "train" / "samples" / f"step_{event.step:06d}.txt"
        assert Path(event.path).read_text(encoding="utf-8") == event.text
        texts = event.text.split(SAMPLE_SEPARATOR)
        assert [t[:len(p)] for t, p in zip(texts, ["The", "In Python", "A list"], strict=True)] == \
            ["The", "In Python", "A list"]
    assert samples[0].text != samples[-1].text


def test_validation_perplexity_is_reported_at_step_zero_and_every_epoch_and_falls(gpt_run):
    run, _ = gpt_run
    per_epoch = steps_per_epoch(lm_flow())
    curve = val_curve(run)
    assert [s for s, _ in curve] == [e * per_epoch for e in range(EPOCHS + 1)]
    losses = dict(val_curve(run, "val_loss"))
    assert all(abs(p - torch.tensor(losses[s]).exp().item()) < 1e-3 * p for s, p in curve)
    start, end = curve[0][1], curve[-1][1]
    assert start > 10 and end < start / 2, curve  # from guessing among the letters to a few likely ones
    report = read_run(run)["nodes"]["train"]["report"]
    assert report["stopped"] == "finished" and report["steps"] == EPOCHS * per_epoch
    assert report["val_perplexity"] == pytest.approx(end, rel=1e-3)
    assert report["val_perplexity_start"] == pytest.approx(start, rel=1e-3)


def test_the_model_is_saved_with_its_card_and_tokenizer_and_writes_the_live_samples_again(gpt_run):
    run, seen = gpt_run
    entries = [a for a in read_run(run)["artifacts"] if a["kind"] == "language_model"]
    assert entries and {a["path"] for a in entries} == {"train/language_model.json"}
    card = json.loads((run / "train" / "language_model.json").read_text())
    assert card["arch"] == "gpt" and card["facts"]["block_size"] == 16 and card["tokenizer"] == "tokenizer.json"
    assert (run / "train" / "language_model.safetensors").exists() and (run / "train" / "tokenizer.json").exists()
    trained = load_language_model(run / "train" / "language_model.json")
    last = [e for e in seen if isinstance(e, ev.TextReady) and e.node_id == "train"][-1]
    again = [trained.write(p, 1, 20, seed=1 + i)[0] for i, p in enumerate(["The", "In Python", "A list"])]
    assert SAMPLE_SEPARATOR.join(again) == last.text  # same model, prompts and seed: the same text


def test_generate_text_writes_continuations_of_its_prompt_to_a_file(gpt_run):
    run, seen = gpt_run
    text = (run / "generate" / "generated.txt").read_text(encoding="utf-8")
    texts = text.split(SAMPLE_SEPARATOR)
    assert len(texts) == 3 and all(t.startswith("the cat") for t in texts)
    shown = [e for e in seen if isinstance(e, ev.TextReady) and e.node_id == "generate"]
    assert [e.text for e in shown] == [text]


def test_a_character_gru_learns_the_tiny_corpus_too(tmp_path):
    run = tmp_path / "run"
    seen = run_with_events(lm_flow("gru_lm", epochs=2, lr=1e-2, sample_every=1000), run)
    curve = val_curve(run)
    assert len(curve) == 3 and curve[-1][1] < curve[0][1] / 2, curve
    assert [e.step for e in seen if isinstance(e, ev.TextReady)] == [0, 2 * steps_per_epoch(lm_flow("gru_lm"))]
    assert json.loads((run / "train" / "language_model.json").read_text())["arch"] == "gru_lm"


def test_stopping_writes_a_sample_and_a_card_a_stopped_run_can_already_write_with(tmp_path):
    holder: dict = {}

    def stop_at_step_7(e: ev.Event) -> None:
        if isinstance(e, ev.MetricPoint) and e.name == "train_loss" and e.step == 7:
            holder["handle"].stop()

    run = tmp_path / "run"
    holder["handle"] = Engine(disk_cache=False).start(lm_flow(sample_every=1000), out_dir=run, device="cpu",
                                                      on_event=stop_at_step_7)
    assert holder["handle"].wait().status == "stopped"
    assert sorted(p.name for p in (run / "train" / "samples").iterdir()) == ["step_000000.txt", "step_000007.txt"]
    (text,) = load_language_model(run / "train" / "language_model.json").write("the", 1, 10, seed=0)
    assert text.startswith("the")


def test_a_corpus_shorter_than_one_block_is_refused_with_what_to_change(tmp_path):
    result = Engine(disk_cache=False).run(lm_flow(model_params={"block_size": 8192}), out_dir=tmp_path / "r",
                                          device="cpu")
    assert result.status == "failed" and result.input_error
    assert "block_size 8192 needs at least 8193" in result.message and "lower block_size" in result.message
