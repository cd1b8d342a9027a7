"""Image folders: decode the listed files in parallel, clean, dedupe, assemble.

The layouts (class per subfolder, or flat) are :mod:`engine.data.listing`'s.
Everything that is skipped lands in :class:`CleaningReport` with the file
(relative to the root) and the reason, and every class folder left out for
holding no images is listed too; nothing here raises for a bad file.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.datasets import ImageDataset
from engine.data.images import Decoded, decode_file
from engine.data.listing import FolderListing, list_folder

DECODE_CHUNK = 256  # files per decode task
SMALL_FILE_BYTES = 32_000  # below this mean size a folder decodes faster on one thread (see decode_workers)

__all__ = ["CleaningReport", "FolderListing", "FolderOptions", "FolderScan", "list_folder", "load_image_folder",
           "output_channels", "scan_classes", "scan_image_folder"]
LABELS_MODES = ("auto", "folders", "none")
SKIPPED_LIST_NAME = "skipped_files.txt"  # in the data node's folder: every skipped file, one a line


@dataclass
class CleaningReport:
    """What cleaning did; becomes the node's report in run.json."""

    skipped: list[dict[str, str]] = field(default_factory=list)  # {file, reason, detail}
    empty_classes: list[str] = field(default_factory=list)  # class folders without a file, left out
    duplicates: list[dict[str, str]] = field(default_factory=list)  # {file, same_as}
    resized: int = 0
    converted: dict[str, int] = field(default_factory=dict)  # source mode -> count
    images_per_class: dict[str, int] = field(default_factory=dict)  # usable images only (no broken, no duplicate)
    emptied_classes: list[str] = field(default_factory=list)  # class folders whose every file was skipped

    def skip(self, rel: str, reason: str, detail: str = "") -> None:
        self.skipped.append({"file": rel, "reason": reason, "detail": detail})

    def skipped_lines(self, limit: int, see: str = "") -> list[str]:
        """One line per skipped file, the first ``limit`` of them, then "... and N more — see ``see``"."""
        lines = [f"{s['file']}: {s['reason']}" + (f" ({s['detail']})" if s["detail"] else "")
                 for s in self.skipped[:limit]]
        more = len(self.skipped) - limit
        if more > 0:
            lines.append(f"... and {more} more skipped file{'s' if more > 1 else ''}" + (f" — see {see}" if see else ""))
        return lines

    def skipped_list_text(self) -> str:
        """Every skipped file, one per line (tab-separated: file, reason, detail), for :data:`SKIPPED_LIST_NAME`."""
        return "".join(f"{s['file']}\t{s['reason']}\t{s['detail']}\n" for s in self.skipped)

    def to_json(self) -> dict[str, Any]:
        by_reason: dict[str, int] = {}
        for s in self.skipped:
            by_reason[s["reason"]] = by_reason.get(s["reason"], 0) + 1
        return {
            "skipped": list(self.skipped),
            "skipped_count": len(self.skipped),
            "skipped_by_reason": by_reason,
            "empty_class_folders": list(self.empty_classes),
            "duplicates": len(self.duplicates),
            "duplicate_files": list(self.duplicates),
            "resized": self.resized,
            "converted_modes": dict(self.converted),
            "images_per_class": dict(self.images_per_class),
            "emptied_classes": list(self.emptied_classes),
        }


@dataclass
class FolderOptions:
    size: int = 32
    fit: str = "resize"
    channels: str = "auto"  # "auto" | "1" | "3"
    max_pixels: int = 50_000_000
    min_side: int = 1
    dedupe: bool = True
    labels: str = "auto"


