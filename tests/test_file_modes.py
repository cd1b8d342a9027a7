"""Files Loom writes for the user follow the umask (issue 17, item 7).

Under the usual umask 022 a run folder, everything in it (run.json, metrics, checkpoints, the
exported model and its card) and a saved workflow are 0644 (folders 0755), so a colleague can open
a shared export; a stricter umask is honoured; a file the owner made private stays private when Loom
replaces it.  (Atomic writes through ``tempfile.mkstemp`` used to make every one of them 0600.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine import Engine, Workflow
from engine.fileio import atomic_write_text

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    old = os.umask(0o022)
    yield lambda value: os.umask(value)
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def tiny_export_flow() -> Workflow:
    nodes = [
        {"id": "data", "type": "digits", "params": {"size": 8}},
        {"id": "model", "type": "mlp", "params": {"hidden": "16"}},
        {"id": "train", "type": "train", "params": {"epochs": 1, "batch_size": 64}},
        {"id": "evaluate", "type": "evaluate", "params": {"mistakes": 0}},
        {"id": "export", "type": "export", "params": {}},
    ]
    links = [("data.data", "train.data"), ("model.model", "train.model"), ("train.model", "evaluate.model"),
             ("data.data", "evaluate.data"), ("train.model", "export.model"), ("evaluate.metrics", "export.metrics")]
    return Workflow.from_json({"schema": 1, "name": "modes", "nodes": nodes,
                               "links": [{"source": s, "target": t} for s, t in links]})


def test_a_run_folder_and_its_export_are_readable_by_others_under_umask_022(umask, tmp_path):
    out = tmp_path / "run"
    result = Engine(disk_cache=False).run(tiny_export_flow(), out_dir=out, device="cpu")
    assert result.status == "succeeded", result.message
    files = [p for p in out.rglob("*") if p.is_file()]
    folders = [out, *(p for p in out.rglob("*") if p.is_dir())]
    names = {p.name for p in files}
    assert {"run.json", "workflow.json", "metrics.csv"} <= names
    assert any(p.parent.name == "export" for p in files), names  # the exported model is among them
    assert any(p.parent.name == "checkpoints" for p in files), names  # and the training checkpoint
    assert {str(p.relative_to(out)): oct(mode(p)) for p in files if mode(p) != 0o644} == {}
    assert {str(p.relative_to(out)): oct(mode(p)) for p in folders if mode(p) != 0o755} == {}


def test_a_saved_workflow_is_0644_and_a_stricter_umask_is_honoured(umask, tmp_path):
    saved = tmp_path / "flow.json"
    tiny_export_flow().save(saved)
    assert mode(saved) == 0o644
    umask(0o077)
    private = tmp_path / "private.json"
    tiny_export_flow().save(private)
    assert mode(private) == 0o600


def test_replacing_a_file_keeps_the_mode_its_owner_gave_it(umask, tmp_path):
    target = tmp_path / "shared.json"
    atomic_write_text(target, "{}")
    os.chmod(target, 0o640)
    atomic_write_text(target, '{"again": true}')
    assert mode(target) == 0o640 and target.read_text() == '{"again": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["shared.json"]  # no temporary file left behind


def test_the_window_saves_a_workflow_with_normal_permissions(umask, qtbot, tmp_path, monkeypatch):
    pytest.importorskip("pytestqt")
    from gui.testing import make_window, small_example

    window = make_window(qtbot)
    window.load_workflow(small_example("classify_digits"))
    target = tmp_path / "digits.json"
    monkeypatch.setattr("gui.window_files.QFileDialog.getSaveFileName", lambda *_a, **_k: (str(target), ""))
    assert window.save_as()
    assert mode(target) == 0o644
