"""Which plot a metric is drawn on, and the one line that says how to read that plot.

Kept apart from :mod:`gui.dashboard.curves` (which draws) so the rule is easy
to find and to test: a name maps to a group, each group is one plot.
"""

from __future__ import annotations

QUALITY_GROUP = "Quality (lower is better)"
SCORES_GROUP = "Accuracy & scores"  # scores between 0 and 1: this plot keeps a linear y axis under "log y"
RECOGNISED_GROUP = "Recognised samples"
# How to read a plot: its tooltip (a left-axis label would run past a short plot in a narrow pane).
GROUP_NOTES = {
    QUALITY_GROUP: "Fréchet distance between features of generated and real images — lower is better. Two halves "
                   "of the real images score the floor (see the log: 'two halves of the real images score ...'); "
                   "within about 1.3x of it the samples are hard to tell from real ones.",
    RECOGNISED_GROUP: "confident: the share (0-1) of generated images a classifier of the real images labels "
                      "with at least 90 % confidence — higher is better. classes: how many classes get at least "
                      "half their fair share of those — all of them means none is forgotten (no mode collapse).",
}
# A generator's quality check (engine.generative.quality): two plots, so the losses keep half the pane.
_GROUP_OF_NAME = {"quality": QUALITY_GROUP, "confident": RECOGNISED_GROUP, "classes": RECOGNISED_GROUP}


def group_for(name: str) -> str:
    """Which plot a metric belongs on (GAN losses, D outputs, losses, accuracy, a generator's quality...)."""
    low = name.lower()
    if low in _GROUP_OF_NAME:
        return _GROUP_OF_NAME[low]
    if any(word in low for word in ("acc", "f1", "precision", "recall", "auc")):
        return SCORES_GROUP
    if low.startswith(("d_x", "d(x", "dx", "d_g_z", "d(g", "dgz", "d_real", "d_fake")):
        return "D(x) and D(G(z))"
    if low.startswith(("g_", "d_", "loss_g", "loss_d", "gen", "disc")) and "loss" in low:
        return "GAN losses"
    if "kl" in low or "recon" in low:
        return "VAE losses"
    if "loss" in low:
        return "Loss"
    return name
