"""Workflows the text-classification tests share: made-up topics -> a text model -> train -> evaluate -> export."""

from __future__ import annotations

from typing import Any

from engine.workflow import Workflow
from tests import toy_texts  # noqa: F401 - registers the toy_texts step

SMALL = {
    "gru": {"embed": 32, "width": 32},
    "lstm": {"embed": 32, "width": 32},
    "transformer": {"width": 32, "heads": 2, "ff_width": 64},
}


def classify_texts(model: str, model_params: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
                   export: bool = True, **train: Any) -> Workflow:
    nodes = [
        {"id": "data", "type": "toy_texts", "params": data or {}},
        {"id": "model", "type": model, "params": {**SMALL.get(model, {}), **(model_params or {})}},
        {"id": "train", "type": "train", "params": {"epochs": 8, "batch_size": 32, "lr": 0.003, **train}},
        {"id": "evaluate", "type": "evaluate", "params": {}},
    ]
    links = [("data.data", "train.data"), ("model.model", "train.model"), ("train.model", "evaluate.model"),
             ("data.data", "evaluate.data")]
    if export:
        nodes.append({"id": "export", "type": "export", "params": {}})
        links += [("train.model", "export.model"), ("evaluate.metrics", "export.metrics")]
    return Workflow.from_json({"schema": 1, "name": f"classify texts ({model})", "nodes": nodes,
                               "links": [{"source": s, "target": t} for s, t in links]})
