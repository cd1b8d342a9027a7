"""Which image shapes the convolutional models can be built for.

Conv generators double the side at each layer from a small base.  A side
that halves down to a base of 4..7 (28 -> 14 -> 7, 32 -> ... -> 4,
64 -> ... -> 4) works; others are refused with a hint to resize.
"""

from __future__ import annotations

SUPPORTED_HINT = "use a Resize & normalise step to make the images 28, 32 or 64 px square"


def conv_plan(sample_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Return ``(channels, base, n_up)``: start at ``base`` px and double ``n_up`` times.

    Raises ValueError (with the fix in the text) for shapes that do not fit.
    """
    if len(sample_shape) != 3:
        raise ValueError(f"images must be channels x height x width, got shape {tuple(sample_shape)}")
    channels, height, width = (int(v) for v in sample_shape)
    if height != width:
        raise ValueError(f"images are {height}x{width}; the model needs square images — {SUPPORTED_HINT}")
    if channels not in (1, 3):
        raise ValueError(f"images have {channels} channels; the model takes 1 (grayscale) or 3 (RGB)")
    base, n_up = height, 0
    while base > 7 and base % 2 == 0:
        base //= 2
        n_up += 1
    if not 4 <= base <= 7 or n_up < 1:
        raise ValueError(f"images are {height} px; the model cannot be sized for that — {SUPPORTED_HINT}")
    return channels, base, n_up