def relative_name(path: Path, root: Path) -> str:
    """``path`` as shown in reports: relative to the folder scanned (POSIX slashes), else in full."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass
class FolderScan:
    """The outcome of one pass over a folder: the usable files and (optionally) their pixels."""

    listing: FolderListing
    report: CleaningReport
    files: list[Path] = field(default_factory=list)  # usable, deduplicated, in order
    labels: list[int] = field(default_factory=list)
    pixels: list[torch.Tensor] = field(default_factory=list)  # empty unless keep_pixels (and no buffer)
    buffer: torch.Tensor | None = None  # keep_pixels into this N x C x H x W uint8 block instead of the list
    all_grey: bool = True
    checked: int = 0  # files decoded: all of them, unless an even sample was asked for


def even_sample(items: list, limit: int | None) -> list:
    """At most ``limit`` items spread evenly over ``items`` (all of them when ``limit`` is None)."""
    if limit is None or len(items) <= limit:
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def scan_image_folder(
    root: Path,
    opts: FolderOptions,
    keep_pixels: bool = True,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[float], None] = lambda f: None,
    workers: int | None = None,
    sample: int | None = None,
    into_buffer: bool = False,
) -> FolderScan:
    """Decode every file once: clean, dedupe, and keep the pixels (or only the file list, for streaming).

    ``check`` is called between chunks (the run's Stop/Pause); decoding runs on
    a thread pool because PIL releases the GIL while it decodes.  ``sample``
    decodes only an even sample of that many files: the wizards' quick look at
    a big folder, judged by the very code the run uses.  ``into_buffer`` keeps
    the pixels in one preallocated uint8 block (``scan.buffer``, its first
    ``len(scan.files)`` rows used) instead of a list of tensors to stack: the
    decoded folder then exists once in memory, not twice.
    """
    listing = list_folder(root, opts.labels)
    scan = FolderScan(listing, CleaningReport())
    report = scan.report
    for stray in listing.stray:
        report.skip(relative_name(stray, root), "not in a class folder", "files beside the class folders have no class")
    report.empty_classes = list(listing.empty_classes)
    decode_channels = 1 if opts.channels == "1" else 3
    seen: dict[str, str] = {}
    files = even_sample(listing.files, sample)
    workers = workers or decode_workers(files)
    scan.checked = len(files)
    if keep_pixels and into_buffer:
        scan.buffer = torch.empty(len(files), decode_channels, opts.size, opts.size, dtype=torch.uint8)
    rows = scan.buffer.numpy() if scan.buffer is not None else None  # numpy view: a row copy costs no torch dispatch

    def decode_part(part: list[tuple[Path, int]]) -> list[Decoded]:
        return [decode_file(path, opts.size, opts.fit, decode_channels, opts.max_pixels, opts.min_side)
                for path, _ in part]

    parts = [files[i:i + DECODE_CHUNK] for i in range(0, len(files), DECODE_CHUNK)]
    check()
    with closing(_decoded_in_order(decode_part, parts, workers)) as decoded_parts:  # a Stop ends the pool at once
        for index, (part, decoded) in enumerate(zip(parts, decoded_parts, strict=True)):
            for dec, (_, cls) in zip(decoded, part, strict=True):
                _take(scan, dec, cls, root, opts, seen, rows, keep_pixels)
            progress(min(1.0, (index + 1) * DECODE_CHUNK / max(1, len(files))))
            check()
    if scan.buffer is not None and decode_channels == 3:
        scan.all_grey = _all_grey(scan.buffer[:len(scan.files)])
    return scan


def _decoded_in_order(decode: Callable[[list], list[Decoded]], parts: list[list], workers: int) -> Iterator[list[Decoded]]:
    """Each chunk's decoded files, in order: inline on one thread, else on a pool at most ``workers + 1`` chunks ahead.

    One task per chunk, not per file: a future per 50-microsecond picture
    spent more time handing the GIL between threads than decoding.  The pool
    never runs far ahead, so a Stop (the caller's ``check`` raising, which
    closes this generator) waits for a few chunks, not the whole folder.
    """
    if workers <= 1:
        yield from map(decode, parts)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ahead = deque(pool.submit(decode, part) for part in parts[:workers + 1])
        for part in parts[workers + 1:]:
            done = ahead.popleft().result()
            ahead.append(pool.submit(decode, part))
            yield done
        while ahead:
            yield ahead.popleft().result()


def decode_workers(files: list[tuple[Path, int]]) -> int:
    """How many threads should decode ``files``: one for small files, up to 8 for big ones.

    PIL lets go of the GIL only while it inflates and resizes pixels.  A
    small picture (a 32 px PNG: 50 microseconds) is mostly Python-level
    header parsing, which threads can only take turns at; measured on 10,000
    such files, one thread took 1.1 s, two 1.5-1.8 s, four 2.0 s.  A photo is
    mostly pixel work, which threads do share.  The mean size of a few files
    (their first 64) tells which kind of folder this is.
    """
    head = files[:64]
    if not head:
        return 1
    sizes = []
    for path, _ in head:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            continue
    small = not sizes or sum(sizes) / len(sizes) < SMALL_FILE_BYTES
    return 1 if small else min(8, os.cpu_count() or 2)


def _take(scan: FolderScan, dec: Decoded, cls: int, root: Path, opts: FolderOptions, seen: dict[str, str],
          rows: np.ndarray | None, keep_pixels: bool) -> None:
    """Record one decoded file: skipped, a duplicate, or kept (its pixels copied into the block or the list)."""
    report = scan.report
    rel = relative_name(dec.path, root)
    if not dec.ok:
        report.skip(rel, dec.reason, dec.detail)
        return
    if opts.dedupe:
        if dec.digest in seen:
            report.duplicates.append({"file": rel, "same_as": seen[dec.digest]})
            return
        seen[dec.digest] = rel
    if dec.original_size != (opts.size, opts.size):
        report.resized += 1
    if dec.mode not in ("RGB", "L"):
        report.converted[dec.mode] = report.converted.get(dec.mode, 0) + 1
    array = dec.array
    assert array is not None
    scan.files.append(dec.path)
    scan.labels.append(cls)
    if rows is not None:
        rows[len(scan.files) - 1] = array.transpose(2, 0, 1)
        return
    if scan.all_grey and array.shape[2] == 3:
        scan.all_grey = bool((array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all())
    if keep_pixels:
        scan.pixels.append(dec.pixels)


def _all_grey(block: torch.Tensor) -> bool:
    """Whether every picture of an N x 3 x H x W block has three equal channels, checked a slice at a time."""
    for start in range(0, len(block), 4096):
        part = block[start:start + 4096]
        if not (torch.equal(part[:, 0], part[:, 1]) and torch.equal(part[:, 1], part[:, 2])):
            return False
    return True


def scan_classes(scan: FolderScan) -> tuple[list[str], torch.Tensor | None]:
    """Class names and contiguous labels, dropping classes whose every file was skipped (and saying so).

    The report's ``images_per_class`` counts usable images only, so the counts shown are what trains.
    """
    listing = scan.listing
    if not listing.classes:
        scan.report.images_per_class = {"(unlabelled)": len(scan.files)} if scan.files else {}
        return [], None
    classes = list(listing.classes)
    present = sorted(set(scan.labels))
    remap = {old: new for new, old in enumerate(present)}
    scan.report.emptied_classes = [classes[old] for old in range(len(classes)) if old not in remap]
    counts = {classes[old]: 0 for old in present}
    for v in scan.labels:
        counts[classes[v]] += 1
    scan.report.images_per_class = counts
    labels = torch.tensor([remap[v] for v in scan.labels], dtype=torch.long)
    return [classes[i] for i in present], labels


def output_channels(opts: FolderOptions, scan: FolderScan) -> int:
    if opts.channels == "1":
        return 1
    if opts.channels == "3":
        return 3
    return 1 if scan.all_grey else 3  # every picture is grey: one channel is enough


def load_image_folder(
    root: Path,
    opts: FolderOptions,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[float], None] = lambda f: None,
    workers: int | None = None,
) -> tuple[ImageDataset, CleaningReport, FolderListing]:
    """Decode a whole folder into an in-memory ImageDataset of uint8 pixels (read as [0, 1] floats).

    The pixels are written straight into one uint8 block as they are decoded
    (no list of tensors, no stacked copy, no float32 copy); skipped files and
    a grey folder's spare channels are trimmed at the end.  The returned
    dataset may be empty: the caller decides what that means for the user.
    """
    scan = scan_image_folder(root, opts, True, check, progress, workers, into_buffer=True)
    classes, labels = scan_classes(scan)
    channels = output_channels(opts, scan)
    assert scan.buffer is not None
    x = scan.buffer
    scan.buffer = None
    if len(scan.files) < len(x) or channels < x.shape[1]:
        x = x[:len(scan.files), :channels].clone()  # compact: the block's spare rows / channels go
    data = ImageDataset(x=x, labels=labels, classes=classes, name=root.name or str(root))
    return data, scan.report, scan.listing
