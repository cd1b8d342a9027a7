"""Decoding and cleaning image files: one file in, one uint8 tensor (or a reason) out.

Real folders hold junk: empty files, half-copied PNGs, notes saved next to
the pictures, 1x1 tracking pixels, images whose header claims billions of
pixels.  :func:`decode_file` never raises for such a file; it returns a
:class:`Decoded` with ``reason`` set, so the caller can skip it and list it in
the node's report.  The pixel-count guard reads the size from the header
(``Image.open`` does not decode) before anything is allocated.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")
FIT_MODES = ("resize", "crop", "pad")

# reasons (short, fixed words so reports can be grouped and tested)
ZERO_BYTE = "zero-byte file"
NOT_IMAGE = "not an image"
TRUNCATED = "truncated or corrupt image"
TOO_LARGE = "too large"
TOO_SMALL = "too small"
UNREADABLE = "unreadable"


@dataclass
class Decoded:
    """The outcome for one file: ``array`` (H x W x C uint8, already at the asked size) or a ``reason``.

    The pixels stay a numpy array until someone asks for a tensor
    (:attr:`pixels`): a folder scan copies 10,000 of them into one block, and
    a torch call per picture (a few microseconds of dispatch each, under the
    GIL) cost more than decoding the picture itself.
    """

    path: Path
    array: np.ndarray | None = None
    reason: str = ""
    detail: str = ""
    digest: str = ""
    mode: str = ""  # the file's PIL mode (RGBA, P, L, ...)
    original_size: tuple[int, int] = (0, 0)  # width, height as stored

    @property
    def ok(self) -> bool:
        return self.array is not None

    @property
    def pixels(self) -> torch.Tensor | None:
        """The picture as a C x H x W uint8 tensor (a fresh contiguous copy), or None when it was skipped."""
        if self.array is None:
            return None
        return torch.from_numpy(np.array(self.array.transpose(2, 0, 1), copy=True))


_warning_filter_set = False


def _quiet_pil_bomb_warning() -> None:
    """PIL warns about big images before our own guard reports them; its warning would only be noise.

    Set once, process-wide: ``warnings.catch_warnings`` is not thread-safe and
    files are decoded on a thread pool.
    """
    global _warning_filter_set
    if not _warning_filter_set:
        from PIL import Image

        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
        _warning_filter_set = True


def _to_array(img, channels: int) -> np.ndarray:  # noqa: ANN001 - a PIL image
    """Any PIL mode -> H x W x channels uint8; transparency is composited over white."""
    from PIL import Image

    mode = img.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba).convert("RGB")
    target = "L" if channels == 1 else "RGB"
    if img.mode != target:
        img = img.convert(target)
    arr = np.asarray(img, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def fit_to(pixels: torch.Tensor, size: int, fit: str) -> torch.Tensor:
    """C x H x W uint8 -> C x size x size, by stretching, centre-cropping or padding."""
    c, h, w = pixels.shape
    if (h, w) == (size, size):
        return pixels
    import torchvision.transforms.v2.functional as tvf
    if fit == "resize":
        return tvf.resize(pixels, [size, size], antialias=True)
    if fit == "crop":
        scaled = tvf.resize(pixels, [size], antialias=True)  # shorter side -> size
        return tvf.center_crop(scaled, [size, size])
    if fit == "pad":
        scale = size / max(h, w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        scaled = tvf.resize(pixels, [nh, nw], antialias=True)
        top, left = (size - nh) // 2, (size - nw) // 2
        return tvf.pad(scaled, [left, top, size - nw - left, size - nh - top], fill=0)
    raise ValueError(f"unknown fit mode {fit!r}; use one of {', '.join(FIT_MODES)}")


def decode_file(
    path: Path,
    size: int,
    fit: str = "resize",
    channels: int = 3,
    max_pixels: int = 50_000_000,
    min_side: int = 1,
    digest: bool = True,
) -> Decoded:
    """Read, check and decode one image file; never raises for a bad file.

    ``digest`` computes the content hash used to find duplicates (skipped
    when streaming already-checked files).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    out = Decoded(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        out.reason, out.detail = UNREADABLE, exc.strerror or type(exc).__name__
        return out
    if not data:
        out.reason = ZERO_BYTE
        return out
    out.digest = hashlib.sha256(data).hexdigest() if digest else ""
    _quiet_pil_bomb_warning()
    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size
        out.mode, out.original_size = img.mode, (width, height)
        if width * height > max_pixels:
            out.reason = TOO_LARGE
            out.detail = f"{width}x{height} = {width * height:,} pixels, over the {max_pixels:,}-pixel limit"
            return out
        if min(width, height) < min_side:
            out.reason = TOO_SMALL
            out.detail = f"{width}x{height}, below the {min_side}-pixel minimum side"
            return out
        img.load()
        if img.format != "PNG" or "exif" in img.info:  # a PNG without an eXIf chunk has no orientation to undo
            img = ImageOps.exif_transpose(img)
        arr = _to_array(img, channels)
    except Image.DecompressionBombError as exc:
        # PIL's own, harder limit fired while reading the header.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        claimed = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        out.reason, out.detail = TOO_LARGE, f"{claimed}, over the {max_pixels:,}-pixel limit"
        return out
    except UnidentifiedImageError:
        out.reason, out.detail = NOT_IMAGE, f"{path.suffix or 'no extension'} file is not a readable picture"
        return out
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        out.reason, out.detail = TRUNCATED, str(exc).strip()[:120] or type(exc).__name__
        return out
    except Exception as exc:  # a decoder bug must not sink the whole folder
        out.reason, out.detail = UNREADABLE, f"{type(exc).__name__}: {str(exc)[:100]}"
        return out
    if arr.shape[:2] == (size, size):
        out.array = arr  # read-only (numpy's view of PIL's bytes): only ever copied from
    else:
        fitted = fit_to(torch.from_numpy(arr.copy()).permute(2, 0, 1), size, fit)
        out.array = fitted.permute(1, 2, 0).contiguous().numpy()
    return out

