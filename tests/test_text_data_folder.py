"""Texts from a folder (`text_folder`): class folders or a flat corpus, every bad file listed with its reason."""

from __future__ import annotations

import codecs
import os

import pytest

from engine import Engine, WorkflowInvalid
from engine.errors import UserInputError
from engine.preflight import preflight
from engine.store import read_run
from tests.text_data_support import flow, folder_source, loom, review_folder, run_step, the_one_line, write_texts


def messy_reviews(root):
    """Two good class folders plus every kind of file a real folder of texts holds."""
    review_folder(root, n=6)
    (root / "pos" / "excel_unicode.txt").write_bytes(codecs.BOM_UTF16_LE + "très bon, vraiment".encode("utf-16-le"))
    (root / "pos" / "utf16_no_bom.txt").write_bytes("plain words here".encode("utf-16-le"))
    (root / "neg" / "program.txt").write_bytes(bytes(range(256)) * 4)
    (root / "neg" / "old_windows.txt").write_bytes("caf\xe9 cr\xe8me".encode("cp1252"))
    (root / "neg" / "notes.pdf").write_bytes(b"%PDF-1.4 ...")
    (root / "neg" / "empty.txt").write_bytes(b"")
    (root / "neg" / "copy.txt").write_text((root / "neg" / "03.txt").read_text())
    (root / "neg" / ".DS_Store").write_bytes(b"finder junk")  # hidden files are not texts and not reported
    (root / "readme.txt").write_text("beside the class folders")
    return root


def test_a_messy_folder_reads_what_is_text_and_lists_every_other_file_with_its_reason(tmp_path):
    data, events = run_step("text_folder", tmp_path / "run", path=str(messy_reviews(tmp_path / "reviews")))
    report = events.report
    assert data.classes == ["neg", "pos"] and report["counts"] == {"neg": 6, "pos": 7}
    assert "très bon, vraiment" in data.texts  # UTF-16 with a byte-order mark is read
    reasons = {s["file"]: (s["reason"], s["detail"]) for s in report["skipped"]}
    assert reasons == {
        "readme.txt": ("not in a class folder", "files beside the class folders have no class"),
        "neg/notes.pdf": ("not text", ".pdf file — Loom reads .txt, .text, .md files"),
        "neg/old_windows.txt": ("not UTF-8", "byte 0xE9 at offset 3 (line 1) is not UTF-8 — save it as UTF-8"),
        "neg/program.txt": ("not text", "binary content"),
        "pos/utf16_no_bom.txt": ("UTF-16 without a byte-order mark",
                                 "save it as UTF-8, or as UTF-16 with a byte-order mark"),
    }
    assert (report["empty_text_items"], report["duplicate_items"]) == (
        ["neg/empty.txt"], [{"text": "neg/copy.txt", "same_as": "neg/03.txt"}])
    assert report["encodings"] == {"utf-8": 14, "utf-16": 1}  # every file read, the empty one and the copy too
    warnings = events.logs("warning")
    assert "skipped pos/utf16_no_bom.txt: UTF-16 without a byte-order mark (save it as UTF-8, or as UTF-16 with a " \
           "byte-order mark)" in warnings
    assert "skipped neg/program.txt: not text (binary content)" in warnings


