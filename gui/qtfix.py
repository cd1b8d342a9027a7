"""Work-around for a reference-counting defect of the installed Qt binding.

PySide6/shiboken 6.12.0 hand ``None`` (from every void method and every
Python override Qt calls back, e.g. ``paint``) and ``True`` (from
``Signal.emit``) to Python without taking a reference.  On Python 3.12+ these
singletons are immortal, so the defect is invisible there; on Python 3.11
each call steals one reference, and after a few thousand calls the
interpreter aborts with "none_dealloc: deallocating None" (or bool_dealloc).

:func:`apply` detects the defect and, only then and only on an interpreter
without immortal objects, does what Python 3.12 does: it gives ``None``,
``True`` and ``False`` a reference count so large that no run of the app
could ever use it up (2**60 steals at a million a second is 36,000 years).
Nothing else changes; on a fixed binding nothing is touched.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)
HEADROOM = 1 << 60
_applied = False


def binding_steals_references() -> bool:
    """True when void Qt calls or signal emits take a reference they never gave."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(16):
        probe.setObjectName("probe")  # void: returns None
        probe.ping.emit()  # returns True
    stolen = (none_before - sys.getrefcount(None)) + (true_before - sys.getrefcount(True))
    if stolen > 0:  # give back exactly what the probe took
        for obj in (None, True):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
        _add_references(None, none_before - sys.getrefcount(None))
        _add_references(True, true_before - sys.getrefcount(True))
    return stolen >= 16


def _add_references(obj: object, count: int) -> None:
    if count > 0:
        ctypes.c_ssize_t.from_address(id(obj)).value += count  # ob_refcnt is the first field


def apply() -> bool:
    """Make the singletons effectively immortal where the defect is present; returns whether it did."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False  # immortal objects already (or a debug build, whose layout differs)
    if not binding_steals_references():
        return False
    for obj in (None, True, False):
        _add_references(obj, HEADROOM)
    _applied = True
    log.debug("PySide6 reference defect detected: None/True/False made effectively immortal")
    return True
