"""Process start to main window shown, median of 5 fresh processes (target <= 1.5 s).

Each run starts a new Python process that imports the app, builds and shows
the main window and processes events until the window is exposed; the time is
measured from just before the process is spawned.  It also reports whether
torch had been imported by then (it must not have been: the window shows first).

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time, json
from gui.app import create_app, create_window
app = create_app([])
window = create_window(probe_device=False)
window.show()
while not window.windowHandle() or not window.windowHandle().isExposed():
    app.processEvents()
app.processEvents()
print(json.dumps({"shown": time.time(), "torch": "torch" in sys.modules}))
"""


def one_run(env: dict[str, str]) -> tuple[float, bool]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("{"))
    data = json.loads(line)
    return data["shown"] - t0, data["torch"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not env.get("DISPLAY") else "")
    env["LOOM_HOME"] = tempfile.mkdtemp(prefix="loom-startup-")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    baseline = []
    for _ in range(args.runs):  # the bare interpreter + Qt import, for context
        t0 = time.time()
        subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], check=True, env=env)
        baseline.append(time.time() - t0)
    times, torch_seen = [], []
    for _ in range(args.runs):
        seconds, torch_loaded = one_run(env)
        times.append(seconds)
        torch_seen.append(torch_loaded)
    median = statistics.median(times)
    print(f"startup to main window shown, {args.runs} runs: " + ", ".join(f"{t:.2f}" for t in times) + " s")
    print(f"median {median:.2f} s (python + PySide6 import alone: median {statistics.median(baseline):.2f} s)")
    print(f"torch imported before the window showed: {'yes' if any(torch_seen) else 'no'}")
    ok = median <= 1.5 and not any(torch_seen)
    print(f"target median <= 1.5 s, torch not imported: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
