"""`loom steps [--json]`: every step type, generated from the declarations."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("steps", help="list the step types and their parameters")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("type", nargs="?", help="show only this step type")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.steps.registry import all_steps

    specs = [s for s in all_steps() if not args.type or s.type == args.type]
    if args.type and not specs:
        raise UserInputError(f"no step type '{args.type}' — run `loom steps` for the list")
    if args.json:
        print(json.dumps([s.to_json() for s in specs], indent=2))
        return 0
    category = None
    for spec in specs:
        if spec.category != category:
            category = spec.category
            print(f"\n[{category}]")
        ins = ", ".join(f"{p.name}:{p.type}" for p in spec.inputs) or "-"
        outs = ", ".join(f"{p.name}:{p.type}" for p in spec.outputs) or "-"
        print(f"  {spec.type:18s} {spec.title} — {spec.description}")
        print(f"  {'':18s} in: {ins}   out: {outs}")
        for p in spec.params:
            unit = f" {p.unit}" if p.unit else ""
            print(f"  {'':18s}   {p.name} = {p.default!r}{unit}  ({p.describe_range()}) {p.help}")
    return 0
