"""The ``loom`` command.

``loom`` alone opens the desktop app; ``loom COMMAND ...`` runs headless.
Each command lives in its own module of this package and exposes
``register(subparsers)``; modules are discovered, so a new command is a new
file.  Exit codes (a contract): 0 success, 1 failure during a run, 2 invalid
workflow or input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

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
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from gui.app import main as gui_main  # the only place the engine package names the GUI

        return gui_main()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_INVALID
    from engine.errors import UserInputError

    try:
        return int(args.handler(args) or 0)
    except UserInputError as exc:
        for line in str(exc).splitlines():
            print(f"loom: {line}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("loom: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
