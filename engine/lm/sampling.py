"""Writing with a language model: prompt -> token ids -> sampled continuation -> text.

Shared by the live samples of ``train_lm``, the ``generate_text`` step and
``loom generate --prompt``, so all three write the same text for the same
model, prompt and seed.  Sampling draws from its own seeded generator on the
CPU (never the global RNG, so samples taken during training cannot change
the training itself), with the model in eval mode (no dropout).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch

from engine.data.tokenizer import TextTokenizer
from engine.threads import one_intraop_thread

SAMPLE_SEPARATOR = "\n\n---\n\n"


def encode_plain(tokenizer: TextTokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text, without the special tokens a pretrained tokenizer adds ([CLS], [SEP])."""
    return [list(enc.ids) for enc in tokenizer.tok.encode_batch(list(texts), add_special_tokens=False)]


def pick_next(logits: torch.Tensor, temperature: float, top_k: int, generator: torch.Generator) -> torch.Tensor:
    """One token id per row of ``logits`` (N x vocab, CPU float): greedy at temperature 0, else sampled
    from the ``top_k`` most likely (0: all) with the logits divided by ``temperature``."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)


@contextlib.contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Writing on the CPU runs one token at a time through small matrices: one intra-op thread does that
    fastest, and several wait on each other (on a busy 2-core machine, 20x slower).  Restored afterwards."""
    if device.type != "cpu":
        yield
        return
    with one_intraop_thread():
        yield


@torch.no_grad()
def sample_ids(module: torch.nn.Module, prompt_ids: list[int], n: int, max_tokens: int, temperature: float,
               top_k: int, seed: int, eos_id: int | None = None, banned: Sequence[int] = ()) -> list[list[int]]:
    """``n`` continuations (token ids, prompt excluded) of ``prompt_ids``, each ending at ``eos_id`` or after
    ``max_tokens``.  ``banned`` ids (padding) are never drawn.  The module's mode is restored afterwards."""
    device = next(module.parameters()).device
    generator = torch.Generator().manual_seed(int(seed))
    was_training = module.training
    module.eval()
    try:
        with one_cpu_thread(device):
            return draw(module, torch.tensor([prompt_ids] * n, dtype=torch.long, device=device), max_tokens,
                        lambda logits: pick_next(logits, temperature, top_k, generator), eos_id, banned)
    finally:
        module.train(was_training)


def draw(module: torch.nn.Module, idx: torch.Tensor, max_tokens: int,
         pick: Callable[[torch.Tensor], torch.Tensor], eos_id: int | None, banned: Sequence[int]) -> list[list[int]]:
    """The decoding loop: feed ``idx`` (N x prompt length), then each row's chosen token, until every row
    has written ``eos_id`` or ``max_tokens`` tokens."""
    n = idx.shape[0]
    out: list[list[int]] = [[] for _ in range(n)]
    open_rows = [True] * n
    state = None
    for _ in range(max_tokens):
        logits, state = module.decode_step(idx, state)
        logits = logits.float().cpu()
        if banned:
            logits[:, list(banned)] = float("-inf")
        chosen = pick(logits)
        for row, token in enumerate(chosen.tolist()):
            if open_rows[row]:
                if token == eos_id:
                    open_rows[row] = False
                else:
                    out[row].append(token)
        if not any(open_rows):
            break
        idx = chosen.view(n, 1).to(idx.device)
    return out


def continue_prompt(module: torch.nn.Module, tokenizer: TextTokenizer, prompt: str, *, n: int, max_tokens: int,
                    temperature: float, top_k: int, seed: int) -> list[str]:
    """``n`` texts that each start with ``prompt`` and go on as the model writes.

    An empty prompt (or one the tokenizer reads as nothing) starts where a
    text starts: after an ``[EOS]``.  The decoded prompt is replaced by the
    prompt as typed, so characters the tokenizer does not know survive.
    """
    (prompt_ids,) = encode_plain(tokenizer, [prompt])
    eos, pad = tokenizer.eos_id, tokenizer.pad_id
    start = prompt_ids or ([eos] if eos is not None else [pad])
    banned = [pad] if pad != eos else []
    texts = []
    for ids in sample_ids(module, start, n, max_tokens, temperature, top_k, seed, eos, banned):
        full = tokenizer.decode(prompt_ids + ids)
        head = tokenizer.decode(prompt_ids)
        texts.append(prompt + full[len(head):] if full.startswith(head) else full)
    return texts


def join_samples(texts: Sequence[str]) -> str:
    """Several samples as one text: separated by a ``---`` line."""
    return SAMPLE_SEPARATOR.join(texts)
