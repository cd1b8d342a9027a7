"""Optimisers use torch's fused update kernel wherever it exists (one kernel, not a Python loop per tensor)."""

from __future__ import annotations

import torch

from engine.training.common import adam, fused_kernel, make_optimizer


def _params(*shapes: tuple[int, ...]) -> list[torch.nn.Parameter]:
    return [torch.nn.Parameter(torch.randn(*s)) for s in shapes]


def test_every_optimizer_choice_is_fused_on_the_cpu() -> None:
    for name in ("adam", "adamw", "sgd"):
        opt = make_optimizer(name, _params((3, 4), (4,)), lr=0.01)
        assert opt.defaults["fused"] is True, name


def test_param_groups_are_fused_too() -> None:
    decay, rest = _params((3, 4)), _params((4,))
    opt = adam([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], 1e-3, decoupled=True)
    assert isinstance(opt, torch.optim.AdamW) and opt.defaults["fused"] is True
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]


def test_tensors_the_fused_kernel_cannot_take_keep_the_default() -> None:
    assert fused_kernel([torch.zeros(2, dtype=torch.long)]) == {}
    assert fused_kernel([torch.zeros(2, device="meta")]) == {}
    assert fused_kernel([]) == {}


def test_a_fused_step_matches_the_default_step() -> None:
    torch.manual_seed(0)
    a = _params((5, 5), (5,))
    b = [torch.nn.Parameter(p.detach().clone()) for p in a]
    fused, plain = adam(a, 1e-2, (0.5, 0.999)), torch.optim.Adam(b, lr=1e-2, betas=(0.5, 0.999))
    for _ in range(3):
        grads = [torch.randn_like(p) for p in a]
        for p, q, g in zip(a, b, grads, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        fused.step()
        plain.step()
    for p, q in zip(a, b, strict=True):
        torch.testing.assert_close(p, q)
