"""Which plot a metric is drawn on, and the one line that says how to read that plot.

Kept apart from :mod:`gui.dashboard.curves` (which draws) so the rule is easy
to find and to test: a name maps to a group, each group is one plot.
"""

from __future__ import annotations

QUALITY_GROUP = "Quality (Fréchet distance)"
CONFIDENT_GROUP = "Confident samples"
CLASSES_GROUP = "Classes covered"
# One line on how to read a plot: its left axis label and its tooltip.
GROUP_NOTES = {
    QUALITY_GROUP: ("lower is better", "Fréchet distance between features of generated and real images — lower is "
                    "better. Two halves of the real images score the floor (see the log: 'two halves of the real "
                    "images score ...'); within about 1.3x of it the samples are hard to tell from real ones."),
    CONFIDENT_GROUP: ("share of samples", "Share of generated images a classifier of the real images labels with "
                      "at least 90 % confidence — higher is better."),
    CLASSES_GROUP: ("classes", "Classes that get at least half their fair share of the confidently labelled "
                    "samples — all of them means no class is forgotten (no mode collapse)."),
}
_GROUP_OF_NAME = {"quality": QUALITY_GROUP, "confident": CONFIDENT_GROUP, "classes": CLASSES_GROUP}


def group_for(name: str) -> str:
    """Which plot a metric belongs on (GAN losses, D outputs, losses, accuracy, a generator's quality...)."""
    low = name.lower()
    if low in _GROUP_OF_NAME:
        return _GROUP_OF_NAME[low]
    if any(word in low for word in ("acc", "f1", "precision", "recall", "auc")):
        return "Accuracy & scores"
    if low.startswith(("d_x", "d(x", "dx", "d_g_z", "d(g", "dgz", "d_real", "d_fake")):
        return "D(x) and D(G(z))"
    if low.startswith(("g_", "d_", "loss_g", "loss_d", "gen", "disc")) and "loss" in low:
        return "GAN losses"
    if "kl" in low or "recon" in low:
        return "VAE losses"
    if "loss" in low:
        return "Loss"
    return name
