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
    emptied_classes: list[str] = field(default_factory=list)  # class folders whose every checked file is skipped
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
                emptied = ", ".join(f"'{c}'" for c in self.emptied_classes)
                why = (f" — every file in {emptied} is unusable (see the list of skipped files); replace them with "
                       "images the run can read" if emptied else "")
                return (f"The folder '{name}' has only one class ({only}): a classifier needs at least 2 "
                        f"subfolders, one per class{why}.")
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

    def summary(self, shown: int = 3) -> str:
        """Plain words for the page: usable images per class (broken files and duplicates not counted),
        the cleaning report naming the first ``shown`` skipped files, and a count of the rest
        (:meth:`skipped_text` lists them all)."""
        lines = []
        sample = "" if self.checked == self.total_files else f" (an even sample of {self.checked})"
        if self.labelled:
            lines.append(f"{len(self.classes)} class{'es' if len(self.classes) != 1 else ''}, {self.total_files} files:")
            for c in self.classes[:12]:
                usable, files = self._estimate(c), self.files_per_class.get(c, 0)
                note = f" (of {files} files)" if usable != files else ""
                lines.append(f"  • {c}: {usable} image{'s' if usable != 1 else ''}{note}")
            if len(self.classes) > 12:
                lines.append(f"  • … and {len(self.classes) - 12} more classes")
        else:
            lines.append(f"{self.total_files} files, no class subfolders (fine for generating images).")
        lines.append(f"Checked {self.checked} files{sample}: {self.usable} usable.")
        for c in self.emptied_classes:
            lines.append(f"Class '{c}' has no usable image: every file in it will be skipped, and the class "
                         "left out.")
        by_reason = self.skipped_by_reason()
        if by_reason or self.duplicates:
            parts = [f"{n} {r}" for r, n in by_reason.items()]
            if self.duplicates:
                parts.append(f"{self.duplicates} exact duplicates")
            lines.append("Will be skipped: " + "; ".join(parts) + ".")
            for s in self.skipped[:shown]:
                lines.append(f"  – {s['file']}: {s['reason']}" + (f" ({s['detail']})" if s.get("detail") else ""))
            if len(self.skipped) > shown:
                lines.append(f"  – … and {len(self.skipped) - shown} more (Show all skipped files lists every one)")
        else:
            lines.append("Nothing to clean: every checked file is a usable image.")
        return "\n".join(lines)

    def skipped_text(self) -> str:
        """Every skipped file with its reason, one a line (the page's *Show all*)."""
        return "\n".join(f"{s['file']}: {s['reason']}" + (f" ({s['detail']})" if s.get("detail") else "")
                         for s in self.skipped)


def run_options(labels: str):
    """The image_folder step's own defaults for what counts as usable (smallest side, pixel guard), so the
    quick look skips exactly the files the run will skip; thumbnails are decoded small."""
    from engine.data.folder import FolderOptions
    from engine.steps.registry import get_step

    spec = get_step("image_folder")
    defaults = {p.name: p.default for p in spec.params} if spec is not None else {}
    return FolderOptions(size=SCAN_SIDE, fit="resize", channels="3", labels=labels, dedupe=True,
                         min_side=int(defaults.get("min_side", 4)),
                         max_pixels=int(float(defaults.get("max_megapixels", 50.0)) * 1_000_000))


def scan_folder(path: str | Path, labels: str = "auto", limit: int = 1500) -> FolderScan:
    """Look at a folder with the very engine code the image_folder step runs (on an even sample of ``limit``
    files when it is bigger); never raises."""
    root = Path(path).expanduser()
    if not str(path).strip():
        return FolderScan(root, False, error="Choose a folder of images.")
    if not root.is_dir():
        return FolderScan(root, False, error=f"'{root}' is not a folder.")
    try:
        from engine.data.folder import even_sample, scan_classes, scan_image_folder

        found = scan_image_folder(root, run_options(labels), keep_pixels=True, workers=2, sample=limit)
        scan_classes(found)
    except OSError as exc:
        return FolderScan(root, False, error=f"'{root}' could not be read: {exc.strerror or exc}")
    listing, report = found.listing, found.report
    labelled = bool(listing.classes)
    names = listing.classes if labelled else ["(unlabelled)"]
    scan = FolderScan(root, labelled, classes=list(listing.classes), total_files=len(listing.files))
    for _, cls in listing.files:
        key = names[cls] if cls >= 0 else names[0]
        scan.files_per_class[key] = scan.files_per_class.get(key, 0) + 1
    for _, cls in even_sample(listing.files, limit):  # the files decoded: all of them, or the sample
        key = names[cls] if cls >= 0 else names[0]
        scan.checked_per_class[key] = scan.checked_per_class.get(key, 0) + 1
    scan.usable_per_class = dict(report.images_per_class)
    scan.emptied_classes = list(report.emptied_classes)
    scan.skipped = list(report.skipped)
    scan.duplicates = len(report.duplicates)
    scan.checked = found.checked
    scan.thumbnails = _thumbnails(found.pixels, [max(v, 0) for v in found.labels], names, labelled, root.name)
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
