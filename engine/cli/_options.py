"""Options several commands share, declared once so their names, forms and defaults never drift apart."""

from __future__ import annotations

import argparse
import logging

from engine.device import DEVICE_CHOICES


def add_set_option(p: argparse.ArgumentParser, help: str = "override a parameter, e.g. --set train.epochs=5") -> None:  # noqa: A002
    """``--set NODE.PARAM=VALUE`` (repeatable), collected in ``args.overrides``."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                   help=f"{help} (repeatable)")


def add_device_option(p: argparse.ArgumentParser, what: str = "where to train") -> None:
    """``--device auto|cpu|cuda|mps`` (default auto)."""
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help=f"{what} (default: auto)")


def _thread_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of threads") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} threads: use 1 or more")
    return value


def add_threads_option(p: argparse.ArgumentParser) -> None:
    """``--threads N``: torch's CPU threads; default: the count measured fastest here (see engine.threads)."""
    p.add_argument("--threads", type=_thread_count, metavar="N",
                   help="CPU threads torch trains with (default: the count measured fastest on this machine, "
                        "measured once and kept in $LOOM_HOME/threads.json; OMP_NUM_THREADS is respected)")


def apply_threads(args: argparse.Namespace) -> None:
    """Set this process's thread count from ``--threads`` or the machine's measured best (the run records why)."""
    from engine import threads
    from engine.run_index import loom_home

    choice = threads.for_the_cli(getattr(args, "threads", None), loom_home())
    if choice is not None:
        threads.apply(choice)
        if choice.oversubscribed:
            logging.getLogger("loom").warning("%s", choice.reason)
