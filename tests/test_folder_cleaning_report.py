"""The folder cleaning report tells the truth (issue 17, item 7).

Every skipped file is named: the run writes them all to ``skipped_files.txt`` in the data node's
folder and its log shows the first ones then "... and N more — see <that file>"; class counts leave
broken files and duplicates out; a class whose every file is broken is named as left out; and the
wizards' pre-check judges the folder with the very engine function the run uses, so both agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine import Engine, Workflow
from engine.data.folder import SKIPPED_LIST_NAME
from engine.store import read_run
from gui.wizards.scan import scan_folder
from tests.test_data_helpers import good_images

MANY_BROKEN = 23  # more than the log names one by one


def broken_folder(root: Path) -> set[str]:
    """Three classes: cats and dogs with some broken files, birds with nothing usable; the broken names."""
    good_images(root, classes=("cats", "dogs"), per_class=6)
    broken: set[str] = set()

    def put(rel: str, data: bytes) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        broken.add(rel)

    whole = (root / "cats" / "img000.png").read_bytes()
    put("cats/empty.png", b"")
    put("cats/truncated.png", whole[: len(whole) // 2])
    put("cats/notes.png", b"shopping list: milk, eggs\n")
    for i in range(MANY_BROKEN - 3):
        put(f"dogs/page{i:02d}.png", f"<html>not a picture {i}</html>".encode())
    tiny = root / "dogs" / "tiny.png"  # 2 x 2: below the image_folder step's smallest side (4 px)
    Image.fromarray(np.full((2, 2, 3), 200, np.uint8)).save(tiny)
    broken.add("dogs/tiny.png")
    put("birds/zero.png", b"")
    put("birds/half.png", whole[:40])
    return broken


def folder_only(path: Path) -> Workflow:
    return Workflow.from_json({"schema": 1, "name": "folder", "nodes": [
        {"id": "data", "type": "image_folder", "params": {"path": str(path), "size": 8}}]})


def test_the_run_names_every_skipped_file_and_counts_classes_without_them(tmp_path):
    root = tmp_path / "pets"
    broken = broken_folder(root)
    out = tmp_path / "run"
    result = Engine(disk_cache=False).run(folder_only(root), out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    report = read_run(out)["nodes"]["data"]["report"]

    assert {s["file"] for s in report["skipped"]} == broken  # every broken file, and nothing that is not a file
    assert report["skipped_count"] == len(broken) == MANY_BROKEN + 1 + 2
    assert report["images_per_class"] == {"cats": 6, "dogs": 6}  # broken files are not counted
    assert report["emptied_classes"] == ["birds"]
    assert report["classes"] == ["cats", "dogs"]

    listed = out / "data" / SKIPPED_LIST_NAME
    assert report["skipped_files"] == SKIPPED_LIST_NAME
    rows = [line.split("\t") for line in listed.read_text().splitlines()]
    assert {r[0] for r in rows} == broken and all(r[1] for r in rows)  # each with its reason

    log = (out / "log.txt").read_text()
    shown = [name for name in broken if f"skipped {name}: " in log]
    assert 0 < len(shown) < len(broken)
    assert f"... and {len(broken) - len(shown)} more skipped files — see {listed}" in log
    assert "class folder 'birds' has no usable image (every file in it was skipped) — it was left out" in log


def test_the_pre_check_agrees_with_the_run(tmp_path):
    root = tmp_path / "pets"
    broken = broken_folder(root)
    scan = scan_folder(root)
    out = tmp_path / "run"
    assert Engine(disk_cache=False).run(folder_only(root), out_dir=out, device="cpu").status == "succeeded"
    report = read_run(out)["nodes"]["data"]["report"]

    assert scan.usable_per_class == report["images_per_class"] == {"cats": 6, "dogs": 6}
    assert {s["file"] for s in scan.skipped} == {s["file"] for s in report["skipped"]} == broken
    assert scan.emptied_classes == report["emptied_classes"] == ["birds"]
    assert scan.problem(need_classes=True) == ""  # two classes remain: the wizard may go on

    summary = scan.summary(3)
    assert "  • cats: 6 images (of 9 files)" in summary  # counted without the broken files
    assert "Class 'birds' has no usable image" in summary
    assert f"… and {len(broken) - 3} more (Show all skipped files lists every one)" in summary
    assert set(scan.skipped_text().splitlines()) == {
        f"{s['file']}: {s['reason']}" + (f" ({s['detail']})" if s["detail"] else "") for s in scan.skipped}


def test_a_classifier_folder_left_with_one_class_is_refused_naming_the_broken_class(tmp_path):
    root = tmp_path / "pets"
    good_images(root, classes=("cats",), per_class=6)
    (root / "dogs").mkdir()
    (root / "dogs" / "a.png").write_bytes(b"")
    (root / "dogs" / "b.png").write_bytes(b"not a png")
    problem = scan_folder(root).problem(need_classes=True)
    assert "only one class (cats)" in problem and "every file in 'dogs' is unusable" in problem


def test_show_all_lists_every_skipped_file(qtbot, tmp_path):
    from gui.wizards.datapage import SHOWN_SKIPPED, DataPage
    from gui.wizards.recipes import DataChoice

    root = tmp_path / "pets"
    broken_folder(root)
    page = DataPage(DataChoice(), need_classes=True, allow_csv=False, subtitle="")
    qtbot.addWidget(page)
    page.show()
    scan = scan_folder(root)
    page.show_result("folder", scan)
    assert page.show_all.isVisible() and len(scan.skipped) > SHOWN_SKIPPED
    box = page.show_skipped()
    qtbot.addWidget(box)
    assert box.detailedText().splitlines() == scan.skipped_text().splitlines()
    assert len(box.detailedText().splitlines()) == len(scan.skipped)
