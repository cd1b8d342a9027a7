"""What is in a folder or CSV the analyst picked (no Qt): counts, thumbnails, cleaning report, problems.

The data page must refuse a folder the training step would refuse, for the
same reasons, before the analyst has waited for anything.  So this reuses the
data engineer's engine code: :func:`engine.data.folder.list_folder` decides
the layout (class subfolders or flat) and :func:`engine.data.images.decode_file`
decides what counts as a usable image and why a file is skipped.  A very large
folder is checked on an even sample (``limit`` files) so the page stays quick;
the counts per class always cover every file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIN_PER_CLASS = 5  # a class with fewer images cannot be split into train/validation/test
MIN_UNLABELLED = 16  # a GAN needs at least a batch of real images
SCAN_SIDE = 32  # thumbnails are decoded at this size


@dataclass
class FolderScan:
    root: Path
    labelled: bool
    classes: list[str] = field(default_factory=list)
    files_per_class: dict[str, int] = field(default_factory=dict)  # every file found, by class
    usable_per_class: dict[str, int] = field(default_factory=dict)  # decodable, among those checked
    checked_per_class: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {file, reason, detail}
    duplicates: int = 0
    total_files: int = 0
    checked: int = 0
    thumbnails: Any = None  # H x W x 3 uint8 numpy array, or None
    error: str = ""  # the folder itself could not be read

    @property
    def usable(self) -> int:
        return sum(self.usable_per_class.values())

    def estimated_usable(self) -> int:
        """Usable images in the whole folder, extrapolated from the checked sample."""
        if self.checked == 0:
            return 0
        return round(self.usable * self.total_files / self.checked)

    def skipped_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.skipped:
            out[s["reason"]] = out.get(s["reason"], 0) + 1
        return out

    def problem(self, need_classes: bool) -> str:
        """Why a wizard must not go on with this folder (empty text when it may)."""
        name = self.root.name or str(self.root)
        if self.error:
            return self.error
        if self.total_files == 0:
            return f"The folder '{name}' is empty: put your images in it (one subfolder per class)."
        if self.usable == 0:
            reasons = ", ".join(f"{n} {r}" for r, n in self.skipped_by_reason().items())
            example = self.skipped[0]["file"] if self.skipped else ""
            return (f"The folder '{name}' holds no usable images ({reasons}; e.g. {example}). "
                    "Loom reads PNG, JPEG, BMP, WebP, GIF and TIFF files.")
        if need_classes:
            if not self.labelled:
                return (f"The folder '{name}' has no class subfolders: put each class's images in its own "
                        "subfolder (e.g. cats/, dogs/) so Loom knows what to learn.")
            usable_classes = [c for c in self.classes if self.usable_per_class.get(c, 0) > 0]
            if len(usable_classes) < 2:
                only = usable_classes[0] if usable_classes else "none"
                return (f"The folder '{name}' has only one class ({only}): a classifier needs at least 2 "
                        "subfolders, one per class.")
            small = [c for c in usable_classes if self._estimate(c) < MIN_PER_CLASS]
            if small:
                listed = ", ".join(f"{c} ({self._estimate(c)})" for c in small[:5])
                return (f"Too few images: {listed} — each class needs at least {MIN_PER_CLASS} images "
                        "to be split into training, validation and test.")
        elif self.estimated_usable() < MIN_UNLABELLED:
            return (f"Too few images: '{name}' holds {self.estimated_usable()} usable images; a generative model "
                    f"needs at least {MIN_UNLABELLED} (hundreds are better).")
        return ""

    def _estimate(self, cls: str) -> int:
        files = self.files_per_class.get(cls, 0)
        checked = self.checked_per_class.get(cls, 0)
        if checked == 0:
            return 0
        return round(self.usable_per_class.get(cls, 0) * files / checked)

    def summary(self) -> str:
        """Plain words for the page: counts per class and the cleaning report."""
        lines = []
        if self.labelled:
            lines.append(f"{len(self.classes)} class{'es' if len(self.classes) != 1 else ''}, {self.total_files} files:")
            for c in self.classes[:12]:
                lines.append(f"  • {c}: {self.files_per_class.get(c, 0)}")
            if len(self.classes) > 12:
                lines.append(f"  • … and {len(self.classes) - 12} more classes")
        else:
            lines.append(f"{self.total_files} files, no class subfolders (fine for generating images).")
        sample = "" if self.checked == self.total_files else f" (an even sample of {self.checked})"
        lines.append(f"Checked {self.checked} files{sample}: {self.usable} usable.")
        by_reason = self.skipped_by_reason()
        if by_reason or self.duplicates:
            parts = [f"{n} {r}" for r, n in by_reason.items()]
            if self.duplicates:
                parts.append(f"{self.duplicates} exact duplicates")
            lines.append("Will be skipped: " + "; ".join(parts) + ".")
            for s in self.skipped[:3]:
                lines.append(f"  – {s['file']}: {s['reason']}" + (f" ({s['detail']})" if s.get("detail") else ""))
        else:
            lines.append("Nothing to clean: every checked file is a usable image.")
        return "\n".join(lines)


def _even_sample(items: list, limit: int) -> list:
    if len(items) <= limit:
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def scan_folder(path: str | Path, labels: str = "auto", limit: int = 1500) -> FolderScan:
    """Look at a folder the way the image_folder step will; never raises."""
    root = Path(path).expanduser()
    if not str(path).strip():
        return FolderScan(root, False, error="Choose a folder of images.")
    if not root.is_dir():
        return FolderScan(root, False, error=f"'{root}' is not a folder.")
    try:
        from engine.data.folder import list_folder, relative_name
        from engine.data.images import decode_file

        listing = list_folder(root, labels)
    except OSError as exc:
        return FolderScan(root, False, error=f"'{root}' could not be read: {exc.strerror or exc}")
    labelled = bool(listing.classes)
    names = listing.classes if labelled else ["(unlabelled)"]
    scan = FolderScan(root, labelled, classes=list(listing.classes), total_files=len(listing.files))
    for _, cls in listing.files:
        key = names[cls] if cls >= 0 else names[0]
        scan.files_per_class[key] = scan.files_per_class.get(key, 0) + 1
    for stray in listing.stray:
        scan.skipped.append({"file": relative_name(stray, root), "reason": "not in a class folder", "detail": ""})
    sample = _even_sample(listing.files, limit)
    checked_per_class = scan.checked_per_class
    pixels, labels_out, seen = [], [], set()
    for file, cls in sample:
        key = names[cls] if cls >= 0 else names[0]
        checked_per_class[key] = checked_per_class.get(key, 0) + 1
        dec = decode_file(file, SCAN_SIDE, "resize", 3)
        if not dec.ok:
            scan.skipped.append({"file": relative_name(file, root), "reason": dec.reason, "detail": dec.detail})
            continue
        if dec.digest in seen:
            scan.duplicates += 1
            continue
        seen.add(dec.digest)
        scan.usable_per_class[key] = scan.usable_per_class.get(key, 0) + 1
        pixels.append(dec.pixels)
        labels_out.append(max(cls, 0))
    scan.checked = len(sample)
    scan.thumbnails = _thumbnails(pixels, labels_out, names, labelled, root.name)
    return scan


def _thumbnails(pixels: list, labels: list[int], names: list[str], labelled: bool, name: str) -> Any:
    """The engine's own preview grid (a row per class), so the wizard shows what the data node will."""
    if not pixels:
        return None
    import torch

    from engine.data.datasets import ImageDataset
    from engine.data.preview import thumbnail_grid

    x = torch.stack(pixels).float().div_(255.0)
    y = torch.tensor(labels, dtype=torch.long) if labelled else None
    data = ImageDataset(x=x, labels=y, classes=list(names) if labelled else [], name=name)
    return thumbnail_grid(data)


