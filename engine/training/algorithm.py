"""What one kind of training supplies to the loop driver.

:class:`engine.training.loop.TrainingLoop` owns everything every algorithm
needs alike (position, clock and budget, stop and pause, checkpoints, exact
resume, divergence, progress and metric events, curve rewind).  An
:class:`Algorithm` supplies only what is its own:

* ``setup`` builds its modules and optimisers (after the driver seeded the RNGs);
* ``objects`` names the things with a ``state_dict`` that a checkpoint keeps;
* ``train_step`` trains on one batch and returns the values of ``metrics``;
* hooks at epoch end (validation, early stopping), at each step (previews),
  at checkpoints (side files), on stop, and at the end (``result``).

The defaults batch a :class:`engine.data.datasets.TensorDataset` by the
driver's seeded permutation, so a simple algorithm writes about thirty lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from engine.data.datasets import TensorDataset
    from engine.training.checkpoint import Position
    from engine.training.loop import TrainingLoop


@dataclass(frozen=True)
class Outcome:
    """How a training loop ended: ``reason`` is finished | time_budget | early_stopping | already_finished."""

    reason: str
    position: Position
    seconds: float  # training time of the whole run, resumed sessions included


class Algorithm:
    """Base class with sensible defaults; override what applies."""

    #: names of the values ``train_step`` returns, in order (reported as metrics every step)
    metrics: tuple[str, ...] = ("loss",)
    #: the losses watched for explosions (every metric is checked for NaN/inf); default: the first metric
    losses: tuple[str, ...] | None = None
    # The data the default batching reads; subclasses set these in ``__init__``.
    data: TensorDataset
    split: str = "train"
    batch_size: int = 64
    drop_last: bool = False
    #: set by the driver before ``setup``
    loop: TrainingLoop

    # -- what the algorithm is made of ---------------------------------------------
    def setup(self, loop: TrainingLoop) -> None:
        """Build modules and optimisers on ``loop.device``; the RNGs are already seeded."""

    def objects(self) -> dict[str, Any]:
        """Things with ``state_dict``/``load_state_dict`` a checkpoint keeps, by name."""
        return {}

    def state(self) -> dict[str, Any]:
        """Plain values (and tensors) of its own a checkpoint keeps; keys must not clash with ``objects``."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state` returned (the whole checkpoint is passed)."""

    def describe(self) -> str:
        """One line for the log when training starts."""
        return f"training {type(self).__name__}"

    # -- data -------------------------------------------------------------------------
    def batches_per_epoch(self) -> int:
        """This process's batches per epoch (a distributed rank's share; see engine.distributed.sharding)."""
        return self.data.num_batches(self.split, self.batch_size, drop_last=self.drop_last, shard=self.loop.shard)

    def steps_per_epoch(self) -> int:
        """Optimisation steps per epoch (differs from batches when a step takes several batches)."""
        return self.batches_per_epoch()

    def total_steps(self, epochs: int) -> int:
        return self.steps_per_epoch() * epochs

    def samples_per_step(self) -> int:
        return self.batch_size

    def batches(self, epoch: int, start_batch: int) -> Iterable[Any]:
        """The batches of ``epoch`` from ``start_batch`` on; their order depends only on (seed, epoch)."""
        return self.data.batches(self.split, self.batch_size, self.loop.device, shuffle=True,
                                 seed=self.loop.config.seed, epoch=epoch, start_batch=start_batch,
                                 drop_last=self.drop_last, shard=self.loop.shard)

    # -- training -------------------------------------------------------------------
    def train_step(self, batch: Any) -> Sequence[torch.Tensor | float] | None:
        """Train on one batch; the values of :attr:`metrics`, or None when no step was completed."""
        raise NotImplementedError

    # -- hooks ----------------------------------------------------------------------------
    def on_start(self, resumed: bool) -> None:
        """Training is about to start (or continue, when ``resumed``)."""

    def on_step_end(self, step: int) -> None:
        """A step was completed and reported (sample previews go here)."""

    def on_epoch_end(self, epoch: int, step: int, complete: bool) -> str:
        """After each epoch (``complete`` is False when the budget cut it short).

        Return a reason to stop (e.g. "early_stopping") or "".
        """
        return ""

    def on_checkpoint(self, final: bool) -> None:
        """A checkpoint was just written (side files such as best weights or a generator card)."""

    def on_stop(self, step: int) -> None:
        """The user stopped the run; the checkpoint is written."""

    def on_train_end(self, outcome: Outcome) -> None:
        """Training is over (not stopped, not failed), before the final checkpoint."""

    def final_state(self) -> dict[str, Any] | None:
        """A slimmer final checkpoint (e.g. weights only), or None for the full state."""
        return None

    def result(self, outcome: Outcome) -> Any:
        """What the step hands on."""
        return None
