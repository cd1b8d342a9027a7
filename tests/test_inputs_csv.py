"""CSV files as analysts really have them: renamed workbooks, old encodings, empty columns (issue 18, item 9)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Engine, Workflow, WorkflowInvalid
from engine.data.tables import TableError, load_csv
from engine.preflight import preflight
from engine.store import read_run
from tests.conftest import ROOT

LABELS = ("café", "cafè", "Zoë")  # distinct classes that a lossy decoding would merge into "caf\ufffd"


def table_text(rows: int = 60, labels: tuple[str, ...] = LABELS, sep: str = ",") -> str:
    lines = [sep.join(["size", "colour", "label"])]
    for i in range(rows):
        k = i % len(labels)
        lines.append(sep.join([str(10 * k + i % 7), ("red", "green", "blue")[k], labels[k]]))
    return "\n".join(lines) + "\n"


def csv_only(path: Path, target: str = "label") -> Workflow:
    """A workflow of one CSV node: enough to see how the table is read."""
    return Workflow.from_json({"schema": 1, "name": "table", "nodes": [
        {"id": "data", "type": "csv_table", "params": {"path": str(path), "target": target}}]})


def refusal(path: Path, target: str = "label") -> str:
    """The one problem the preflight finds with this CSV, as `loom validate` would print it."""
    [problem] = preflight(csv_only(path, target))
    assert problem.node_id == "data"
    return f"{problem.field}: {problem.message}"


def test_an_excel_workbook_renamed_to_csv_is_named_as_such_by_loom_validate(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "sales.csv", "w") as book:  # what an .xlsx is
        book.writestr("xl/workbook.xml", "<workbook/>")
    flow = tmp_path / "flow.json"
    csv_only(tmp_path / "sales.csv").save(flow)
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "validate", str(flow)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, env=os.environ.copy())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("loom: node 'data', param 'path': sales.csv is not a text CSV file")
    assert "Excel workbook" in line and "save it as CSV UTF-8" in line


def test_a_binary_file_named_csv_is_named_as_binary(tmp_path):
    (tmp_path / "data.csv").write_bytes(bytes(range(256)) * 40)
    assert refusal(tmp_path / "data.csv") == (
        "param 'path': data.csv is not a text CSV file (it looks binary) — export the table as CSV text "
        "(comma-separated)"
    )


def test_a_windows_1252_csv_keeps_distinct_accented_labels_and_says_how_it_was_read(tmp_path):
    path = tmp_path / "old_excel.csv"
    path.write_bytes(table_text().encode("cp1252"))
    result = Engine().run(csv_only(path), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    report = read_run(tmp_path / "run")["nodes"]["data"]["report"]
    assert report["encoding"] == "cp1252"
    assert sorted(report["classes"]) == sorted(LABELS) and report["counts"] == {c: 20 for c in LABELS}
    log = (tmp_path / "run" / "log.txt").read_text(encoding="utf-8")
    assert "old_excel.csv is not UTF-8: read it as cp1252" in log and "\ufffd" not in log


@pytest.mark.parametrize(("codec", "label"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8 (BOM)"),
                                              ("utf-16", "utf-16")])
def test_utf8_and_excels_unicode_exports_load_with_the_encoding_in_the_report(tmp_path, codec, label):
    path = tmp_path / "table.csv"
    path.write_bytes(table_text(sep="\t" if codec == "utf-16" else ",").encode(codec))
    data, report = load_csv(path, "label")
    assert report.to_json()["encoding"] == label
    assert sorted(data.classes) == sorted(LABELS)
    assert "size" in data.feature_names  # a byte-order mark does not stick to the first column's name


def test_a_csv_in_a_non_western_encoding_is_refused_with_the_offset_and_what_to_do(tmp_path):
    path = tmp_path / "cities.csv"
    path.write_bytes(table_text(labels=("Москва", "Київ", "Минск")).encode("cp1251"))
    message = refusal(path)
    first_bad = table_text(labels=("Москва", "Київ", "Минск")).encode("cp1251").index(b"\xcc")
    assert message.startswith(f"param 'path': cities.csv is not UTF-8 text: byte 0xCC at offset {first_bad} (line 2)")
    assert "save it as UTF-8" in message
    with pytest.raises(TableError, match="not UTF-8 text"):  # the node itself refuses the same file
        load_csv(path, "label")


def test_a_csv_mixing_utf8_and_latin1_lines_is_refused_rather_than_garbled(tmp_path):
    path = tmp_path / "merged.csv"
    text = table_text(rows=6)
    path.write_bytes(text.encode("utf-8") + "1,red,naïve\n".encode("latin-1"))
    assert "merged.csv mixes UTF-8 with another encoding" in refusal(path)


def test_a_utf16_file_without_byte_order_mark_is_named_as_utf16(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(table_text().encode("utf-16-le"))
    assert "export.csv looks like UTF-16 text without a byte-order mark — save it as UTF-8" in refusal(path)


def test_an_all_empty_target_column_is_named_as_the_reason(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("age,answer,label\n" + "".join(f"{20 + i},yes,\n" for i in range(30)))
    expected = "column 'label' of survey.csv is empty in every row — pick a column with the class"
    assert refusal(path) == f"param 'target': {expected}"
    with pytest.raises(WorkflowInvalid, match="pick a column with the class"):
        Engine().run(csv_only(path), out_dir=tmp_path / "run")


def test_an_all_empty_target_in_a_table_too_big_for_the_preflight_fails_the_node_with_that_reason(tmp_path):
    path = tmp_path / "big.csv"
    rows = "".join(f"{i},{i % 97},NA\n" for i in range(90_000))
    path.write_text("id,score,label\n" + rows)
    assert path.stat().st_size > 1 << 20  # past what the preflight reads
    result = Engine().run(csv_only(path), out_dir=tmp_path / "run")
    assert result.status == "failed" and result.input_error
    assert "column 'label' of big.csv is empty in every row — pick a column with the class" in result.message


def test_a_header_without_rows_and_an_empty_file_are_named(tmp_path):
    (tmp_path / "header.csv").write_text("size,colour,label\n")
    (tmp_path / "empty.csv").write_text("\n  \n")
    assert "header.csv has a header but no rows" in refusal(tmp_path / "header.csv")
    assert "empty.csv is empty" in refusal(tmp_path / "empty.csv")


def test_a_csv_already_damaged_by_an_earlier_conversion_is_warned_about(tmp_path):
    path = tmp_path / "damaged.csv"
    path.write_text(table_text(labels=("caf\ufffd", "tea")), encoding="utf-8")
    result = Engine().run(csv_only(path), out_dir=tmp_path / "run")
    assert result.status == "succeeded", result.message
    assert read_run(tmp_path / "run")["nodes"]["data"]["report"]["replacement_chars"] == 30
    log = (tmp_path / "run" / "log.txt").read_text(encoding="utf-8")
    assert "labels that differed may have been merged before Loom read them" in log



def test_a_spreadsheet_export_with_trailing_separators_loads(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("".join(line + ",,\n" for line in table_text().splitlines()))  # two blank columns
    data, report = load_csv(path, "label")
    assert sorted(data.classes) == sorted(LABELS)
    assert {c["column"] for c in report.dropped_columns} == {"column 4", "column 5"}
