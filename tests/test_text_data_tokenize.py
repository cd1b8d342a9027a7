"""`tokenize`: a tokenizer learned from the training texts only (or a model's own), saved with the run, in the key."""

from __future__ import annotations

import pytest
import torch

from engine import Engine
from engine import events as ev
from engine.data.texts import RawTexts, TextDataset
from engine.data.tokenizer import TextTokenizer
from engine.errors import UserInputError
from engine.preflight import preflight
from engine.store import read_run
from tests.text_data_support import csv_source, flow, loom, reviews_csv, run_step, the_one_line


def raw_texts(train: list[str], held_out: list[str]) -> RawTexts:
    """Texts whose training split is exactly ``train`` (labels alternate a, b)."""
    texts = train + held_out
    n = len(train)
    return RawTexts(texts, torch.tensor([i % 2 for i in range(len(texts))]), ["a", "b"],
                    splits={"train": torch.arange(n), "val": torch.arange(n, len(texts)), "test": torch.arange(0)})


@pytest.mark.parametrize("method, unseen", [("char", "z"), ("bpe", "Ġquokka")])
def test_the_vocabulary_is_learned_from_the_training_texts_only(tmp_path, method, unseen):
    raw = raw_texts(["a cat sat on a mat", "a bat ate a rat"] * 5, ["the quokka zigzags", "zoo quokka"])
    data, _ = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", method=method, vocab_size=500)
    assert isinstance(data, TextDataset)
    assert data.tokenizer.token_id(unseen) is None  # held-out words never reach the vocabulary
    assert data.tokenizer.token_id("a") is not None


def test_the_splits_and_classes_of_the_texts_are_kept(tmp_path):
    raw = raw_texts(["one text", "two texts", "red", "blue"], ["green", "grey"])
    data, _ = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok")
    assert data.classes == ["a", "b"] and torch.equal(data.labels, raw.labels)
    assert all(torch.equal(data.split(s), raw.split(s)) for s in ("train", "val", "test"))
    assert data.texts == raw.texts


