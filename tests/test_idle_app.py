"""The idle app stays light: the window, the palette, the Runs panel and the device forecast, all without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.device_probe import describe_local_device, nvidia_gpus

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
from gui.app import create_app, create_window
app = create_app([])
w = create_window(probe_device=True)
w.show()
deadline = time.monotonic() + 120  # a hang guard only
while time.monotonic() < deadline and not (w.catalog.is_ready and "detecting" not in w.device_label.text()):
    app.processEvents()
    time.sleep(0.01)
for _ in range(50):  # whatever the ready catalogue and the device answer set off
    app.processEvents()
    time.sleep(0.01)
print(json.dumps({"ready": w.catalog.is_ready, "device": w.device_label.text(), "torch": "torch" in sys.modules}))
"""


def test_the_idle_app_does_not_import_torch(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LOOM_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300, check=True)
    shown = json.loads(out.stdout.strip().splitlines()[-1])
    assert shown["ready"] and shown["device"].startswith("Device: auto: ")
    assert shown["torch"] is False  # ~450 MB and seconds the first Run pays, not the idle window


def test_nvidia_gpus_are_read_from_the_driver(tmp_path):
    for n, model in enumerate(["NVIDIA H200", "NVIDIA H200"]):
        (tmp_path / f"0000:0{n}:00.0").mkdir()
        (tmp_path / f"0000:0{n}:00.0" / "information").write_text(f"Model: \t\t {model}\nIRQ: 42\n")
    assert nvidia_gpus(tmp_path) == ["NVIDIA H200", "NVIDIA H200"]


def test_without_torch_loaded_the_forecast_names_the_gpu_or_the_cpu(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr("engine.device_probe.nvidia_gpus", lambda: ["NVIDIA H200", "NVIDIA H200"])
    assert describe_local_device() == "auto: NVIDIA H200 (+1 more)"
    monkeypatch.setattr("engine.device_probe.nvidia_gpus", lambda: [])
    monkeypatch.setattr("engine.device_probe.sys.platform", "linux")
    assert describe_local_device().startswith("auto: CPU (")
    assert "torch" not in sys.modules
