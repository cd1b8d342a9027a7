"""Evaluation of a trained classifier on held-out data."""

from __future__ import annotations

from engine.context import StepContext
from engine.params import Choice
from engine.ports import DATASET, METRICS, TRAINED_MODEL, Port
from engine.steps.registry import step


@step(
    "evaluate",
    title="Evaluate classifier",
    category="evaluate",
    description="Accuracy and macro/per-class precision, recall and F1 on a held-out split.",
    inputs=[Port("model", TRAINED_MODEL), Port("data", DATASET)],
    outputs=[Port("metrics", METRICS)],
    params=[Choice("split", "test", ("test", "val", "train", "all"), "Which part of the data to score.")],
    cache="none",
)
def evaluate(ctx: StepContext) -> dict:
    from engine.training.metrics import classification_report
    from engine.training.supervised import evaluate_split

    trained, data = ctx.inputs["model"], ctx.inputs["data"]
    result = evaluate_split(trained.module, data, ctx.params["split"], ctx.device)
    report = classification_report(result["true"], result["pred"], trained.classes)
    report["split"] = ctx.params["split"]
    ctx.log(
        f"{ctx.params['split']}: accuracy {report['accuracy']:.4f}, macro F1 {report['f1_macro']:.4f} "
        f"on {report['samples']} samples"
    )
    ctx.report(**report)
    return {"metrics": report}
