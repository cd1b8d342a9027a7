"""The learning-rate finder: an exponential range test of a train step, with a suggested rate.

See :mod:`engine.lr_finder.finder` (what it runs and why it writes nothing
that lasts) and :mod:`engine.lr_finder.curve` (the smoothing, divergence
and suggestion rules).
"""

from engine.lr_finder.finder import LrFinderResult, find_lr, pick_node, train_nodes
from engine.lr_finder.trainers import SUPPORTED

__all__ = ["SUPPORTED", "LrFinderResult", "find_lr", "pick_node", "train_nodes"]
