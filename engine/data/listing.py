"""What an image folder holds, by name only: the files, their classes, and what is out of place.

Two layouts are understood, as torchvision's ``ImageFolder`` does:

* class-per-subfolder (``root/cat/*.png``, ``root/dog/*.jpg``): labelled;
* a flat folder of images: unlabelled (for generative models).

Listing opens no file and imports no torch, so the preflight can look at a
folder before any node runs; :mod:`engine.data.folder` decodes what is listed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

IGNORED_NAMES = ("Thumbs.db", "desktop.ini")
FORMATS_HINT = "PNG, JPEG, BMP or WebP files"


@dataclass
class FolderListing:
    """What is in the tree: files with their class, and files that are out of place."""

    root: Path
    files: list[tuple[Path, int]]  # (path, class index or -1 when unlabelled)
    classes: list[str]
    stray: list[Path] = field(default_factory=list)  # files beside the class folders
    hidden: int = 0  # dotfiles ignored silently (.DS_Store, ._foo)
    empty_classes: list[str] = field(default_factory=list)  # class folders with no file: left out, and said so


def walk_files(folder: Path) -> tuple[list[Path], int]:
    """Every non-hidden file under ``folder`` (sorted), and how many hidden ones were ignored."""
    out, hidden = [], 0
    seen: set[str] = set()  # real paths walked: a symlink back to a parent must not loop
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name in IGNORED_NAMES:
                hidden += 1
                continue
            out.append(Path(dirpath) / name)
    return out, hidden


def list_folder(root: Path, labels: str = "auto") -> FolderListing:
    """Find the images and classes of ``root`` (see the module doc for the layouts)."""
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    top_files = sorted(p for p in root.iterdir() if p.is_file())
    hidden = sum(1 for p in top_files if p.name.startswith("."))
    top_files = [p for p in top_files if not p.name.startswith(".")]
    use_folders = labels == "folders" or (labels == "auto" and bool(subdirs))
    if not use_folders:
        files, h = walk_files(root)
        return FolderListing(root, [(p, -1) for p in files], [], [], h)
    classes, files, empty = [], [], []
    for sub in subdirs:
        found, h = walk_files(sub)
        hidden += h
        if not found:
            empty.append(sub.name)  # not a class; the data node reports it
            continue
        files.extend((p, len(classes)) for p in found)
        classes.append(sub.name)
    return FolderListing(root, files, classes, top_files, hidden, empty)


def listing_problem(listing: FolderListing, labels: str) -> str | None:
    """Why the folder cannot give a dataset, judged from names alone, or None.

    Shared by the preflight and the image_folder step, so both refuse the same
    folders with the same words.
    """
    root = listing.root
    if not listing.files and not listing.stray and not listing.empty_classes:
        return f"the folder {root} holds no images — put {FORMATS_HINT} in it (one subfolder per class for a classifier)"
    if listing.empty_classes and not listing.files:
        names = ", ".join(f"'{c}'" for c in listing.empty_classes)
        return f"the class folder(s) {names} in {root} hold no images — put {FORMATS_HINT} in them"
    if listing.empty_classes and len(listing.classes) < 2:
        names = ", ".join(f"'{c}'" for c in listing.empty_classes)
        kept = ", ".join(f"'{c}'" for c in listing.classes) or "none"
        return (
            f"class folder(s) {names} in {root} hold no images, which leaves only {len(listing.classes)} class "
            f"({kept}) — put images in {names}, or set labels to none to use the images unlabelled (for a GAN or VAE)"
        )
    if labels == "folders" and not listing.classes:
        return (
            f"the folder {root} has no class subfolders — put each class's images in its own subfolder, "
            "or set labels to auto or none"
        )
    return None


def empty_class_warning(name: str) -> str:
    """The report's and log's sentence for a class folder that was left out."""
    return f"class folder '{name}' holds no images — it was left out"
