"""First launch on Linux (issue 17, item 8): when the libraries of Qt's xcb platform are missing,
``loom`` names them and the command that installs them, and exits 1 before Qt can abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui import xcb_check

ROOT = Path(__file__).resolve().parents[1]
X11 = {"DISPLAY": ":0"}


def absent(*sonames: str):
    return lambda soname: soname not in sonames


def test_missing_libraries_are_named_with_the_packages_and_the_install_command():
    message = xcb_check.check_platform(X11, absent("libxcb-icccm.so.4", "libxcb-keysyms.so.1"), "linux")
    assert "libxcb-icccm.so.4  (package libxcb-icccm4)" in message
    assert "libxcb-keysyms.so.1  (package libxcb-keysyms1)" in message
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert "libxcb-cursor" not in message.split("Install")[0]  # only what is missing is listed


def test_nothing_to_say_when_everything_is_there_or_xcb_is_not_used():
    nothing = absent("libxcb-cursor.so.0")
    assert xcb_check.check_platform(X11, lambda _s: True, "linux") == ""
    assert xcb_check.check_platform({"QT_QPA_PLATFORM": "offscreen"}, nothing, "linux") == ""
    assert xcb_check.check_platform({"QT_QPA_PLATFORM": "wayland"}, nothing, "linux") == ""
    assert xcb_check.check_platform({"WAYLAND_DISPLAY": "wayland-0"}, nothing, "linux") == ""
    assert xcb_check.check_platform(X11, nothing, "darwin") == ""
    assert xcb_check.check_platform({"QT_QPA_PLATFORM": "xcb"}, nothing, "linux") != ""


def test_no_display_is_said_in_words_too():
    message = xcb_check.check_platform({}, lambda _s: True, "linux")
    assert "needs a display" in message and "loom run" in message


def test_the_list_covers_what_the_issue_names():
    packages = set(xcb_check.XCB_LIBRARIES.values())
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
            "libxcb-shape0", "libxcb-xkb1", "libxkbcommon-x11-0"} <= packages


def test_the_loom_entry_exits_with_the_message_instead_of_qt_aborting():
    """The real entry (``loom`` with no arguments) in a fresh process, with two libraries made to be missing."""
    code = ("import gui.xcb_check as c\n"
            "c.library_present = lambda s: s not in ('libxcb-cursor.so.0', 'libxcb-xkb.so.1')\n"
            "from engine.cli import main\n"
            "raise SystemExit(main([]))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(X11, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr
    assert "sudo apt-get install libxcb-cursor0 libxcb-xkb1" in done.stderr
    assert "qt.qpa.plugin" not in done.stderr and "Reinstalling" not in done.stderr
    assert done.stdout == ""


def test_the_readme_install_line_covers_every_library_loom_checks() -> None:
    """The README's apt-get line installs every package whose library `loom` looks for (they cannot drift apart)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = readme[readme.index("sudo apt-get install"):].split("```")[0]
    assert set(xcb_check.XCB_LIBRARIES.values()) <= set(command.replace("\\", " ").split())
