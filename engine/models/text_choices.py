"""The choices of the text classifiers' params, free of torch: step declarations and builders share them."""

from __future__ import annotations

RNN_POOLINGS = ("mean_max", "mean", "max", "last")
TRANSFORMER_POOLINGS = ("mean", "cls", "max")
POSITIONS = ("learned", "sinusoidal")
