"""Which way is better for a score: the one place Loom keeps that knowledge.

Comparisons colour a difference against a baseline green or red, and a sweep
or a "best run" needs to know whether to maximize.  Both ask here, by the
score's name (``"evaluate.accuracy"``, ``"train.val_loss"``, ``"val_perplexity"``),
so a new score only has to be taught once.
"""

from __future__ import annotations

HIGHER = 1
LOWER = -1
NEITHER = 0

# Words in a score's name (after its node) that settle the direction, first match wins.
_HIGHER_WORDS = ("accuracy", "f1", "precision", "recall", "auc", "confident")
# "quality" is a generator's Fréchet distance to real images (engine.generative.quality): lower is better.
_LOWER_WORDS = ("perplexity", "recon", "kl", "train_seconds", "seconds", "quality")
# Adversarial losses go up and down by design: a lower one is not a better model.
_NEUTRAL_NAMES = frozenset({"loss_d", "loss_g", "d_real", "d_fake", "best_epoch", "steps", "stopped",
                            "val_perplexity_start",
                            # facts about a generator's quality check, not scores of the generator
                            "quality_reference", "quality_samples", "quality_classifier_accuracy",
                            "quality_real_confident", "best_quality_step"})
# Scores that are fractions of 1 and read best as percentage points.
_FRACTION_WORDS = ("accuracy", "f1", "precision", "recall")


def _name(key: str) -> str:
    return key.rsplit(".", 1)[-1].lower()


def direction(key: str) -> int:
    """``HIGHER`` when a larger value is better, ``LOWER`` when a smaller one is, else ``NEITHER``."""
    name = _name(key)
    if name in _NEUTRAL_NAMES:
        return NEITHER
    words = name.split("_")
    if any(word in words for word in _HIGHER_WORDS):
        return HIGHER
    if any(word in words for word in _LOWER_WORDS) or name.endswith("seconds"):
        return LOWER
    if "loss" in words:
        return LOWER
    return NEITHER


def higher_is_better(key: str) -> bool:
    """Whether to maximize ``key`` (a score of unknown direction is maximized, as Optuna's callers expect to say)."""
    return direction(key) != LOWER


def is_fraction(key: str) -> bool:
    """Whether ``key`` is a 0..1 fraction (accuracy, F1...): its differences read as percentage points."""
    words = _name(key).split("_")
    return any(word in words for word in _FRACTION_WORDS)
