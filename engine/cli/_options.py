"""Options several commands share, declared once so their names, forms and defaults never drift apart."""

from __future__ import annotations

import argparse

from engine.device import DEVICE_CHOICES


def add_set_option(p: argparse.ArgumentParser, help: str = "override a parameter, e.g. --set train.epochs=5") -> None:  # noqa: A002
    """``--set NODE.PARAM=VALUE`` (repeatable), collected in ``args.overrides``."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                   help=f"{help} (repeatable)")


def add_device_option(p: argparse.ArgumentParser, what: str = "where to train") -> None:
    """``--device auto|cpu|cuda|mps`` (default auto)."""
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help=f"{what} (default: auto)")
