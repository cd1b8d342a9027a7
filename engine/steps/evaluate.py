"""Evaluation of a trained classifier on held-out data."""

from __future__ import annotations

from engine.context import StepContext
from engine.names import CachePolicy
from engine.params import Choice, Int, Text
from engine.ports import DATASET, METRICS, TRAINED_MODEL, Port
from engine.steps.registry import step
from engine.textparams import parse_fractions


@step(
    "evaluate",
    title="Evaluate classifier",
    category="evaluate",
    description="Accuracy, macro and per-class precision/recall/F1, a confusion matrix and the most confident "
    "mistakes on a held-out split; mean ± std for k-fold models; optional FGSM robustness.",
    inputs=[Port("model", TRAINED_MODEL), Port("data", DATASET)],
    outputs=[Port("metrics", METRICS)],
    params=[
        Choice("split", "test", ("test", "val", "train", "all"), "Which part of the data to score."),
        Int("mistakes", 16, 0, 256, "Show this many of the most confident wrong predictions (images as a grid, "
            "texts as a table and mistakes.csv)."),
        Text("fgsm_eps", "", "Robustness check: accuracy under an FGSM attack at these epsilons (pixel units, "
             "comma-separated, e.g. 0.01,0.05); empty = skip.", parse=parse_fractions, advanced=True,
             label="Robustness check strengths"),
    ],
    cache=CachePolicy.NONE,
    produces_images=True,
)
def evaluate(ctx: StepContext) -> dict:
    from engine.training.evaluation import evaluate_classifier, parse_epsilons

    split = ctx.params["split"]
    eps = parse_epsilons(ctx.params["fgsm_eps"], f"node '{ctx.node_id}', param 'fgsm_eps'")
    report = evaluate_classifier(ctx, ctx.inputs["model"], ctx.inputs["data"], split, ctx.params["mistakes"], eps)
    ctx.log(
        f"{split}: accuracy {report['accuracy']:.4f}, macro F1 {report['f1_macro']:.4f} "
        f"on {report['samples']} samples"
    )
    ctx.report(**report)
    return {"metrics": report}
