"""Before Qt starts on Linux: are the system libraries of Qt's X11 (xcb) platform there?

The PySide6 wheel carries Qt but not the X11 client libraries its xcb
platform plugin links against.  On a bare Debian/Ubuntu (a container, a
minimal install) some are missing, and Qt then aborts with "Could not load the
Qt platform plugin "xcb" ... This application failed to start because no Qt
platform plugin could be initialized. Reinstalling the application may fix
this problem" — which sends people to reinstall Loom.  This module finds the
missing libraries first and says which ones and the command that installs
them.  It imports no Qt: it must run before the QApplication exists.

The list is what ``ldd PySide6/Qt/plugins/platforms/libqxcb.so`` and
``ldd PySide6/Qt/lib/libQt6XcbQpa.so.6`` name beyond libc, X11 and OpenGL
(PySide6 6.x), with the Debian/Ubuntu package that ships each file.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# soname -> Debian/Ubuntu package
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def library_present(soname: str) -> bool:
    """Whether the dynamic loader finds ``soname`` (the same search Qt's plugin load will do)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will start on the xcb platform: Linux, and neither another platform nor Wayland chosen.

    ``QT_QPA_PLATFORM=offscreen`` (tests, screenshots) or ``wayland`` needs none of these libraries; with no
    choice made in a Wayland session Qt may use Wayland, so nothing is refused there either.
    """
    if not platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0].strip() == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def missing_libraries(present: Callable[[str], bool] | None = None) -> dict[str, str]:
    """The xcb libraries the loader cannot find, soname -> package (``present`` defaults to the loader's view)."""
    present = present or library_present
    return {soname: package for soname, package in XCB_LIBRARIES.items() if not present(soname)}


def missing_message(missing: Mapping[str, str]) -> str:
    """What to tell the analyst: which files are missing, and the one command that installs them."""
    lines = ["loom: the desktop app cannot start: Qt's X11 (xcb) platform needs system libraries that are "
             "not installed:"]
    lines += [f"  {soname}  (package {package})" for soname, package in missing.items()]
    packages = " ".join(dict.fromkeys(missing.values()))
    lines += [
        "Install them, then start loom again:",
        f"  sudo apt-get install {packages}",
        "(Debian/Ubuntu package names; other distributions ship the same files, e.g. Fedora's xcb-util-wm,",
        " xcb-util-keysyms, xcb-util-cursor, xcb-util-image, xcb-util-renderutil, libxkbcommon-x11.)",
        "The command line (loom run, loom validate, ...) does not need them.",
    ]
    return "\n".join(lines)


def check_platform(env: Mapping[str, str] | None = None, present: Callable[[str], bool] | None = None,
                   platform: str = sys.platform) -> str:
    """Empty when Qt can start its platform here, else the message to print before exiting."""
    env = os.environ if env is None else env
    if not uses_xcb(env, platform):
        return ""
    missing = missing_libraries(present)
    if missing:
        return missing_message(missing)
    if not env.get("DISPLAY"):  # Qt's answer would be the same advice to reinstall
        return ("loom: the desktop app needs a display, and none is set (DISPLAY is empty): start loom from a "
                "desktop session or over `ssh -X`; on a server without one, use the command line "
                "(loom run WORKFLOW.json).")
    return ""
