"""Image folders with empty class folders, and a data cache that notices edited pixels (issue 18, item 9)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import Engine, Workflow, WorkflowInvalid
from engine.cache import path_fingerprint
from engine.preflight import preflight
from engine.store import read_run
from tests.test_data_helpers import good_images


def folder_only(path: Path, **params: object) -> Workflow:
    """A workflow of one image-folder node: enough to see what the folder gives."""
    return Workflow.from_json({"schema": 1, "name": "folder", "nodes": [
        {"id": "data", "type": "image_folder", "params": {"path": str(path), "size": 8, **params}}]})


def test_an_empty_class_folder_is_left_out_and_said_so_in_the_report_and_the_log(tmp_path):
    good_images(tmp_path / "pets", classes=("dogs", "birds"), per_class=4)
    (tmp_path / "pets" / "cats").mkdir()
    (tmp_path / "pets" / "cats" / ".DS_Store").write_bytes(b"finder junk")  # hidden files are not images
    result = Engine().run(folder_only(tmp_path / "pets"), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    report = read_run(tmp_path / "run")["nodes"]["data"]["report"]
    assert report["empty_class_folders"] == ["cats"]
    assert report["classes"] == ["birds", "dogs"]
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "class folder 'cats' holds no images — it was left out" in log


def test_a_streamed_folder_reports_its_empty_class_folder_too(tmp_path):
    good_images(tmp_path / "pets", classes=("dogs", "birds"), per_class=4)
    (tmp_path / "pets" / "cats").mkdir()
    result = Engine().run(folder_only(tmp_path / "pets", memory_limit_mb=0), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    assert read_run(tmp_path / "run")["nodes"]["data"]["report"]["empty_class_folders"] == ["cats"]


def test_an_empty_class_folder_that_leaves_one_class_is_refused_before_anything_runs(tmp_path):
    good_images(tmp_path / "pets", classes=("dogs",), per_class=4)
    (tmp_path / "pets" / "cats").mkdir()
    with pytest.raises(WorkflowInvalid) as refused:
        Engine().run(folder_only(tmp_path / "pets"), out_dir=tmp_path / "run")
    [problem] = refused.value.problems
    assert (problem.node_id, problem.field) == ("data", "param 'path'")
    assert "class folder(s) 'cats'" in problem.message and "leaves only 1 class ('dogs')" in problem.message
    assert "set labels to none" in problem.message
    assert not (tmp_path / "run").exists()


def test_class_folders_that_are_all_empty_are_named(tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / "pets" / name).mkdir(parents=True)
    [problem] = preflight(folder_only(tmp_path / "pets"))
    assert "the class folder(s) 'cats', 'dogs'" in problem.message and "hold no images" in problem.message


def test_labels_from_folders_on_a_flat_folder_is_refused(tmp_path):
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "flat" / "a.png")
    [problem] = preflight(folder_only(tmp_path / "flat", labels="folders"))
    assert "has no class subfolders" in problem.message


def test_a_folder_path_that_is_a_file_is_named(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "one.png")
    [problem] = preflight(folder_only(tmp_path / "one.png"))
    assert problem.message.startswith(f"{tmp_path / 'one.png'} is a file — give a folder here")


# -- the data cache notices content, not only names, sizes and times ------------------------------------


def repaint_keeping_name_size_and_mtime(path: Path) -> None:
    """Change every pixel of an uncompressed BMP in place; the file's size and mtime stay as they were."""
    before = path.stat()
    with Image.open(path) as img:
        inverted = Image.fromarray(255 - np.asarray(img.convert("RGB")))
    inverted.save(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_editing_one_images_pixels_keeping_its_name_size_and_mtime_recomputes_the_data_node(tmp_path):
    for k, name in enumerate(("light", "dark")):
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (200 - 150 * k, 40 * i, 90)).save(tmp_path / "imgs" / name / f"{i}.bmp")
    engine = Engine(cache_dir=tmp_path / "cache")
    wf = folder_only(tmp_path / "imgs")
    first = engine.run(wf, out_dir=tmp_path / "r1")
    assert engine.run(wf, out_dir=tmp_path / "r2").node_states["data"] == "cached"

    repaint_keeping_name_size_and_mtime(tmp_path / "imgs" / "light" / "1.bmp")
    again = engine.run(wf, out_dir=tmp_path / "r3")
    assert (first.node_states["data"], again.node_states["data"]) == ("done", "done")


def test_editing_a_csv_in_place_keeping_its_size_and_mtime_recomputes_the_table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,label\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(40)))
    wf = Workflow.from_json({"schema": 1, "name": "t", "nodes": [
        {"id": "data", "type": "csv_table", "params": {"path": str(path), "target": "label"}}]})
    engine = Engine(cache_dir=tmp_path / "cache")
    engine.run(wf, out_dir=tmp_path / "r1")
    before = path.stat()
    path.write_text(path.read_text().replace("a\n", "c\n"))  # same length, a new class name
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = engine.run(wf, out_dir=tmp_path / "r2")
    assert again.node_states["data"] == "done"
    assert read_run(tmp_path / "r2")["nodes"]["data"]["report"]["classes"] == ["b", "c"]


def test_a_large_file_is_fingerprinted_by_its_ends_and_an_unchanged_tree_keeps_its_fingerprint(tmp_path):
    big = tmp_path / "data" / "big.bin"
    big.parent.mkdir()
    big.write_bytes(bytes(3 << 20))
    stamp = big.stat()
    first = path_fingerprint(tmp_path / "data")
    assert path_fingerprint(tmp_path / "data") == first
    with big.open("r+b") as f:
        f.seek(-10, os.SEEK_END)
        f.write(b"x" * 10)
    os.utime(big, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert path_fingerprint(tmp_path / "data") != first


def test_a_symlink_back_to_the_folder_does_not_list_images_forever(tmp_path):
    from engine.data.listing import list_folder

    good_images(tmp_path / "pets", classes=("dogs", "birds"), per_class=3)
    (tmp_path / "pets" / "dogs" / "again").symlink_to(tmp_path / "pets")
    listing = list_folder(tmp_path / "pets")
    # dogs/ once, and through the link the birds/ it has not walked yet: every folder is walked once per class
    assert len(listing.files) == 3 + 3 + 3
    result = Engine().run(folder_only(tmp_path / "pets"), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
