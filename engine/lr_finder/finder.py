"""``find_lr``: the learning-rate range test of one train step, start to suggestion.

What it writes: nothing that lasts.  The steps upstream of the train node
write their side files into a temporary folder that is deleted at the end,
the model trained is a throw-away built from the model node's spec, and no
run folder or index entry is made: the test is advice shown before anything
is applied, not a run to keep (a hundred finder runs would bury the real
ones in the history).  The one lasting effect is welcome: the data it
prepared is in the node cache for the next run.  The curve goes to a CSV
only when asked (``loom find-lr --out``).
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine import events as ev
from engine.cache import NodeCache
from engine.context import RunControl, StepContext
from engine.errors import UserInputError
from engine.lr_finder.curve import DEFAULT_BETA, Smoother, has_diverged, lr_ramp, round_lr, suggest
from engine.lr_finder.trainers import SUPPORTED, RangeTrainer, make_trainer
from engine.lr_finder.upstream import feeding, node_inputs
from engine.params import Param
from engine.steps.registry import get_step
from engine.validation import resolved_params
from engine.workflow import Workflow

PARAM = "lr"
METHODS = {"steepest": "where the smoothed loss falls fastest",
           "minimum/10": "a tenth of the rate with the lowest loss (the loss never fell steeply)"}


@dataclass(frozen=True)
class LrFinderResult:
    """The curve of a range test and what it suggests for ``node.param``."""

    node: str
    param: str
    lrs: list[float]
    losses: list[float]  # raw, one per batch
    smoothed: list[float]
    suggestion: float  # rounded to two significant digits, inside the param's range
    method: str  # a key of METHODS
    min_loss_lr: float  # the rate where the smoothed loss was lowest
    diverged_at: float | None  # the rate at which the test stopped because the loss blew up; None: the range ended
    current: float  # the node's learning rate now

    @property
    def key(self) -> str:
        return f"{self.node}.{self.param}"

    @property
    def set_arg(self) -> str:
        """The ``--set`` argument that applies the suggestion."""
        return f"{self.key}={self.suggestion:g}"

    def describe(self) -> str:
        """One sentence: the suggestion, how it was found, and where the test ended."""
        end = (f"the loss diverged at {self.diverged_at:.2g}" if self.diverged_at is not None
               else f"the range ended at {self.lrs[-1]:.2g}")
        return (f"suggested {self.key} = {self.suggestion:g} ({METHODS[self.method]}; lowest loss at "
                f"{self.min_loss_lr:.2g}; {end}; now {self.current:g})")

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", "lr", "loss", "smoothed_loss"])
        for i, (lr, loss, sm) in enumerate(zip(self.lrs, self.losses, self.smoothed, strict=True)):
            writer.writerow([i, f"{lr:.6g}", f"{loss:.6g}", f"{sm:.6g}"])
        return out.getvalue()


def train_nodes(workflow: Workflow) -> list[str]:
    """The nodes the finder can advise, in file order."""
    return [n.id for n in workflow.nodes if n.type in SUPPORTED]


def pick_node(workflow: Workflow, node_id: str | None) -> str:
    """``node_id`` when the finder supports it; without one, the only supported train node (or ``train``)."""
    kinds = " or ".join(f"'{t}' ({what})" for t, what in SUPPORTED.items())
    candidates = train_nodes(workflow)
    if node_id is None:
        if len(candidates) == 1 or "train" in candidates:
            return candidates[0] if len(candidates) == 1 else "train"
        if not candidates:
            raise UserInputError(f"{workflow.name}: no train step the learning-rate finder works on — it needs a "
                                 f"{kinds} step")
        raise UserInputError(f"{workflow.name}: several train steps ({', '.join(candidates)}) — pick one with "
                             "--node")
    node = workflow.node(node_id)
    if node is None:
        raise UserInputError(f"--node {node_id}: {workflow.missing_node(node_id)}")
    if node.type not in SUPPORTED:
        raise UserInputError(f"--node {node_id}: is a step of type '{node.type}' — the learning-rate finder works on {kinds} "
                             "steps" + (f" (here: {', '.join(candidates)})" if candidates else ""))
    return node_id


def check_range(start_lr: float, end_lr: float, steps: int) -> None:
    if not (math.isfinite(start_lr) and start_lr > 0):
        raise UserInputError(f"--start-lr {start_lr}: must be a positive number, e.g. 1e-7")
    if not (math.isfinite(end_lr) and end_lr > start_lr):
        raise UserInputError(f"--end-lr {end_lr}: must be larger than --start-lr {start_lr:g}, e.g. 10")
    if steps < 10:
        raise UserInputError(f"--steps {steps}: at least 10 batches are needed to draw a curve (100 is usual)")


def find_lr(
    workflow: Workflow,
    node: str | None = None,
    *,
    device: str = "auto",
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    steps: int = 100,
    beta: float = DEFAULT_BETA,
    cache: NodeCache | None = None,
    control: RunControl | None = None,
    on_event: ev.Subscriber | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> LrFinderResult:
    """Run the range test on ``node`` (default: the workflow's train step) and suggest a learning rate.

    ``cache`` is the session's node cache (the app passes its engine's, so the
    data comes from the last run); ``control.stop()`` ends the test between
    batches with :class:`engine.errors.RunStopped`.  Raises
    :class:`engine.refusal.WorkflowInvalid` for a workflow whose part that
    feeds the node has problems, :class:`UserInputError` for other bad input.
    """
    from engine.device import select_device
    from engine.preflight import preflight
    from engine.refusal import WorkflowInvalid
    from engine.training.checkpoint import capture_rng, restore_rng
    from engine.validation import validate

    node_id = pick_node(workflow, node)
    check_range(start_lr, end_lr, steps)
    sub = feeding(workflow, node_id)
    problems = validate(sub)
    problems += preflight(sub, skip={p.node_id for p in problems})
    if problems:
        raise WorkflowInvalid(problems)
    control = control or RunControl()
    bus = ev.EventBus()
    if on_event is not None:
        bus.subscribe(on_event)
    if cache is None:
        from engine.cache import default_cache_dir

        cache = NodeCache(disk_dir=default_cache_dir())
    run_device, _ = select_device(device)
    inputs = node_inputs(workflow, node_id, run_device, cache, bus, control)
    train = workflow.node(node_id)
    assert train is not None
    spec = get_step(train.type)
    assert spec is not None
    params = resolved_params(spec, train.params)
    step_device = select_device(params["device"])[0] if params.get("device", "auto") != "auto" else run_device
    ramp = lr_ramp(start_lr, end_lr, steps)
    rng = capture_rng()  # the test seeds the RNGs as training does; whoever called keeps their sequence
    try:
        with tempfile.TemporaryDirectory(prefix="loom-lr-finder-") as scratch:
            ctx = StepContext(node_id, params, inputs, step_device, Path(scratch), bus, control)
            curve = _range_test(make_trainer(train.type, ctx, Path(scratch)), ctx, ramp, beta, on_progress)
    finally:
        restore_rng(rng)
    return _result(node_id, spec.param(PARAM), params[PARAM], *curve)


def _range_test(trainer: RangeTrainer, ctx: StepContext, ramp: list[float], beta: float,
                on_progress: Callable[[float], None] | None) -> tuple[list[float], list[float], list[float], float | None]:
    """Train one batch per rate of ``ramp`` until it ends or the loss diverges: (lrs, losses, smoothed, diverged_at)."""
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    diverged_at: float | None = None
    smoother, best = Smoother(beta), math.inf
    batches = trainer.batches()
    for i, lr in enumerate(ramp):
        ctx.check()
        loss = trainer.step(next(batches), lr, i)
        if not math.isfinite(loss):
            diverged_at = lr
            break
        value = smoother.add(loss)
        lrs.append(lr)
        losses.append(loss)
        smoothed.append(value)
        if i > 0 and has_diverged(value, best):
            diverged_at = lr
            break
        best = min(best, value)
        if on_progress is not None:
            on_progress((i + 1) / len(ramp))
    if len(lrs) < 3:
        raise UserInputError(f"node '{ctx.node_id}': the loss diverged at once (at a learning rate of "
                             f"{ramp[0]:.2g}) — lower the start of the range (--start-lr) or check the data")
    return lrs, losses, smoothed, diverged_at


def _result(node_id: str, decl: Param | None, current: float, lrs: list[float], losses: list[float], smoothed: list[float],
            diverged_at: float | None) -> LrFinderResult:
    lr, method = suggest(lrs, smoothed)
    low = decl.minimum if decl is not None and decl.minimum is not None else 0.0
    high = decl.maximum if decl is not None and decl.maximum is not None else math.inf
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__)
    return LrFinderResult(node=node_id, param=PARAM, lrs=lrs, losses=losses, smoothed=smoothed,
                          suggestion=min(max(round_lr(lr), low), high), method=method, min_loss_lr=lrs[lowest],
                          diverged_at=diverged_at, current=float(current))
