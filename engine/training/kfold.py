"""K-fold cross-validation of a classifier.

The training and validation splits are pooled and dealt into ``k`` stratified
folds (the test split is never touched); one model is trained per fold, each
through the loop driver with that fold held out for validation.  The step
reports every validation metric as mean ± std over the folds (and the means as
``cv_accuracy``/``cv_f1``/``cv_loss`` metrics, what a sweep can optimise); the fold with
the best monitored value becomes the step's model, and all fold models travel
along (``extra["fold_models"]``) so the evaluation step can score each on the
test split too.  Each fold keeps its own checkpoint, so a stopped
cross-validation resumes in the fold it was in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from engine.context import StepContext
from engine.data.datasets import TensorDataset
from engine.errors import UserInputError
from engine.models import ModelSpec, TrainedModel
from engine.training.choices import CV_METRICS
from engine.training.loop import LoopConfig, TrainingLoop
from engine.training.metrics import classification_report, mean_std
from engine.training.scores import evaluate_split, is_better
from engine.training.supervised import Classifier, FitConfig, check_classification_data


def fold_datasets(data: TensorDataset, k: int, seed: int) -> list[TensorDataset]:
    """``k`` views of ``data`` sharing its tensors, each with its own train/val split."""
    from engine.data.splits import kfold_splits

    pool = torch.cat([data.split("train"), data.split("val")]).sort().values
    try:
        folds = kfold_splits(data.labels, k, seed, indices=pool)
    except ValueError as exc:
        raise UserInputError(f"k-fold: {exc}") from None
    test = data.split("test")
    return [data.view_with_splits({"train": tr, "val": va, "test": test}) for tr, va in folds]


def fit_kfold(ctx: StepContext, data: TensorDataset, spec: ModelSpec, cfg: FitConfig, loop: LoopConfig,
              k: int) -> TrainedModel:
    check_classification_data(data, ctx.node_id)
    fold_loop = replace(loop, time_budget=loop.time_budget / k)  # the budget covers all folds
    views = fold_datasets(data, k, loop.seed)
    planned = views[0].num_batches("train", cfg.batch_size) * loop.epochs + 1
    fits: list[TrainedModel] = []
    reports: list[dict[str, Any]] = []
    for i, view in enumerate(views, 1):
        ctx.log(f"fold {i}/{k}: {len(view.split('train'))} training, {len(view.split('val'))} validation samples")
        trained = TrainingLoop(ctx, Classifier(view, spec, cfg), fold_loop, tag=f"fold{i}/",
                               checkpoint_dir=ctx.node_dir / "checkpoints" / f"fold{i}",
                               step_offset=(i - 1) * planned).run()
        val = evaluate_split(trained.module, view, "val", ctx.device, cfg.batch_size * 4)
        report = classification_report(val["true"], val["pred"], view.classes)
        report["loss"] = val["loss"]
        fits.append(trained)
        reports.append(report)
    summary = mean_std(reports)
    acc, f1 = summary["accuracy"], summary["f1_macro"]
    ctx.log(f"{k}-fold validation: accuracy {acc['mean']:.4f} ± {acc['std']:.4f}, "
            f"macro F1 {f1['mean']:.4f} ± {f1['std']:.4f}")
    for name, key in CV_METRICS.items():  # the cross-validated score, once: what a sweep over k-fold optimises
        ctx.metric(name, summary[key]["mean"], step=k * planned, epoch=loop.epochs)
    key = {"val_loss": "loss", "val_accuracy": "accuracy", "val_f1": "f1_macro"}[cfg.monitor]
    best = 0
    for i, rep in enumerate(reports):
        if i != best and is_better(cfg.monitor, rep[key], reports[best][key]):
            best = i
    chosen = fits[best]
    chosen.history = {
        "kfold": k,
        "chosen_fold": best + 1,
        "folds": [
            {"fold": i + 1, "accuracy": r["accuracy"], "f1_macro": r["f1_macro"], "loss": round(r["loss"], 6),
             "best_epoch": fits[i].history.get("best_epoch")}
            for i, r in enumerate(reports)
        ],
        "val_mean_std": summary,
    }
    chosen.extra["fold_models"] = [t.module for t in fits]
    return chosen
