"""bench/end_to_end_gan.py and the fixed costs of a run it measures.

The bench's parts (the PNG folder, the workflow, reading the steps a run
took, the per-round lines) and the naive loop on a tiny folder; then the
costs outside training that a whole ``loom run`` pays: a run imports no
torchvision, the folder fingerprint is what it was (so cache keys hold), and
disk-cache entries written in the background are on disk when the run ends.
No timing is asserted.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from engine import Engine
from engine.cache import NodeCache, path_fingerprint
from engine.validation import validate
from engine.workflow import Workflow

ROOT = Path(__file__).resolve().parents[1]


def load_bench(name: str):  # noqa: ANN201 - a module
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_png_folder_has_one_subfolder_per_shape_and_the_flow_is_a_valid_workflow(tmp_path):
    e2e = load_bench("end_to_end_gan")
    e2e.make_png_folder(tmp_path / "shapes", 12, 16)
    pngs = sorted((tmp_path / "shapes").rglob("*.png"))
    assert len(pngs) == 12 and len({p.parent.name for p in pngs}) == 4
    wf = Workflow.from_json(e2e.flow(tmp_path / "shapes"))
    assert validate(wf) == []
    assert wf.node("data").type == "image_folder"
    # the naive loop's model: an unconditional DCGAN (Loom would condition on the class folders by itself)
    assert wf.node("model").params == {"latent_dim": 100, "width": 32, "conditional": "off"}


def test_the_steps_a_run_took_are_read_from_run_json(tmp_path):
    e2e = load_bench("end_to_end_gan")
    assert e2e._steps_of({"nodes": {"train": {"report": {"steps": 312}}}}) == 312
    assert e2e._steps_of({"nodes": {"train": {"history": {"steps": 156}}}}) == 156
    assert e2e._steps_of({"nodes": {}}) is None


def test_each_round_is_printed_in_seconds_and_the_median_ratio_returned(capsys):
    e2e = load_bench("end_to_end_gan")
    median = e2e.print_rounds("cold", [(1 / 10, 1 / 20), (1 / 10, 1 / 12), (1 / 8, 1 / 16)])
    out = capsys.readouterr().out
    assert "cold round 1: loom 10.00 s, naive 20.00 s, naive/loom 2.000" in out
    assert "median ratio 2.000" in out and "per-round 1.200..2.000" in out and "target >= 1.5" in out
    assert median == 2.0


def test_the_naive_loop_trains_exactly_the_steps_asked(tmp_path):
    e2e = load_bench("end_to_end_gan")
    e2e.make_png_folder(tmp_path / "shapes", 8, 32)
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "naive_gan_loop.py"), str(tmp_path / "shapes"),
                          "--steps", "3", "--batch-size", "4"], capture_output=True, text=True, cwd=ROOT,
                         timeout=300, check=True)
    assert out.stdout.strip().splitlines()[-1] == "done: 3 steps"  # 2 batches an epoch: it goes round again


def test_a_gan_run_imports_no_torchvision(tmp_path):
    """torchvision pulls in torch._dynamo-sized imports: a run's start-up should not pay them for a version string."""
    code = (
        "import sys, json\n"
        "from engine import Engine\n"
        "from gui.testing import small_example\n"
        "wf = small_example('gan_digits', data={'size': 8}, model={'width': 4, 'latent_dim': 4},\n"
        "                   train={'epochs': 1, 'batch_size': 256, 'sample_every': 5}, generate={'n': 4})\n"
        f"r = Engine(disk_cache=False).run(wf, out_dir={str(tmp_path / 'run')!r}, device='cpu')\n"
        "print(json.dumps({'status': r.status, 'torchvision': 'torchvision' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         check=True, env={**os.environ, "LOOM_HOME": str(tmp_path / "home")})
    said = json.loads(out.stdout.strip().splitlines()[-1])
    assert said == {"status": "succeeded", "torchvision": False}
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["versions"]["torchvision"][0].isdigit()  # still recorded, read without importing it
    assert (tmp_path / "run" / "train" / "samples" / "step_000000.png").exists()


def test_sample_grids_tile_like_torchvision():
    from torchvision.utils import make_grid as theirs

    from engine.generative.preview import make_grid

    for shape, nrow in [((64, 3, 8, 8), 8), ((10, 1, 5, 5), 4), ((1, 3, 5, 5), 1), ((7, 3, 4, 6), 3)]:
        x = torch.rand(shape)
        assert torch.equal(make_grid(x, nrow, 2, 0.5), theirs(x, nrow=nrow, padding=2, pad_value=0.5))


def _rglob_fingerprint(root: Path) -> str:
    """The fingerprint as it was defined before the scandir walk: keys in existing caches were made with it."""
    h = hashlib.blake2b(digest_size=16)
    entries = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for p in entries:
        st = p.stat()
        h.update(f"{p.relative_to(root.parent)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        with p.open("rb") as f:
            data = f.read()
        h.update(data if len(data) <= 1 << 20 else data[:64 << 10] + data[-(64 << 10):])
    return h.hexdigest()[:24]


def test_the_folder_fingerprint_is_unchanged_so_existing_cache_keys_hold(tmp_path):
    root = tmp_path / "imgs"
    for rel, content in [("a-b/x.png", b"1"), ("a/c/y.png", b"2"), ("a.txt", b"3"), (".hidden/z", b"4"),
                         ("real/f", b"5"), ("big.bin", os.urandom(3 << 20))]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    (root / "linked_dir").symlink_to(root / "real", target_is_directory=True)  # not entered, as rglob did
    (root / "linked_file").symlink_to(root / "a.txt")  # listed, as rglob did
    assert path_fingerprint(root) == _rglob_fingerprint(root)
    assert path_fingerprint(root / "a.txt") == _rglob_fingerprint(root / "a.txt")
    before = path_fingerprint(root)
    (root / "a" / "c" / "y.png").write_bytes(b"changed")
    assert path_fingerprint(root) != before


class Value:
    """A cacheable output (``to_state``), as datasets are."""

    def to_state(self) -> dict:
        return {"x": torch.arange(6)}


def test_a_background_cache_write_is_on_disk_after_flush(tmp_path):
    cache = NodeCache(disk_dir=tmp_path)
    cache.put("k1", {"data": Value()}, to_disk=True, wait=False)
    cache.flush()
    assert (tmp_path / "k1.pt").exists()
    assert cache.get("k1", from_disk=False)["data"].to_state()["x"].tolist() == list(range(6))


def test_a_run_ends_with_its_cache_entries_on_disk(tmp_path):
    from gui.testing import small_example

    wf = small_example("classify_digits", train={"epochs": 1})
    result = Engine(cache_dir=tmp_path / "cache").run(wf, out_dir=tmp_path / "run", device="cpu")
    assert result.status == "succeeded", result.message
    written = sorted(p.name for p in (tmp_path / "cache").glob("*.pt"))
    assert written and not list((tmp_path / "cache").glob(".*.tmp"))  # whole entries, no half-written ones
    again = Engine(cache_dir=tmp_path / "cache").run(wf, out_dir=tmp_path / "run2", device="cpu")
    assert again.status == "succeeded" and again.node_states["data"] == "cached"


def test_a_loom_run_process_that_skips_teardown_still_leaves_everything_on_disk_and_said(tmp_path):
    """`loom run` ends with os._exit once the run is recorded (unloading torch cost seconds): nothing may be lost."""
    e2e = load_bench("end_to_end_gan")
    e2e.make_png_folder(tmp_path / "shapes", 8, 32)
    flow = e2e.flow(tmp_path / "shapes")
    flow["nodes"][2]["params"].update(width=4, latent_dim=4)
    flow["nodes"][3]["params"].update(batch_size=4, sample_every=1)
    (tmp_path / "flow.json").write_text(json.dumps(flow))
    cache = tmp_path / "home" / "nodes"
    out = subprocess.run([sys.executable, "-m", "engine.cli", "run", str(tmp_path / "flow.json"), "--out",
                          str(tmp_path / "run"), "-q"], capture_output=True, text=True, cwd=ROOT, timeout=300,
                         env={**os.environ, "LOOM_HOME": str(tmp_path / "home"), "LOOM_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr
    assert f"succeeded: {tmp_path / 'run'}" in out.stdout + out.stderr  # the last line reached the terminal
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "succeeded" and info["finished"]
    assert list(cache.glob("*.pt")) and not list(cache.glob(".*.tmp"))  # whole cache entries, none half-written
    assert (tmp_path / "run" / "train" / "generator.safetensors").exists()


def test_background_cache_writes_land_in_the_order_they_were_put(tmp_path, monkeypatch):
    """A later entry may refer to an earlier entry's file (shared samples), so writes keep their order."""
    cache = NodeCache(disk_dir=tmp_path)
    order: list[str] = []
    original = NodeCache._save

    def slow_first(self, key, outputs):  # noqa: ANN001, ANN202
        if key == "first":
            import time
            time.sleep(0.2)  # not a timing assertion: it only makes the first write the slower one
        original(self, key, outputs)
        order.append(key)

    monkeypatch.setattr(NodeCache, "_save", slow_first)
    cache.put("first", {"data": Value()}, to_disk=True, wait=False)
    cache.put("second", {"data": Value()}, to_disk=True, wait=False)
    cache.flush()
    assert order == ["first", "second"]
