"""A new kind of data declared in test code: fixed-length float sequences (no engine file knows it).

One registration (plus its port type) is all it takes for the sequences to
flow through train -> evaluate -> export -> ``loom predict``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.data.datasets import TensorDataset
from engine.data.kinds import DataKind, PredictInputs, base_facts, register_kind
from engine.names import CachePolicy
from engine.params import Int, Seed
from engine.ports import DATASET, Port, register_port_type
from engine.steps.registry import step

SEQUENCES = register_port_type("SequenceDataset", accepted_by=(DATASET,))
SHAPES = ("sine", "square", "ramp")


@dataclass
class SequenceDataset(TensorDataset):
    """N sequences of one length, as an N x L float tensor."""

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SequenceDataset:
        return cls(**cls.common_from_state(state))


def wave(shape: int, phase: float, length: int) -> list[float]:
    t = [2 * math.pi * (i / length * 2 + phase) for i in range(length)]
    if shape == 0:
        return [math.sin(v) for v in t]
    if shape == 1:
        return [1.0 if math.sin(v) >= 0 else -1.0 for v in t]
    return [((v / math.pi) % 2) - 1 for v in t]


def read_lines(args: list[str], card: Mapping[str, Any], options: Mapping[str, Any]) -> PredictInputs:
    rows, names = [], []
    for arg in args:
        for i, line in enumerate(Path(arg).read_text().splitlines(), 1):
            rows.append([float(v) for v in line.split(",")])
            names.append(f"{arg}:{i}")
    return PredictInputs(torch.tensor(rows), names, name_column="line")


register_kind(DataKind(
    name="sequences", port_type=SEQUENCES, dataset_type=SequenceDataset, from_state=SequenceDataset.from_state,
    model_facts=base_facts, input_spec=lambda data: {"length": data.sample_shape[0]},
    card_fields=lambda facts, spec: {"input": {"length": spec["length"], "format": "comma-separated numbers"}},
    read_inputs=read_lines, noun="sequences",
))


@step("toy_sequences", title="Waves (test)", category="data", outputs=[Port("data", SEQUENCES)], cache=CachePolicy.DISK,
      params=[Int("n", 300, 3, 100000, "How many sequences."), Int("length", 24, 2, 4096, "Values per sequence."),
              Seed()])
def toy_sequences(ctx) -> dict:  # noqa: ANN001
    gen = torch.Generator().manual_seed(ctx.params["seed"])
    n, length = ctx.params["n"], ctx.params["length"]
    labels = torch.arange(n) % len(SHAPES)
    phases = torch.rand(n, generator=gen)
    x = torch.tensor([wave(int(c), float(p), length) for c, p in zip(labels, phases, strict=True)])
    return {"data": SequenceDataset(x=x + 0.1 * torch.randn(x.shape, generator=gen), labels=labels,
                                    classes=list(SHAPES), name="waves")}
