"""Classifier architectures. A model node outputs a spec; training builds it."""

from __future__ import annotations

from engine.context import StepContext
from engine.errors import UserInputError
from engine.models import ModelSpec
from engine.params import Float, Text
from engine.ports import MODEL, Port
from engine.steps.registry import step


@step(
    "mlp",
    title="MLP classifier",
    category="models",
    description="A fully connected network for tables or small flattened images.",
    outputs=[Port("model", MODEL)],
    params=[
        Text("hidden", "256,128", "Sizes of the hidden layers, comma-separated (e.g. 256,128)."),
        Float("dropout", 0.1, 0.0, 0.9, "Fraction of units dropped during training to curb overfitting."),
    ],
)
def mlp(ctx: StepContext) -> dict:
    from engine.models.mlp import parse_hidden

    try:
        parse_hidden(ctx.params["hidden"])
    except ValueError as exc:
        raise UserInputError(f"node '{ctx.node_id}', param 'hidden': {exc}") from None
    return {"model": ModelSpec("mlp", dict(ctx.params))}
