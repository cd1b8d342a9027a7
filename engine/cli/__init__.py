"""The ``loom`` command.

``loom`` alone opens the desktop app; ``loom COMMAND ...`` runs headless.
Each command lives in its own module of this package and exposes
``register(subparsers)``; modules are discovered, so a new command is a new
file.  Exit codes (a contract): 0 success, 1 failure during a run, 2 invalid
workflow or input, 130 interrupted.

No traceback reaches the terminal: bad input is one ``loom: ...`` line per
problem (exit 2), and anything unexpected is one ``loom: internal error``
line (exit 1) with the traceback saved in the run's log.txt or a crash file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import logging
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from engine.errors import UserInputError

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    from engine import __version__

    parser = argparse.ArgumentParser(
        prog="loom",
        description="Loom: train neural networks from workflow files. Run `loom` alone to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"loom {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import engine.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"engine.cli.{info.name}")
            if hasattr(module, "register"):
                module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None  # the `loom` script or `python -m engine.cli`, not a caller in this process
    argv = sys.argv[1:] if argv is None else argv
    if not argv or opens_in_app(argv):
        from gui.app import main as gui_main  # the only place the engine package names the GUI

        return gui_main(argv) if argv else gui_main()
    _quiet_logging()
    args = argparse.Namespace()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_INVALID
        code = int(args.handler(args) or 0)
        if from_command_line and getattr(args, "skip_teardown", False):
            exit_now(code)
        return code
    except UserInputError as exc:
        for line in str(exc).splitlines():
            print(f"loom: {line}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("loom: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `loom runs | head`: the reader left; not an error worth a word
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: one line, the traceback in a file
        handle = getattr(args, "handle", None)
        if handle is not None and handle.running:  # let a run still going end with a true record
            handle.stop()
            handle.wait(60)
        where = save_crash_report(exc, getattr(args, "log_file", None))
        text = " ".join(str(exc).split())
        text = text if len(text) <= 200 else text[:197] + "..."
        details = f" — details in {where}" if where else " — the details could not be saved"
        print(f"loom: internal error: {type(exc).__name__}: {text}{details}", file=sys.stderr)
        return EXIT_FAILED


def exit_now(code: int) -> None:
    """End the process with ``code`` at once, skipping the interpreter's teardown.

    With torch loaded, unloading it takes 0.2-1.5 s (C++ destructors, thread
    pools; measured on 2 busy cores) after the work is done, and a user waits
    for it at every ``loom run``.  Only called when that work is all on disk:
    the run has ended, its record and cache entries are written, no thread of
    ours is left.  Output and log handlers are flushed first.
    """
    with contextlib.suppress(Exception):
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def opens_in_app(argv: list[str]) -> bool:
    """``loom RUN_DIR`` (follow that run in the app) or ``loom FLOW.json`` (open it): one path, not a command."""
    if len(argv) != 1 or argv[0].startswith("-"):
        return False
    import engine.cli as package

    commands = {info.name.replace("_", "-") for info in pkgutil.iter_modules(package.__path__)}
    target = argv[0]
    return target not in commands and (target.endswith(".json") or os.sep in target or "/" in target
                                       or Path(target).exists())


def save_crash_report(exc: BaseException, log_file: Path | None) -> Path | None:
    """Write ``exc``'s traceback to the run's log.txt, else a crash file under the Loom home; returns where.

    Handlers that know their run folder set ``args.log_file``; other commands
    crash into ``$LOOM_HOME/crashes/crash-<time>.txt`` (the system temp folder
    if that cannot be written).
    """
    from engine.logfile import format_line
    from engine.run_index import loom_home

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidates = [Path(log_file)] if log_file else []
    candidates += [loom_home() / "crashes" / f"crash-{stamp}.txt",
                   Path(tempfile.gettempdir()) / f"loom-crash-{stamp}.txt"]
    for path in candidates:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as f:
                f.write(format_line(time.time(), "error", "", f"internal error: {type(exc).__name__}\n{text}"))
            return path
        except OSError:
            continue
    return None


class _OneLineHandler(logging.Handler):
    """Log records on the terminal as ``loom: warning: message``: one line, never a traceback.

    It looks up ``sys.stderr`` at each record (not once), so it follows
    redirections such as pytest's capture.
    """

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            text = record.getMessage()
            first = text.splitlines()[0] if text else ""
            sys.stderr.write(f"loom: {record.levelname.lower()}: {first}\n")


def _quiet_logging() -> None:
    root = logging.getLogger()
    if not any(isinstance(h, _OneLineHandler) for h in root.handlers):
        root.addHandler(_OneLineHandler(logging.WARNING))
        if root.level == logging.NOTSET or root.level > logging.WARNING:
            root.setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
