"""The language models and what they learn from: causal GPT, recurrent GRU, token blocks, seeded sampling."""

from __future__ import annotations

import pytest
import torch

from engine.data.texts import TextDataset
from engine.data.tokenizer import TextTokenizer
from engine.lm import parse_prompts
from engine.lm.blocks import cut_blocks, token_stream
from engine.lm.sampling import continue_prompt, pick_next, sample_ids
from engine.models import ModelSpec, build_model
from engine.validation import validate
from tests.text_lm_support import TINY, lm_flow, text_dataset

FACTS = {"vocab_size": 30, "block_size": 12}
SMALL = {"gpt": {"layers": 2, "heads": 2, "width": 16, "dropout": 0.0},
         "gru_lm": {"embed": 8, "width": 16, "layers": 2, "dropout": 0.0}}


def model(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(ModelSpec(arch, SMALL[arch]), FACTS).eval()


@pytest.mark.parametrize("arch", ["gpt", "gru_lm"])
def test_a_token_never_sees_the_tokens_after_it(arch):
    net = model(arch)
    x = torch.randint(0, 30, (2, 12))
    changed = x.clone()
    changed[:, 7:] = (changed[:, 7:] + 1) % 30
    with torch.no_grad():
        a, b = net(x), net(changed)
    assert a.shape == (2, 12, 30)
    assert torch.allclose(a[:, :7], b[:, :7], atol=1e-6)
    assert not torch.allclose(a[:, 7:], b[:, 7:])


@pytest.mark.parametrize("arch", ["gpt", "gru_lm"])
def test_writing_token_by_token_gives_the_logits_of_reading_the_whole_text(arch):
    net = model(arch)
    x = torch.randint(0, 30, (3, 12))
    with torch.no_grad():
        full = net(x)
        logits, state = net.decode_step(x[:, :4], None)  # the prompt at once, then one token at a time
        steps = [logits]
        for i in range(4, 12):
            logits, state = net.decode_step(x[:, i:i + 1], state)
            steps.append(logits)
    assert torch.allclose(torch.stack(steps[:-1], 1), full[:, 3:11], atol=1e-5)
    assert torch.allclose(steps[-1], full[:, 11], atol=1e-5)


def test_a_gpt_writing_past_its_context_keeps_the_most_recent_tokens():
    net = model("gpt")
    x = torch.randint(0, 30, (1, 20))
    with torch.no_grad():
        logits, state = net.decode_step(x[:, :12], None)
        logits, state = net.decode_step(x[:, 12:13], state)  # the 13th token: the context is cut and re-read
        assert state[0].shape[1] <= 12 and torch.equal(state[0][0, -1], x[0, 12])
        assert torch.allclose(logits, net(state[0])[:, -1], atol=1e-5)


def test_the_output_layer_is_the_token_embedding():
    net = model("gpt")
    names = [name for name, _ in net.named_parameters()]
    assert "tok_emb.weight" in names and not any(n.startswith("head") for n in names)


def test_texts_become_one_stream_with_an_eos_after_each_text_cut_into_overlapping_blocks():
    data = text_dataset(["ab", "cab", "b"] * 4, "char", 50)
    tok, eos = data.tokenizer, data.tokenizer.eos_id
    stream = token_stream(data, "all")
    expected = []
    for text in data.texts:
        expected += tok.encode(text) + [eos]
    assert stream.tolist() == expected
    blocks = cut_blocks(stream, 4)
    assert blocks.shape == ((len(stream) - 1) // 4, 5)
    assert torch.equal(blocks[0, 1:], stream[1:5]) and torch.equal(blocks[1, 0], blocks[0, 4])  # overlap by one
    targets = torch.cat([b[1:] for b in blocks])
    assert torch.equal(targets, stream[1:1 + len(targets)])  # every token a target once


def test_the_whole_text_is_learned_even_where_the_tokenize_step_cut_it_for_classifiers():
    long = "the cat sees the mat. " * 20
    data = text_dataset([long] * 10, "char", 50, max_len=8)
    assert data.max_len == 8
    assert len(token_stream(data, "all")) == 10 * (len(data.tokenizer.encode(long)) + 1)


def test_a_short_validation_split_is_still_measured_and_a_large_one_is_sampled_evenly():
    assert cut_blocks(torch.arange(5), 16).shape == (1, 5)
    assert cut_blocks(torch.arange(1), 16).shape == (0, 17)
    assert cut_blocks(torch.arange(0), 16).shape == (0, 17)  # no validation texts (a one-file corpus)
    spread = cut_blocks(torch.arange(1001), 10, max_blocks=4)
    assert spread[:, 0].tolist() == [0, 330, 660, 990]


def test_temperature_zero_is_greedy_and_top_k_one_is_too():
    logits = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 2.9]])
    gen = torch.Generator().manual_seed(0)
    assert pick_next(logits, 0.0, 0, gen).tolist() == [1, 0]
    assert all(pick_next(logits, 5.0, 1, gen).tolist() == [1, 0] for _ in range(20))