@dataclass
class TableScan:
    path: Path
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    classes_per_column: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def problem(self, target: str) -> str:
        if self.error:
            return self.error
        if self.rows == 0:
            return f"'{self.path.name}' has a header but no rows."
        if target not in self.columns:
            return "Choose the column that holds the class of each row."
        n = self.classes_per_column.get(target, 0)
        if n < 2:
            return f"The column '{target}' holds only one value: a classifier needs at least 2 classes."
        if self.rows < MIN_PER_CLASS * n:
            return f"Too few rows: {self.rows} rows for {n} classes; give at least {MIN_PER_CLASS} rows per class."
        return ""


def scan_table(path: str | Path) -> TableScan:
    """Header, row count and distinct values per column of a CSV; never raises."""
    p = Path(path).expanduser()
    if not str(path).strip():
        return TableScan(p, error="Choose a CSV file.")
    if not p.is_file():
        return TableScan(p, error=f"'{p}' is not a file.")
    from engine.data.tables import TableError, read_csv

    try:
        header, rows = read_csv(p)
    except (TableError, OSError, IndexError, ValueError) as exc:
        return TableScan(p, error=f"'{p.name}' could not be read as a table: {exc}")
    distinct = {h: len({r[i].strip() for r in rows if r[i].strip()}) for i, h in enumerate(header)}
    return TableScan(p, header, len(rows), distinct)