def test_a_run_on_a_messy_folder_succeeds_and_keeps_the_list_of_skipped_files_in_run_json(tmp_path):
    result = Engine().run(flow(folder_source(messy_reviews(tmp_path / "reviews")), tokenize={"vocab_size": 300}),
                          out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    report = read_run(tmp_path / "run")["nodes"]["data"]["report"]
    assert report["skipped_count"] == 5 and report["skipped_by_reason"] == {
        "not in a class folder": 1, "not text": 2, "not UTF-8": 1, "UTF-16 without a byte-order mark": 1}
    assert "skipped neg/program.txt: not text (binary content)" in (tmp_path / "run" / "log.txt").read_text()


def test_a_50_mb_single_line_file_is_cut_while_it_is_read(tmp_path):
    import tracemalloc

    review_folder(tmp_path / "corpus", n=3)
    with (tmp_path / "corpus" / "pos" / "huge.txt").open("wb") as f:
        for _ in range(50):
            f.write(b"word " * 200_000)  # 50 MB and not one line break
    tracemalloc.start()
    try:
        data, events = run_step("text_folder", tmp_path / "run", path=str(tmp_path / "corpus"), max_chars=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # the file is read no further than 4 bytes a kept character
    assert max(len(t) for t in data.texts) == 99_999  # 100,000 characters, the last one a space trimmed away
    assert (events.report["truncated"], events.report["truncated_items"]) == (1, ["pos/huge.txt"])
    assert any("cut 1 text(s) longer than 100,000 characters (pos/huge.txt)" in line for line in events.logs())


def test_a_flat_folder_is_an_unlabelled_corpus_for_a_language_model(tmp_path):
    write_texts(tmp_path / "books", {"a.txt": "Call me Ishmael.", "b.md": "# Chapter 1\nIt was a dark night.",
                                     "c.text": "The end."})
    data, events = run_step("text_folder", tmp_path / "run", path=str(tmp_path / "books"))
    assert data.labels is None and sorted(data.texts) == ["# Chapter 1\nIt was a dark night.", "Call me Ishmael.",
                                                          "The end."]
    assert events.report["layout"] == "flat" and events.report["counts"] == {"(unlabelled)": 3}


def test_layout_flat_reads_class_folders_as_one_unlabelled_corpus(tmp_path):
    review_folder(tmp_path / "reviews", n=4)
    data, _ = run_step("text_folder", tmp_path / "run", path=str(tmp_path / "reviews"), layout="flat")
    assert data.labels is None and len(data) == 8


def test_an_empty_class_folder_is_left_out_and_said_so_in_the_report_and_the_log(tmp_path):
    review_folder(tmp_path / "reviews", n=4, classes=("neg", "pos"))
    (tmp_path / "reviews" / "mixed").mkdir()
    result = Engine().run(flow(folder_source(tmp_path / "reviews")), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    report = read_run(tmp_path / "run")["nodes"]["data"]["report"]
    assert report["empty_class_folders"] == ["mixed"] and report["classes"] == ["neg", "pos"]
    assert "class folder 'mixed' holds no files — it was left out" in (tmp_path / "run" / "log.txt").read_text()


def test_an_empty_class_folder_that_leaves_one_class_is_refused_before_anything_runs(tmp_path):
    review_folder(tmp_path / "reviews", n=4, classes=("neg",))
    (tmp_path / "reviews" / "pos").mkdir()
    with pytest.raises(WorkflowInvalid) as refused:
        Engine().run(flow(folder_source(tmp_path / "reviews")), out_dir=tmp_path / "run")
    [problem] = refused.value.problems
    assert (problem.node_id, problem.field) == ("data", "param 'path'")
    assert problem.message == (
        f"the folder {tmp_path / 'reviews'} (left out for holding no text files: 'pos') gives only 1 class ('neg') "
        "— a classifier needs at least 2; add texts of another class, or set layout to flat to read the texts "
        "unlabelled (for a language model)")
    assert not (tmp_path / "run").exists()


def test_a_class_whose_every_file_is_unusable_is_left_out_and_named_when_that_leaves_one_class(tmp_path):
    review_folder(tmp_path / "reviews", n=4, classes=("neg",))
    (tmp_path / "reviews" / "pos").mkdir()
    (tmp_path / "reviews" / "pos" / "a.txt").write_bytes("caf\xe9".encode("cp1252"))
    with pytest.raises(UserInputError) as refused:
        run_step("text_folder", tmp_path / "run", path=str(tmp_path / "reviews"))
    assert str(refused.value).startswith(
        f"node 'data', param 'path': after cleaning, the folder {tmp_path / 'reviews'} (left out, without usable "
        "texts: 'pos') gives only 1 class ('neg')")


@pytest.mark.parametrize("setup, expected", [
    (lambda root: root.mkdir(), "holds no files — put .txt, .text, .md files in it"),
    (lambda root: [(root / c).mkdir(parents=True) for c in ("a", "b")], "the class folder(s) 'a', 'b' in"),
    (lambda root: write_texts(root, {"a/x.pdf": "%PDF", "b/y.docx": "PK"}),
     "holds no text files in its class folders (only .docx, .pdf) — Loom reads .txt, .text, .md files"),
    (lambda root: write_texts(root, {"x.txt": "flat"}), "has no class subfolders"),
], ids=["empty", "empty class folders", "no text files", "flat folder as classes"])
def test_a_folder_that_cannot_give_texts_is_refused_by_the_preflight_with_the_reason(tmp_path, setup, expected):
    setup(tmp_path / "texts")
    layout = "classes" if expected == "has no class subfolders" else "auto"
    [problem] = preflight(flow(folder_source(tmp_path / "texts", layout=layout)))
    assert problem.field == "param 'path'" and expected in problem.message


def test_a_folder_where_every_file_is_empty_or_unreadable_says_what_became_of_them(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.txt").write_bytes(b"")
    (tmp_path / "t" / "b.txt").write_bytes(b"  \n\n ")
    (tmp_path / "t" / "c.txt").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UserInputError) as refused:
        run_step("text_folder", tmp_path / "run", path=str(tmp_path / "t"))
    assert str(refused.value) == (f"node 'data', param 'path': {tmp_path / 't'} (3 files) gives no usable text: "
                                  "1 not text, 2 empty — see the log for each file")


def test_editing_a_text_file_in_place_recomputes_the_texts(tmp_path):
    review_folder(tmp_path / "reviews", n=3)
    engine, wf = Engine(cache_dir=tmp_path / "cache"), flow(folder_source(tmp_path / "reviews"))
    engine.run(wf, out_dir=tmp_path / "r1")
    assert engine.run(wf, out_dir=tmp_path / "r2").node_states["data"] == "cached"
    path = tmp_path / "reviews" / "pos" / "01.txt"
    before = path.stat()
    path.write_text(path.read_text().upper())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert engine.run(wf, out_dir=tmp_path / "r3").node_states["data"] == "done"


def test_loom_run_on_a_folder_with_a_single_class_exits_2_with_one_line_naming_the_folder(tmp_path):
    review_folder(tmp_path / "reviews", n=3, classes=("pos",))
    path = tmp_path / "flow.json"
    flow(folder_source(tmp_path / "reviews"), tokenize={}).save(path)
    proc = loom("run", str(path), "--out", str(tmp_path / "run"), "-q")
    assert proc.returncode == 2
    line = the_one_line(proc)
    assert line.startswith(f"loom: node 'data', param 'path': the folder {tmp_path / 'reviews'} gives only 1 class "
                           "('pos') — a classifier needs at least 2")


def test_loom_run_on_a_folder_of_empty_texts_exits_2_with_one_line_saying_so(tmp_path):
    write_texts(tmp_path / "notes", {"a/one.txt": "", "a/two.txt": "   \n", "b/three.txt": "\n\n"})
    path = tmp_path / "flow.json"
    flow(folder_source(tmp_path / "notes"), tokenize={}).save(path)
    proc = loom("run", str(path), "--out", str(tmp_path / "run"), "-q")
    assert proc.returncode == 2
    assert the_one_line(proc).endswith(f"node 'data', param 'path': {tmp_path / 'notes'} (3 files) gives no usable "
                                       "text: 3 empty")
