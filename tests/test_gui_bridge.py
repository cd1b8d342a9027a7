"""The bridge moves engine events from any thread to the GUI thread, at most one batch per frame
(20 frames a second), keeping every metric point and only the newest progress per node; and the
window shows before torch is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from engine import events as ev  # noqa: E402
from gui.bridge import EventBridge, coalesce  # noqa: E402
from gui.testing import HANG_MS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_coalesce_keeps_points_and_the_newest_progress_per_node():
    events = [
        ev.Progress(node_id="a", fraction=0.1),
        ev.MetricPoint(node_id="a", name="loss", step=1, epoch=1, value=1.0),
        ev.Progress(node_id="b", fraction=0.5),
        ev.Progress(node_id="a", fraction=0.2),
        ev.MetricPoint(node_id="a", name="loss", step=2, epoch=1, value=0.9),
    ]
    kept = coalesce(events)
    assert [e for e in kept if isinstance(e, ev.MetricPoint)] == events[1::3]
    assert [(e.node_id, e.fraction) for e in kept if isinstance(e, ev.Progress)] == [("b", 0.5), ("a", 0.2)]


def test_a_flood_from_a_worker_thread_arrives_complete_at_most_one_batch_per_frame(qtbot):
    bridge = EventBridge(rate_hz=20)
    assert bridge.timer.interval() == 50  # a frame: 20 a second
    batches: list[tuple[list, int]] = []
    frames: list[int] = []
    bridge.timer.timeout.connect(lambda: frames.append(len(batches)))  # connected after flush: runs after it
    bridge.batch.connect(lambda events: batches.append((events, threading.get_ident())))
    bridge.start()
    n = 20000

    def flood() -> None:
        for i in range(n):
            bridge.post(ev.MetricPoint(node_id="t", name="loss", step=i, epoch=0, value=float(i)))
            bridge.post(ev.Progress(node_id="t", fraction=i / n))

    worker = threading.Thread(target=flood)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: sum(isinstance(e, ev.MetricPoint) for b, _ in batches for e in b) == n, timeout=HANG_MS)
    bridge.stop()
    steps = [e.step for b, _ in batches for e in b if isinstance(e, ev.MetricPoint)]
    assert steps == list(range(n))  # every point, in order
    assert {tid for _, tid in batches} == {threading.get_ident()}  # delivered on the GUI thread
    # Batches come only from frames, at most one per frame: after the k-th frame, at most k batches.
    assert all(delivered <= k for k, delivered in enumerate(frames, start=1))
    assert len(batches) <= len(frames)
    assert len(batches) < n / 100  # a flood of 40,000 events became a handful of redraws
    progress = sum(isinstance(e, ev.Progress) for b, _ in batches for e in b)
    assert progress <= len(batches)  # one progress per node per batch


def test_the_window_shows_before_torch_is_imported():
    child = (
        "import sys\n"
        "from gui.app import create_app, create_window\n"
        "app = create_app([])\n"
        "w = create_window(probe_device=False)\n"
        "w.show()\n"
        "app.processEvents()\n"
        "print('{\"visible\": %s, \"torch\": %s}' % (str(w.isVisible()).lower(), str('torch' in sys.modules).lower()))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=HANG_MS / 1000)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"visible": True, "torch": False}
