"""Menus, toolbar and shortcuts of the main window, in one table-like place."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QStyle

from gui.follow import follow_dialog

if TYPE_CHECKING:
    from gui.main_window import MainWindow


def build_actions(w: MainWindow) -> SimpleNamespace:
    style = w.style()

    def act(text: str, slot, shortcut=None, icon=None, tip: str = "") -> QAction:
        action = QAction(text, w)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(style.standardIcon(icon))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    a = SimpleNamespace()
    a.new = act("&New", w.new_workflow, QKeySequence.New, QStyle.SP_FileIcon, "Start an empty workflow")
    a.open = act("&Open…", w.open_dialog, QKeySequence.Open, QStyle.SP_DialogOpenButton, "Open a workflow file")
    a.save = act("&Save", w.save, QKeySequence.Save, QStyle.SP_DialogSaveButton, "Save the workflow")
    a.save_as = act("Save &As…", w.save_as, QKeySequence.SaveAs, None, "Save the workflow under a new name")
    a.open_run = act("Open &Run Folder…", w.past_runs.open_dialog, None, QStyle.SP_DirOpenIcon, "Show a finished run's dashboard")
    a.follow_run = act("&Follow Run Folder…", lambda: follow_dialog(w), None, None,
                       "Watch a run another process is writing (loom run, a cluster job) as it goes")
    a.quit = act("&Quit", w.close, QKeySequence.Quit)
    a.undo = w.doc.undo_stack.createUndoAction(w, "&Undo")
    a.undo.setShortcut(QKeySequence.Undo)
    a.undo.setIcon(style.standardIcon(QStyle.SP_ArrowBack))
    a.redo = w.doc.undo_stack.createRedoAction(w, "&Redo")
    a.redo.setShortcut(QKeySequence.Redo)
    a.redo.setIcon(style.standardIcon(QStyle.SP_ArrowForward))
    a.cut = act("Cu&t", w.cut, QKeySequence.Cut)
    a.copy = act("&Copy", w.copy, QKeySequence.Copy)
    a.paste = act("&Paste", w.paste, QKeySequence.Paste)
    a.duplicate = act("D&uplicate", w.duplicate, "Ctrl+D")
    a.delete = act("&Delete", w.delete_selection, QKeySequence.Delete)
    a.delete.setShortcuts([QKeySequence(QKeySequence.Delete), QKeySequence("Backspace")])
    a.select_all = act("Select &All", w.select_all, QKeySequence.SelectAll)
    a.tidy = act("&Tidy Layout", w.tidy_layout, "Ctrl+L", None, "Arrange the steps left to right")
    a.fit = act("&Fit to Window", w.view.fit_all, "Ctrl+0", None, "Show the whole workflow")
    a.zoom_in = act("Zoom &In", lambda: w.view.zoom_by(1.25), QKeySequence.ZoomIn)
    a.zoom_out = act("Zoom &Out", lambda: w.view.zoom_by(0.8), QKeySequence.ZoomOut)
    a.run = act("&Run", w.start_run, "F5", QStyle.SP_MediaPlay, "Validate and run the workflow")
    a.pause = act("&Pause", w.toggle_pause, "F6", QStyle.SP_MediaPause, "Pause or resume the run")
    a.pause.setCheckable(True)
    a.stop = act("&Stop", w.stop_run, "Shift+F5", QStyle.SP_MediaStop, "Stop the run (keeps the last checkpoint)")
    a.continue_run = act("&Continue from Checkpoint…", w.continue_dialog, None, None,
                         "Continue a stopped or crashed run from its last checkpoint, in its own folder")
    a.run_settings = act("Run Se&ttings…", w.open_run_settings, None, None,
                         "Processes on this computer, and the commands that run this workflow on a cluster")
    a.add_to_queue = act("Add to &Queue", lambda: w.queue.add_current(), "Ctrl+Shift+Q", None,
                         "Line up the workflow as it is now: it runs when the runs before it have finished")
    themes = QActionGroup(w)
    a.light = act("&Light", lambda: w.set_theme("light"))
    a.dark = act("&Dark", lambda: w.set_theme("dark"))
    for theme_action in (a.light, a.dark):
        theme_action.setCheckable(True)
        themes.addAction(theme_action)

    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    for x in (a.new, a.open):
        file_menu.addAction(x)
    a.recent_menu = file_menu.addMenu("Open &Recent")
    a.examples_menu = file_menu.addMenu("&Examples")
    file_menu.addSeparator()
    for x in (a.save, a.save_as):
        file_menu.addAction(x)
    file_menu.addSeparator()
    file_menu.addAction(a.open_run)
    file_menu.addAction(a.follow_run)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit = bar.addMenu("&Edit")
    for x in (a.undo, a.redo, None, a.cut, a.copy, a.paste, a.duplicate, a.delete, None, a.select_all, a.tidy):
        edit.addSeparator() if x is None else edit.addAction(x)
    run = bar.addMenu("&Run")
    for x in (a.run, a.pause, a.stop, None, a.add_to_queue, a.continue_run, None, a.run_settings):
        run.addSeparator() if x is None else run.addAction(x)
    view = bar.addMenu("&View")
    for x in (a.fit, a.zoom_in, a.zoom_out):
        view.addAction(x)
    view.addSeparator()
    theme_menu = view.addMenu("&Theme")
    theme_menu.addAction(a.light)
    theme_menu.addAction(a.dark)
    a.panels_menu = view.addMenu("&Panels")

    tools = w.addToolBar("Main")
    tools.setObjectName("main-toolbar")
    for x in (a.new, a.open, a.save, None, a.undo, a.redo, None, a.run, a.pause, a.stop, None, a.fit, a.tidy):
        tools.addSeparator() if x is None else tools.addAction(x)
    return a
