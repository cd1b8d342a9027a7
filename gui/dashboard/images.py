"""Turning engine pixel arrays into Qt images (no torch: numpy only)."""

from __future__ import annotations

from PySide6.QtGui import QImage


def to_qimage(pixels) -> QImage:
    """An HxW or HxWxC uint8 array (C = 1, 3 or 4) as a QImage that owns its memory."""
    import numpy as np

    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    array = np.ascontiguousarray(array)
    h, w = array.shape[:2]
    if array.ndim == 2:
        fmt, stride = QImage.Format_Grayscale8, w
    elif array.shape[2] == 3:
        fmt, stride = QImage.Format_RGB888, 3 * w
    elif array.shape[2] == 4:
        fmt, stride = QImage.Format_RGBA8888, 4 * w
    else:
        raise ValueError(f"cannot show an image with {array.shape[2]} channels")
    return QImage(array.data, w, h, stride, fmt).copy()
