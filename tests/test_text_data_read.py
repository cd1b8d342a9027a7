"""Reading text files: the encodings that are clear are read, the rest named with the reason; huge files are cut."""

from __future__ import annotations

import codecs

import pytest

from engine.data.textread import decode_bytes, read_prediction_texts, read_text_file
from tests.text_data_support import reviews_csv, run_step

TEXT = "Ça va? Grüße — 東京 🙂"


@pytest.mark.parametrize("raw, encoding", [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8 (BOM)"),
    (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "utf-32"),
], ids=["utf-8", "utf-8 BOM", "utf-16 LE", "utf-16 BE", "utf-32"])
def test_utf8_and_unicode_with_a_byte_order_mark_are_read_exactly(raw, encoding):
    out = decode_bytes(raw)
    assert (out.text, out.encoding) == (TEXT, encoding)


@pytest.mark.parametrize("raw, why", [
    ("Grüße aus Köln".encode("cp1252"), "not UTF-8 (byte 0xFC at offset 2 (line 1) is not UTF-8 — save it as UTF-8)"),
    ("line one\nline two: café".encode("latin-1"),
     "not UTF-8 (byte 0xE9 at offset 22 (line 2) is not UTF-8 — save it as UTF-8)"),
    ("no byte-order mark".encode("utf-16-le"),
     "UTF-16 without a byte-order mark (save it as UTF-8, or as UTF-16 with a byte-order mark)"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "not text (it looks like a PDF document)"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "not text (it looks like a PNG image)"),
    (bytes(range(256)) * 4, "not text (binary content)"),
    (b"\x01\x02\x03\x04\x05\x06 ab \x07\x08\x0e\x0f", "not text (binary content (control characters))"),
    (codecs.BOM_UTF16_LE + b"\x00\xd8ab", "does not match its byte-order mark (it starts with a utf-16 byte-order "
                                          "mark, but byte 2 (line 1) does not fit it — save it as UTF-8)"),
], ids=["windows-1252", "latin-1 on line 2", "utf-16 without BOM", "pdf", "png", "binary", "control characters",
        "broken utf-16"])
def test_what_is_not_clearly_text_is_named_with_the_reason_never_read_with_replacement_characters(raw, why):
    out = decode_bytes(raw)
    assert out.text is None and out.why == why


def test_a_huge_file_is_read_only_up_to_max_chars_even_when_a_character_is_cut_at_the_edge(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("é" * 1_000_000, encoding="utf-8")  # 2 MB, two bytes a character
    out = read_text_file(path, max_chars=333_333)
    assert out.ok and out.truncated and out.text == "é" * 333_333


def test_a_file_within_max_chars_is_whole_and_not_marked_cut(tmp_path):
    path = tmp_path / "small.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "short and sweet".encode("utf-16-le"))
    out = read_text_file(path, max_chars=15)
    assert (out.text, out.truncated, out.encoding) == ("short and sweet", False, "utf-16")


def test_a_file_that_cannot_be_opened_is_unreadable_with_the_reason(tmp_path):
    out = read_text_file(tmp_path / "gone.txt", 100)
    assert (out.reason, out.detail) == ("unreadable", "No such file or directory")


def test_loom_predict_reads_a_csv_exactly_as_text_csv_did_for_training(tmp_path):
    reviews_csv(tmp_path / "r.csv", n=10)
    data, _ = run_step("text_csv", tmp_path / "run", path=str(tmp_path / "r.csv"), text_columns="title,body",
                       label="sentiment", dedupe=False)
    names, texts, skipped = read_prediction_texts([str(tmp_path / "r.csv")], [], data.source["text_columns"])
    assert texts == data.texts and names[0] == f"{tmp_path / 'r.csv'}:row 2" and skipped == []


def test_loom_predict_reads_unicode_files_and_names_the_ones_it_cannot(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(codecs.BOM_UTF16_LE + "  windows notepad\r\nsaved this  ".encode("utf-16-le"))
    (tmp_path / "in" / "b.txt").write_bytes("caf\xe9".encode("cp1252"))
    names, texts, skipped = read_prediction_texts([str(tmp_path / "in")], ["  typed  "], [])
    assert texts == ["typed", "windows notepad\nsaved this"]
    assert skipped == [f"{tmp_path / 'in' / 'b.txt'}: not UTF-8 (byte 0xE9 at offset 3 (line 1) is not UTF-8 — save "
                       "it as UTF-8)"]
