"""Process start to main window shown (target <= 1.5 s), and the idle app's memory after 10 s (target < 300 MB).

Each start is a new Python process that imports the app, builds and shows
the main window and processes events until the window is exposed; the time is
measured from just before the process is spawned.  It also reports whether
torch had been imported by then (it must not have been: the window shows first).
Rounds alternate A B, B A (bench/abba.py) with B = a process that only
imports PySide6's widgets (the floor no Qt app goes below); every round's
seconds and ratio are printed with the load average, then the median and
spread.  Then ``--rss-runs`` processes show the window as a user gets it
(device forecast on), stay idle for ``--idle-seconds`` and print their
resident memory (VmRSS) and whether torch was imported.

    python bench/startup.py [--rounds 6] [--rss-runs 2] [--idle-seconds 10]
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
sys.path.insert(0, str(ROOT / "bench"))
from abba import abba, load_average, ratios, summary  # noqa: E402

START_TARGET_S = 1.5
RSS_TARGET_MB = 300

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

IDLE_CHILD = r"""
import sys, time, json
from gui.app import create_app, create_window
app = create_app([])
window = create_window(probe_device=True)
window.show()
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    app.processEvents()
    time.sleep(0.01)
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
print(json.dumps({"rss_mb": rss / 1024, "torch": "torch" in sys.modules}))
"""

BASELINE = "import PySide6.QtWidgets"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not env.get("DISPLAY") else "")
    env["LOOM_HOME"] = tempfile.mkdtemp(prefix="loom-startup-")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Starts:
    """The two measured processes; each returns 1/seconds (a rate, as bench/abba.py expects)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.torch_seen: list[bool] = []

    def app(self) -> float:
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=self.env, cwd=ROOT,
                             check=True)
        data = json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("{")))
        self.torch_seen.append(bool(data["torch"]))
        return 1.0 / (data["shown"] - t0)

    def baseline(self) -> float:
        t0 = time.time()
        subprocess.run([sys.executable, "-c", BASELINE], check=True, env=self.env, cwd=ROOT)
        return 1.0 / (time.time() - t0)


def idle_rss(env: dict[str, str], seconds: float) -> dict:
    out = subprocess.run([sys.executable, "-c", IDLE_CHILD, str(seconds)], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True)
    return json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("{")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="A B, then B A, ... (A = the app, B = PySide6 alone)")
    parser.add_argument("--rss-runs", type=int, default=2, help="idle-memory processes (0: skip)")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    env = child_env()
    starts = Starts(env)
    print(f"A = app start to window shown, B = python + PySide6 import alone; ratio = B's seconds / A's "
          f"({load_average()})")
    pairs = abba(starts.app, starts.baseline, args.rounds, show=lambda r: f"{1 / r:.2f} s")
    app_s = [1 / a for a, _ in pairs]
    for i, (a, b) in enumerate(pairs, 1):
        print(f"    round {i}: app {1 / a:.2f} s, PySide6 alone {1 / b:.2f} s")
    print(summary("PySide6-alone seconds / app seconds", ratios(pairs)))
    median = statistics.median(app_s)
    print(f"app start to window shown: median {median:.2f} s, per-round {min(app_s):.2f}..{max(app_s):.2f} s "
          f"(target <= {START_TARGET_S} s); torch imported before the window showed: "
          f"{'yes' if any(starts.torch_seen) else 'no'}")
    ok = median <= START_TARGET_S and not any(starts.torch_seen)
    rss = [idle_rss(env, args.idle_seconds) for _ in range(args.rss_runs)]
    for i, r in enumerate(rss, 1):
        print(f"  idle {i}: {r['rss_mb']:.0f} MB resident after {args.idle_seconds:g} s, torch imported: "
              f"{'yes' if r['torch'] else 'no'} ({load_average()})")
    if rss:
        worst = max(r["rss_mb"] for r in rss)
        print(f"idle app after {args.idle_seconds:g} s: at most {worst:.0f} MB resident (target < {RSS_TARGET_MB} MB)")
        ok = ok and worst < RSS_TARGET_MB and not any(r["torch"] for r in rss)
    print(f"targets (start <= {START_TARGET_S} s, no torch, idle < {RSS_TARGET_MB} MB): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
