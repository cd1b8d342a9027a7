"""Pictures of an evaluation: a confusion-matrix heat map and a grid of mistakes.

Drawn with Pillow into HxWx3 uint8 arrays (what ``ImageReady`` carries and
what the GUI shows), so the engine needs no plotting library and no Qt.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont


def _font(size: int = 0) -> ImageFont.ImageFont:
    """Pillow's built-in font, scalable when Pillow has FreeType (``size`` px); else its small bitmap font."""
    if size:
        try:
            return ImageFont.load_default(size=size)
        except (TypeError, OSError, ImportError):  # an older Pillow, or one built without FreeType
            pass
    return ImageFont.load_default()


def _short(name: str, n: int = 9) -> str:
    return name if len(name) <= n else name[: n - 1] + "."


def confusion_image(cm: torch.Tensor | list[list[int]], classes: list[str]) -> np.ndarray:
    """Rows = true class, columns = predicted; cells shaded by the row's share, labelled with counts."""
    m = torch.as_tensor(cm, dtype=torch.float64)
    k = len(classes)
    cell = int(max(22, min(48, 640 // max(k, 1))))
    left, top = 78, 64
    w, h = left + cell * k + 12, top + cell * k + 12
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    font = _font()
    share = m / m.sum(1, keepdim=True).clamp(min=1)
    for i in range(k):
        for j in range(k):
            s = float(share[i, j])
            s = max(s, 0.3) if m[i, j] > 0 and i != j else s  # make every mistake visible
            base = (40, 110, 200) if i == j else (210, 60, 50)
            colour = tuple(int(255 - (255 - c) * s) for c in base)
            x0, y0 = left + j * cell, top + i * cell
            draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=colour, outline=(220, 220, 220))
            count = int(m[i, j])
            if count:
                text = str(count)
                tw = draw.textlength(text, font=font)
                draw.text((x0 + (cell - tw) / 2, y0 + cell / 2 - 6), text, fill="white" if s > 0.5 else "black",
                          font=font)
    for i, name in enumerate(classes):
        label = _short(name)
        draw.text((4, top + i * cell + cell / 2 - 6), label, fill="black", font=font)
        tw = draw.textlength(label, font=font)
        draw.text((left + i * cell + (cell - tw) / 2, top - 16), label, fill="black", font=font)
    draw.text((left, 6), "predicted", fill=(90, 90, 90), font=font)
    draw.text((4, top - 34), "true", fill=(90, 90, 90), font=font)
    return np.asarray(img)


def mistakes_grid(images01: torch.Tensor, captions: list[str], columns: int = 8, min_side: int = 96,
                  font_px: int = 14) -> np.ndarray:
    """Tiles of N x C x H x W [0, 1] images (upscaled to ``min_side``), each with a caption underneath."""
    n = len(images01)
    if n == 0:
        return np.full((32, 200, 3), 255, np.uint8)
    height, width = int(images01.shape[-2]), int(images01.shape[-1])
    scale = max(1, -(-min_side // max(height, width)))
    tile_h, tile = height * scale, max(width * scale, 7 * font_px)  # room for "-> airplane 97%"
    line_h = font_px + 3
    cap_h = 2 * line_h + 2
    cols = min(columns, n)
    rows = -(-n // cols)
    pad = 6
    img = Image.new("RGB", (cols * (tile + pad) + pad, rows * (tile_h + cap_h + pad) + pad), "white")
    draw = ImageDraw.Draw(img)
    font = _font(font_px)
    x = images01.detach().float().clamp(0, 1)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    x = x[:, :3]
    arr = (x * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    for i in range(n):
        r, c = divmod(i, cols)
        x0, y0 = pad + c * (tile + pad), pad + r * (tile_h + cap_h + pad)
        pic = Image.fromarray(arr[i]).resize((width * scale, tile_h), Image.NEAREST)
        img.paste(pic, (x0 + (tile - width * scale) // 2, y0))
        for line_no, line in enumerate(captions[i].split("\n")[:2]):
            draw.text((x0, y0 + tile_h + 1 + line_no * line_h), line, fill=(160, 20, 20) if line_no else "black",
                      font=font)
    return np.asarray(img)


def save_png(pixels: np.ndarray, path) -> None:  # noqa: ANN001 - a Path or str
    from engine.fileio import atomic_write

    atomic_write(path, lambda f: Image.fromarray(pixels).save(f, format="PNG"))
