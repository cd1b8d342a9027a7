"""Event-loop stalls of the desktop app while a model trains and the dashboard updates.

A 10 ms ``Qt.PreciseTimer`` runs on the GUI thread; every tick records how
late it fired.  Lateness is measured twice, side by side in one process: with
the window idle, then while the engine trains ``gan_digits.json`` on its
worker thread and the dashboard draws every event (curves, sample grids,
text samples, progress, log, node badges).  Targets: p99 <= 30 ms and max <= 100 ms.
The training time is cut into ``--windows`` consecutive windows, each printed
with the load average, then the median and spread of their p99 (no best
window is picked; the overall figures count every tick).

    python bench/gui_responsiveness.py [--seconds 30] [--windows 3] [--set train.batch_size=32 ...]
        [--workflow resources/examples/lm_python_docs.json] [--screenshots resources/screenshots]

With ``--screenshots`` it also saves the main window, light and dark, at the
end of the measured run (the README's screenshots).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "")

TICK_MS = 10


def measure(app, seconds: float) -> list[float]:
    """Lateness (ms) of each tick of a 10 ms precise timer over ``seconds``."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append(max(0.0, (now - last[0]) * 1000 - TICK_MS))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    last[0] = time.perf_counter()
    timer.start()
    loop.exec()
    timer.stop()
    return late


def wait_until(app, condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    return condition()


def load_text() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def summary(late: list[float]) -> dict[str, float]:
    ordered = sorted(late)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"ticks": len(late), "p50": statistics.median(ordered), "p99": p(0.99), "max": ordered[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured training time")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="idle baseline time")
    parser.add_argument("--windows", type=int, default=3, help="measured windows the training time is cut into")
    parser.add_argument("--workflow", default=str(ROOT / "resources" / "examples" / "gan_digits.json"))
    parser.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE")
    parser.add_argument("--screenshots", help="folder for gan_run_light.png / gan_run_dark.png (<workflow>_run_*.png for others)")
    args = parser.parse_args()

    import tempfile

    home = Path(tempfile.mkdtemp(prefix="loom-bench-"))
    os.environ.setdefault("LOOM_HOME", str(home))
    os.environ.setdefault("LOOM_CACHE_DIR", str(home / "cache"))
    from gui.app import create_app
    from gui.main_window import MainWindow

    app = create_app([])
    window = MainWindow(probe_device=False)
    window.resize(1400, 880)
    window.show()
    window.catalog.wait()
    app.processEvents()
    window.dashboard.curves.warm_up()

    from engine.validation import apply_overrides
    from engine.workflow import Workflow

    wf = Workflow.load(args.workflow)
    problems = apply_overrides(wf, ["train.epochs=1000", *args.set])
    if problems:
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        return 2
    window.load_workflow(wf)
    idle = summary(measure(app, args.idle_seconds))
    handler_ms: list[float] = []
    draw = window._on_events

    def timed(events: list) -> None:  # how long the GUI spends drawing each batch
        t = time.perf_counter()
        draw(events)
        handler_ms.append((time.perf_counter() - t) * 1000)

    window.runs.events.disconnect(draw)
    window.runs.events.connect(timed)

    handle = window.start_run(out_dir=home / "run")
    if handle is None:
        print("the workflow did not start (see the log)", file=sys.stderr)
        return 2
    series = lambda: window.dashboard.curves.series  # noqa: E731
    if not wait_until(app, lambda: len(series()) > 0, 300):
        print("no metrics within 300 s", file=sys.stderr)
        return 1
    first = {key: s.n for key, s in series().items()}
    batches0, events0 = window.runs.bridge.batches_emitted, window.runs.bridge.events_received
    images0 = len(window.dashboard.preview.frames())
    texts0 = sum(len(frames) for frames in window.dashboard.texts.streams.values())
    t0 = time.perf_counter()
    handler_ms.clear()
    windows = []
    for _ in range(max(1, args.windows)):
        late = measure(app, args.seconds / max(1, args.windows))
        windows.append((summary(late), late, load_text()))
    busy = summary([t for _, late, _ in windows for t in late])
    drawing = sorted(handler_ms) or [0.0]
    elapsed = time.perf_counter() - t0
    metric_points = sum(s.n - first.get(key, 0) for key, s in series().items())
    redraws = window.runs.bridge.batches_emitted - batches0
    events = window.runs.bridge.events_received - events0
    images = len(window.dashboard.preview.frames()) - images0
    texts = sum(len(frames) for frames in window.dashboard.texts.streams.values()) - texts0

    if args.screenshots:
        folder = Path(args.screenshots)
        folder.mkdir(parents=True, exist_ok=True)
        for theme in ("light", "dark"):
            window.set_theme(theme)
            app.processEvents()
            stem = Path(args.workflow).stem
            name = "gan_run" if stem == "gan_digits" else f"{stem}_run"
            window.grab().save(str(folder / f"{name}_{theme}.png"))
        window.set_theme("light")
    t_stop = time.perf_counter()
    window.stop_run()
    wait_until(app, lambda: not window.runs.active, 300)
    stop_s = time.perf_counter() - t_stop

    cores = os.cpu_count()
    load = load_text()
    print(f"GUI responsiveness ({cores} cores, load average {load}, {args.workflow.split('/')[-1]}, "
          f"{elapsed:.1f} s measured)")
    print(f"{'':22s}{'ticks':>8s}{'p50 ms':>9s}{'p99 ms':>9s}{'max ms':>9s}")
    for label, s in (("idle window", idle), ("training + dashboard", busy)):
        print(f"{label:22s}{s['ticks']:8d}{s['p50']:9.1f}{s['p99']:9.1f}{s['max']:9.1f}")
    for i, (w, _, load_at) in enumerate(windows, 1):
        print(f"{f'  window {i}':22s}{w['ticks']:8d}{w['p50']:9.1f}{w['p99']:9.1f}{w['max']:9.1f}  (load {load_at})")
    p99s = [w["p99"] for w, _, _ in windows]
    print(f"p99 over {len(windows)} windows: median {statistics.median(p99s):.1f} ms, per-window "
          f"{min(p99s):.1f}..{max(p99s):.1f} ms")
    print(f"while training: {events} engine events -> {redraws} GUI batches ({redraws / elapsed:.1f}/s), "
          f"{metric_points} metric points drawn, {images} sample grids and {texts} text samples shown")
    print(f"GUI time per batch (dashboard + canvas): median {statistics.median(drawing):.1f} ms, "
          f"max {drawing[-1]:.1f} ms; the rest of any stall is CPU/GIL contention with training")
    print(f"stop answered in {stop_s:.2f} s (status: {window.runs.last_status})")
    ok = busy["p99"] <= 30 and busy["max"] <= 100
    print(f"target p99 <= 30 ms and max <= 100 ms: {'met' if ok else 'NOT met'}")
    window.doc.undo_stack.setClean()
    window.close()  # the run has ended, and the window knows it: no "A run is in progress" question
    if window.isVisible():
        print("the window did not close", file=sys.stderr)
        return 1
    from gui import tasks

    tasks.shutdown()  # as the app does when its loop ends: nothing left to cancel at interpreter exit
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
