"""Helpers for driving the app with real mouse events (tests, demos, screenshots).

Events are delivered with ``QApplication.sendEvent`` so they take the same
path as a user's: the widget's mouse handlers, the view's scene dispatch,
item hit-testing.  Kept in the package so other GUI code (the wizards) can
script the canvas the same way in its own tests.

Waiting: tests wait for *events* (a state, a signal, a task's end) and never
for a duration.  :data:`HANG_MS` is the one ceiling on such waits; it exists
only to turn a hang into a failure, so it is minutes, far beyond what any
step takes even on a busy 2-core machine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from gui.canvas.view import CanvasView


def mouse(widget: QWidget, kind: QEvent.Type, pos: QPoint, button=Qt.LeftButton, buttons=Qt.LeftButton) -> None:
    """Send one mouse event at widget-local ``pos``."""
    local = QPointF(pos)
    global_pos = QPointF(widget.mapToGlobal(pos))
    if kind == QEvent.MouseButtonRelease:
        buttons = Qt.NoButton
    if kind == QEvent.MouseMove:
        button = Qt.NoButton
    event = QMouseEvent(kind, local, global_pos, button, buttons, Qt.NoModifier)
    QApplication.sendEvent(widget, event)
    QApplication.processEvents()


def drag(widget: QWidget, start: QPoint, end: QPoint, steps: int = 6) -> None:
    """Press at ``start``, move in a few steps, release at ``end`` (all in ``widget`` coordinates)."""
    mouse(widget, QEvent.MouseButtonPress, start)
    for i in range(1, steps + 1):
        t = i / steps
        mouse(widget, QEvent.MouseMove, QPoint(round(start.x() + (end.x() - start.x()) * t),
                                               round(start.y() + (end.y() - start.y()) * t)))
    mouse(widget, QEvent.MouseButtonRelease, end)


def view_point(view: CanvasView, scene_point: QPointF) -> QPoint:
    """Viewport coordinates of a scene point (ports, node headers)."""
    return view.mapFromScene(scene_point)


def drag_step_to_canvas(window, step_type: str, canvas_point: QPoint) -> str | None:
    """Drag ``step_type`` from the palette to ``canvas_point`` (viewport coordinates); returns the new node id."""
    tree = window.palette_panel.tree
    item = window.palette_panel.item_for(step_type)
    if item is None:
        raise LookupError(f"no palette entry for {step_type!r}")
    tree.scrollToItem(item)
    start = tree.visualItemRect(item).center()
    before = {n.id for n in window.doc.workflow.nodes}
    target_global = window.view.viewport().mapToGlobal(canvas_point)
    end = tree.viewport().mapFromGlobal(target_global)
    drag(tree.viewport(), start, end)
    added = [n.id for n in window.doc.workflow.nodes if n.id not in before]
    return added[0] if added else None


def drag_port_to_port(window, source: tuple[str, str, bool], target: tuple[str, str, bool]) -> str:
    """Drag from one port to another: ``(node_id, port, is_output)`` each; returns the refusal or ''."""
    view = window.view
    a = window.scene.port(*source)
    b = window.scene.port(*target)
    if a is None or b is None:
        raise LookupError(f"no such port: {source if a is None else target}")
    view.last_refusal = ""
    drag(view.viewport(), view_point(view, a.scenePos()), view_point(view, b.scenePos()))
    return view.last_refusal


HANG_MS = 300_000  # a ceiling that only catches hangs: never a race against the machine's speed


def finish(qtbot, task: asyncio.Future, timeout: int = HANG_MS) -> Any:
    """Let Qt's loop run (which runs the GUI's coroutines, see gui.tasks) until ``task`` ends; its result."""
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


def stop_run(window, qtbot, timeout: int = HANG_MS) -> None:
    """Press Stop and wait until the run has ended (checkpoint saved, RunFinished delivered)."""
    window.stop_run()
    qtbot.waitUntil(lambda: not window.runs.active, timeout=timeout)


def make_window(qtbot, size: tuple[int, int] = (1400, 880)):
    """A shown MainWindow with its step catalogue loaded and every question answered 'Discard'/'Yes'."""
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow

    window = MainWindow(probe_device=False)
    window.ask = lambda title, text, buttons: QMessageBox.Yes if buttons & QMessageBox.Yes else QMessageBox.Discard
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.catalog.wait()
    qtbot.waitUntil(lambda: window.palette_panel.item_for("digits") is not None, timeout=HANG_MS)
    return window


def record_events(window) -> list:
    """Keep a copy of every engine event of the next run, as the engine emitted it (any thread)."""
    seen: list = []
    post = window.runs.bridge.post

    def tap(event) -> None:
        seen.append(event)
        post(event)

    window.runs.bridge.post = tap
    return seen


def stop_at_first_checkpoint(window) -> list:
    """Record the next run's events and stop it, on the engine's thread, when its first checkpoint is saved.

    The stop follows the engine's own event order (the first checkpoint artifact), never a timer, so the run
    has something to continue from however fast or slow the machine is.
    """
    import threading

    from engine import events as ev

    seen = record_events(window)
    post, once = window.runs.bridge.post, threading.Event()

    def tap(event) -> None:
        post(event)
        if isinstance(event, ev.ArtifactSaved) and event.kind == "checkpoint" and not once.is_set():
            once.set()
            window.runs.handle.stop()

    window.runs.bridge.post = tap
    return seen


def small_example(name: str, **params: dict):
    """An example workflow (``resources/examples/NAME.json``) with test-sized settings: same steps and links,
    ``params`` maps node id -> the params to change."""
    from engine.workflow import Workflow
    from gui.paths import examples_dir

    wf = Workflow.load(examples_dir() / f"{name}.json")
    for node_id, values in params.items():
        wf.node(node_id).params.update(values)
    return wf