def test_the_tokenizer_is_saved_in_the_run_folder_and_listed_as_an_artifact(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=40)
    result = Engine().run(flow(csv_source(tmp_path / "r.csv"), tokenize={"vocab_size": 300, "max_len": 24}),
                          out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    record = read_run(tmp_path / "run")
    assert {"node": "tok", "kind": "tokenizer", "path": "tok/tokenizer.json"} in record["artifacts"]
    saved = TextTokenizer.from_json((tmp_path / "run" / "tok" / "tokenizer.json").read_text(encoding="utf-8"))
    assert saved.vocab_size == record["nodes"]["tok"]["report"]["vocab_size"]


def test_the_saved_tokenizer_is_the_one_that_made_the_token_ids(tmp_path):
    raw = raw_texts(["the cat sat", "the dog ran far away"] * 3, ["the end"])
    data, events = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", vocab_size=300)
    saved = (tmp_path / "run" / "tok" / "tokenizer.json").read_text(encoding="utf-8")
    assert saved == data.tokenizer_json
    x, _ = TextTokenizer.from_json(saved).encode_batch(raw.texts, data.max_len)
    assert torch.equal(x, data.x)
    assert [e.kind for e in events if isinstance(e, ev.ArtifactSaved)] == ["tokenizer", "preview"]


def test_texts_longer_than_max_len_are_cut_and_counted_and_shorter_ones_padded(tmp_path):
    raw = raw_texts(["abcdefgh", "abc", "abcdefghij", "ab"], ["abcdefg"])
    data, events = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", method="char", max_len=5)
    assert data.x.shape == (5, 5)
    assert data.lengths().tolist() == [5, 3, 5, 2, 5]
    assert events.report["truncated"] == 3
    assert "cut 3 of 5 texts to 5 tokens for a classifier — raise max_len to keep more of each text (a language model reads every text whole, whatever max_len is)" in events.logs("warning")


def test_max_len_0_pads_every_text_to_the_longest_and_cuts_nothing(tmp_path):
    raw = raw_texts(["abcdefgh", "abc", "abcdefghij", "ab"], ["abcdefg"])
    data, events = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", method="char", max_len=0)
    assert data.max_len == 10 and events.report["truncated"] == 0
    assert data.lengths().tolist() == [8, 3, 10, 2, 7]


def test_lowercase_makes_capitals_the_same_tokens(tmp_path):
    raw = raw_texts(["Hello World", "hello world", "HELLO there"], ["World"])
    data, _ = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", lowercase=True, vocab_size=300)
    assert torch.equal(data.x[0], data.x[1])


def test_the_preview_shows_the_vocabulary_lengths_and_texts_with_their_tokens(tmp_path):
    raw = raw_texts(["the cat sat", "the dog ran far away"] * 3, ["the end"])
    data, events = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", method="char", max_len=12)
    report = events.report
    assert report["vocab_size"] == data.vocab_size == 18 and report["max_tokens"] == 12  # 15 characters, 3 specials
    assert report["longest_tokens"] == 12 and report["truncated"] == 3
    assert report["mean_tokens"] == pytest.approx(float(data.lengths().float().mean()), abs=0.05)
    first = report["examples"][0]
    assert first["text"] == "the cat sat" and "".join(first["tokens"]) == "the cat sat"
    [shown] = [e for e in events if isinstance(e, ev.TextReady)]
    assert shown.name == "preview" and "the cat sat" in shown.text
    assert (tmp_path / "run" / "tok" / "preview.txt").read_text() == shown.text


@pytest.mark.parametrize("change", [{"method": "char"}, {"vocab_size": 301},
                                    {"max_len": 17}, {"lowercase": True}])
def test_changing_any_tokenizer_setting_tokenizes_again_and_an_unchanged_one_is_reused(tmp_path, change):
    reviews_csv(tmp_path / "r.csv", n=30)
    engine = Engine(cache_dir=tmp_path / "cache")
    settings = {"vocab_size": 300, "max_len": 16}
    first = engine.run(flow(csv_source(tmp_path / "r.csv"), tokenize=settings), out_dir=tmp_path / "r1")
    same = engine.run(flow(csv_source(tmp_path / "r.csv"), tokenize=settings), out_dir=tmp_path / "r2")
    changed = engine.run(flow(csv_source(tmp_path / "r.csv"), tokenize={**settings, **change}),
                         out_dir=tmp_path / "r3")
    assert (first.node_states["tok"], same.node_states["tok"], changed.node_states["tok"]) == (
        "done", "cached", "done")
    assert changed.node_states["data"] == "cached"
    assert read_run(tmp_path / "r3")["nodes"]["tok"]["report"]["method"] == change.get("method", "bpe")


# -- a pretrained model's own tokenizer ------------------------------------------------------------------
def bert_like_folder(folder, words=("the", "cat", "sat", "dog", "ran")):
    """A model folder holding a BERT-style tokenizer.json ([CLS] text [SEP], [PAD] = 0), as save_pretrained writes."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "config.json").write_text('{"model_type": "bert"}')
    return folder


def test_a_pretrained_model_folders_tokenizer_is_used_as_it_is(tmp_path):
    raw = raw_texts(["The cat sat", "the dog ran"], ["a zebra"])
    data, events = run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", method="pretrained",
                            path=str(bert_like_folder(tmp_path / "bert")), max_len=6)
    assert data.x[0].tolist() == [2, 4, 5, 6, 3, 0]  # [CLS] the cat sat [SEP] [PAD]
    assert data.x[2].tolist()[:3] == [2, 1, 1]  # words it does not know stay unknown: nothing is learned
    assert data.tokenizer_method == "pretrained" and data.pad_id == 0 and data.vocab_size == 9
    assert events.report["tokenizer_from"] == str(tmp_path / "bert")


def test_a_changed_pretrained_tokenizer_file_tokenizes_again(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=20)
    bert_like_folder(tmp_path / "bert")
    engine = Engine(cache_dir=tmp_path / "cache")
    wf = flow(csv_source(tmp_path / "r.csv"), tokenize={"method": "pretrained", "path": str(tmp_path / "bert")})
    assert engine.run(wf, out_dir=tmp_path / "r1").node_states["tok"] == "done"
    assert engine.run(wf, out_dir=tmp_path / "r2").node_states["tok"] == "cached"
    bert_like_folder(tmp_path / "bert", words=("the", "a", "joy", "to", "watch"))
    assert engine.run(wf, out_dir=tmp_path / "r3").node_states["tok"] == "done"


def test_a_model_folder_without_tokenizer_json_is_named_before_anything_runs(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=20)
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    path = tmp_path / "flow.json"
    flow(csv_source(tmp_path / "r.csv"), tokenize={"method": "pretrained", "path": str(tmp_path / "bert")}).save(path)
    proc = loom("run", str(path), "--out", str(tmp_path / "run"), "-q")
    assert proc.returncode == 2 and not (tmp_path / "run").exists()
    assert the_one_line(proc).startswith(f"loom: node 'tok', param 'path': the model folder {tmp_path / 'bert'} "
                                         "holds no tokenizer.json — save the model's tokenizer there")


def test_pretrained_without_a_folder_is_refused_as_you_type(tmp_path):
    from engine.validation import validate

    reviews_csv(tmp_path / "r.csv", n=20)
    [problem] = validate(flow(csv_source(tmp_path / "r.csv"), tokenize={"method": "pretrained"}))
    assert (problem.node_id, problem.field) == ("tok", "param 'path'")
    assert "choose the pretrained model's folder" in problem.message


def test_a_pretrained_folder_that_is_missing_is_named_by_the_preflight(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=20)
    [problem] = preflight(flow(csv_source(tmp_path / "r.csv"),
                               tokenize={"method": "pretrained", "path": str(tmp_path / "nowhere")}))
    assert problem.message.startswith(f"{tmp_path / 'nowhere'} does not exist")


def test_a_damaged_tokenizer_json_fails_the_node_naming_the_file(tmp_path):
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "Nonsense"')
    with pytest.raises(UserInputError) as refused:
        run_step("tokenize", tmp_path / "run", {"data": raw_texts(["a b", "c d"], ["e"])}, node_id="tok",
                 method="pretrained", path=str(tmp_path / "bert"))
    assert str(refused.value).startswith(f"node 'tok', param 'path': {tmp_path / 'bert' / 'tokenizer.json'} cannot "
                                         "be read as a tokenizer (")


def test_settings_that_would_fill_the_memory_are_refused_before_anything_is_allocated(tmp_path):
    raw = raw_texts(["a b c"] * 3000, ["d"])
    with pytest.raises(UserInputError, match=r"3,001 texts of 1,000,000 tokens would take 22\.4 GB — lower max_len"):
        run_step("tokenize", tmp_path / "run", {"data": raw}, node_id="tok", method="char", max_len=1_000_000)
