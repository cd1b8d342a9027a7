"""`loom sweep FLOW.json --param NODE.PARAM=SPEC ... --trials N`: search settings, each trial an ordinary run.

One line per trial on stdout as it ends (number, state, value, settings,
run folder); at the end the best trial, its settings and the ``loom run``
line that re-runs it.  The study lives in SQLite (default
``$LOOM_HOME/sweeps.db``): the same command again continues it, and several
processes on one storage share its trials.  Ctrl-C stops the current trial
cleanly (its run folder says *stopped*; the study runs another in its place
next time) and exits 130.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from engine.cli._options import add_device_option, add_set_option, add_threads_option, apply_threads

SAMPLERS = ("tpe", "random", "grid")  # engine.sweep.SAMPLERS, spelled here so `loom --help` imports nothing more
PRUNERS = ("median", "none")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="search a workflow's settings (Optuna); each trial is a run")
    p.add_argument("workflow", help="the workflow JSON file")
    p.add_argument("--param", dest="params", action="append", default=[], metavar="NODE.PARAM=SPEC",
                   help="a parameter to search (repeatable): LO..HI, log:LO..HI or A,B,C — e.g. "
                   "train.lr=log:1e-4..1e-1, train.batch_size=32,64,128, model.width=16..64")
    p.add_argument("--trials", type=int, default=20, help="finished trials the study should have in all, "
                   "counting earlier runs of the same study and other processes on it (default: 20)")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="tpe (Bayesian, default), random, or grid "
                   "(every combination; only lists and small whole-number ranges)")
    p.add_argument("--prune", choices=PRUNERS, default="median", help="median: stop a trial whose per-epoch "
                   "metric is below the median of earlier trials at that epoch (default); none: run every trial "
                   "to the end")
    p.add_argument("--metric", default="val_accuracy", help="what to optimise (default: val_accuracy); each "
                   "trial's value is its best epoch's")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--maximize", dest="maximize", action="store_true", default=None,
                           help="higher is better (the default, except for losses)")
    direction.add_argument("--minimize", dest="maximize", action="store_false", help="lower is better")
    p.add_argument("--study", default="", help="the study's name (default: from the workflow's name)")
    p.add_argument("--storage", default="", help="an Optuna storage URL (default: sqlite:///$LOOM_HOME/sweeps.db)")
    add_device_option(p)
    add_threads_option(p)
    add_set_option(p, "fix a parameter for every trial, e.g. --set train.epochs=5")
    p.add_argument("--no-cache", action="store_true", help="recompute every node in every trial")
    p.set_defaults(handler=run)


def describe(row: Any, metric: str) -> str:
    """One trial as one line: ``trial 3  complete  val_accuracy 0.9512 (5 epochs)  train.lr=0.0031 ...``."""
    value = f"{metric} {row.value:.4f}" if row.value is not None else f"{metric} -"
    settings = "  ".join(f"{k}={_short(v)}" for k, v in row.params.items())
    extra = f" — {row.message}" if row.message else ""
    return f"trial {row.number:3d}  {row.state:8s}  {value} ({row.epochs} epochs)  {settings}{extra}"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
    from engine.cli.validate import load_checked
    from engine.errors import UserInputError
    from engine.sweep import SweepConfig, SweepFailed, default_maximize, parse_sweep_param, run_sweep
    from engine.sweep.trials import check_config
    from engine.sweep.view import rerun_command

    wf = load_checked(args.workflow, args.overrides)
    apply_threads(args)
    if not args.params:
        raise UserInputError("nothing to search — give at least one --param NODE.PARAM=SPEC, e.g. "
                             "--param train.lr=log:1e-4..1e-1")
    params = [parse_sweep_param(text, wf) for text in args.params]
    maximize = default_maximize(args.metric) if args.maximize is None else args.maximize
    config = SweepConfig(wf, params, trials=args.trials, sampler=args.sampler, prune=args.prune,
                         metric=args.metric, maximize=maximize, study=args.study, storage=args.storage,
                         device=args.device, disk_cache=not args.no_cache)
    check_config(config)  # every bad input is one line before anything is printed or stored
    header = (f"study '{config.study_name}' in {config.storage_url}: {args.trials} trials, "
              f"{'maximize' if maximize else 'minimize'} {args.metric}, sampler {args.sampler}, prune {args.prune}")
    stop = threading.Event()

    def on_sigint(signum, frame):  # noqa: ANN001
        if not stop.is_set():
            stop.set()
            print("\nloom: stopping the current trial (Ctrl-C again is ignored)", file=sys.stderr)

    def on_trial(row: Any) -> None:
        nonlocal header
        if header:  # said once the study is open, so a refused study is one line, not two
            print(header, file=sys.stderr)
            header = ""
        if row.state == "running":
            print(f"trial {row.number:3d}  running   -> {row.run_dir}", file=sys.stderr, flush=True)
        else:
            print(describe(row, args.metric), flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        view = run_sweep(config, on_trial=on_trial, stop=stop)
    except SweepFailed as exc:
        print(f"loom: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
    finished = view.finished()
    print(f"study '{view.name}': {finished} of {args.trials} trials finished "
          f"({sum(t.state == 'pruned' for t in view.trials)} pruned, "
          f"{sum(t.state == 'failed' for t in view.trials)} failed)")
    best = view.best
    if best is not None:
        print(f"best: trial {best.number}, {args.metric} {best.value:.4f} — {best.run_dir}")
        print("settings: " + ", ".join(f"{k}={_short(v)}" for k, v in best.params.items()))
        print("re-run it: " + rerun_command(args.workflow, best, args.overrides))
    if stop.is_set():
        return EXIT_INTERRUPTED
    if best is None:
        print("loom: no trial completed — see the failed trials' run folders", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
