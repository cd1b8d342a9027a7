"""Which metrics a workflow reports, and when: the one place a sweep learns what it may optimise.

A sweep needs to know, before anything runs, whether ``--metric`` will ever
be reported (else the study would fill with failed trials), which node
reports it, and how often: once per epoch (validation scores: reported to
the pruner at each epoch end), every step (training losses: the epoch's last
value is reported when the epoch closes) or once at the end (an evaluation
score: no pruning).  The step declarations do not list their metrics, so
the table below names them per step type, next to nothing else; a new
training step adds one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.training.choices import CV_METRICS
from engine.workflow import Workflow

EPOCH, STEP, FINAL = "epoch", "step", "final"

# step type -> {metric name: when it is reported}; matches what engine/training emits.
_TRAIN_METRICS: dict[str, dict[str, str]] = {
    "train": {"val_accuracy": EPOCH, "val_loss": EPOCH, "val_f1": EPOCH, "train_loss": STEP},
    "train_gan": {"loss_d": STEP, "loss_g": STEP, "d_real": STEP, "d_fake": STEP},
    "train_vae": {"loss": STEP, "recon": STEP, "kl": STEP},
    "train_lm": {"val_loss": EPOCH, "val_perplexity": EPOCH, "train_loss": STEP},
}
_EVALUATE_SCORES = ("accuracy", "f1_macro", "precision_macro", "recall_macro")  # reported as <split>_<score>
_LOWER_IS_BETTER = ("loss", "perplexity", "recon", "kl")


@dataclass(frozen=True)
class MetricSource:
    """Where a metric comes from: the node that reports it and when (EPOCH, STEP or FINAL)."""

    node: str
    name: str
    when: str


def _reported_by(step_type: str, params: dict[str, Any]) -> dict[str, str]:
    if step_type == "train" and int(params.get("kfold", 0) or 0) >= 2:
        # Cross-validation tags its per-epoch points per fold (fold1/val_accuracy ...); the mean is reported once.
        return dict.fromkeys(CV_METRICS, FINAL)
    if step_type in _TRAIN_METRICS:
        return _TRAIN_METRICS[step_type]
    if step_type == "evaluate":
        split = params.get("split", "test")
        return {f"{split}_{score}": FINAL for score in _EVALUATE_SCORES}
    return {}


def reported_metrics(workflow: Workflow) -> dict[str, MetricSource]:
    """Every metric the workflow reports, by name; the first node in the file that reports a name wins."""
    found: dict[str, MetricSource] = {}
    for node in workflow.nodes:
        for name, when in _reported_by(node.type, node.params).items():
            found.setdefault(name, MetricSource(node.id, name, when))
    return found


def metric_source(workflow: Workflow, metric: str) -> MetricSource:
    """The source of ``metric``; UserInputError (one line, naming the choices) when the workflow never reports it."""
    from engine.errors import UserInputError

    found = reported_metrics(workflow)
    if metric in found:
        return found[metric]
    names = ", ".join(sorted(found)) or "none (it has no training or evaluation step)"
    raise UserInputError(f"--metric {metric}: the workflow does not report this metric — it reports {names}")


def default_maximize(metric: str) -> bool:
    """Scores go up, losses go down: the direction when neither --maximize nor --minimize is given."""
    return not any(word in metric for word in _LOWER_IS_BETTER)