def test_the_same_seed_writes_the_same_text_and_never_touches_the_global_random_state():
    data = text_dataset(TINY, "char", 50)
    net = build_model(ModelSpec("gru_lm", SMALL["gru_lm"]), {"vocab_size": data.vocab_size, "block_size": 8})
    net.train()
    before, threads = torch.get_rng_state(), torch.get_num_threads()
    a = continue_prompt(net, data.tokenizer, "the cat", n=3, max_tokens=15, temperature=1.0, top_k=0, seed=4)
    b = continue_prompt(net, data.tokenizer, "the cat", n=3, max_tokens=15, temperature=1.0, top_k=0, seed=4)
    assert torch.equal(torch.get_rng_state(), before) and net.training  # training state untouched
    assert torch.get_num_threads() == threads  # writes on one thread, then gives training its threads back
    assert a == b and all(t.startswith("the cat") for t in a)
    assert len(set(a)) > 1  # three draws, not one copied


def test_sampling_stops_at_the_end_of_a_text_and_never_writes_padding():
    class Says(torch.nn.Module):  # always ranks padding (0) first and [EOS] (2) after three tokens
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def decode_step(self, idx, state):  # noqa: ANN001, ANN202
            seen = 0 if state is None else state + 1
            logits = torch.full((idx.shape[0], 5), -10.0)
            logits[:, 0] = 10.0
            logits[:, 2 if seen >= 3 else 4] = 5.0
            return logits, seen

    out = sample_ids(Says(), [1], n=2, max_tokens=50, temperature=0.0, top_k=0, seed=0, eos_id=2, banned=[0])
    assert out == [[4, 4, 4], [4, 4, 4]]


def test_an_unknown_character_in_a_prompt_is_kept_as_typed():
    data = text_dataset(TINY, "char", 50)
    net = build_model(ModelSpec("gpt", SMALL["gpt"]), {"vocab_size": data.vocab_size, "block_size": 8})
    (text,) = continue_prompt(net, data.tokenizer, "Zoë the", n=1, max_tokens=5, temperature=1.0, top_k=0, seed=0)
    assert text.startswith("Zoë the")


def test_prompts_are_separated_by_bars_and_none_may_be_empty():
    assert parse_prompts(" The | def ") == ["The", "def"]
    for bad in ("", " | ", "The||def", "The|"):
        with pytest.raises(ValueError, match="prompt"):
            parse_prompts(bad)


def test_bad_model_and_prompt_settings_are_refused_before_anything_runs():
    wf = lm_flow(model_params={"width": 30, "heads": 4}, prompts="The||x")
    problems = [str(p) for p in validate(wf)]
    assert any("node 'model', param 'heads'" in p and "not a multiple" in p for p in problems), problems
    assert any("node 'train', param 'prompts'" in p and "empty prompt" in p for p in problems), problems


def test_a_learned_tokenizer_without_eos_still_makes_a_stream():
    from tokenizers import Tokenizer, models, pre_tokenizers

    raw = Tokenizer(models.WordLevel({"[PAD]": 0, "a": 1, "b": 2, "[UNK]": 3}, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok = TextTokenizer(raw, "char")
    assert tok.eos_id is None
    x, _ = tok.encode_batch(["ab"] * 10, 4)
    data = TextDataset(x=x, labels=None, classes=[], texts=["ab"] * 10, tokenizer_json=tok.to_json())
    assert token_stream(data, "all").tolist() == [1, 2] * 10
