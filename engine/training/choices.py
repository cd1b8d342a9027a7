"""The named choices of the training steps, in one torch-free place.

Step declarations (imported by `loom steps` and the GUI without torch) and
the training code (which needs torch) both read these, so a new optimiser or
schedule is added once.
"""

from __future__ import annotations

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "step", "cosine", "one_cycle")
MONITORS = ("val_loss", "val_accuracy", "val_f1")
CLASS_WEIGHTS = ("none", "balanced")
# K-fold cross-validation reports the mean over its folds once, under these names (metric name -> report key).
CV_METRICS = {"cv_accuracy": "accuracy", "cv_f1": "f1_macro", "cv_loss": "loss"}
