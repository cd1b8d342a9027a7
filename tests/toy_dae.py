"""A new algorithm written against the loop driver alone, in test code: a denoising autoencoder.

Everything a training step needs besides its own step (time budget, stop,
pause, NaN handling, checkpoints, exact resume) comes from the driver.
"""

from __future__ import annotations

import torch

from engine.params import Float, Int, Seed
from engine.ports import IMAGE_DATASET, Port
from engine.steps.registry import step
from engine.training.algorithm import Algorithm, Outcome
from engine.training.loop import LoopConfig, TrainingLoop


class DenoisingAutoencoder(Algorithm):
    metrics = ("loss",)

    def __init__(self, data, params: dict) -> None:  # noqa: ANN001
        self.data, self.batch_size, self.noise, self.lr = data, params["batch_size"], params["noise"], params["lr"]

    def setup(self, loop: TrainingLoop) -> None:
        n = 1
        for d in self.data.sample_shape:
            n *= d
        self.net = torch.nn.Sequential(torch.nn.Linear(n, 16), torch.nn.ReLU(), torch.nn.Linear(16, n)).to(loop.device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)

    def objects(self) -> dict:
        return {"net": self.net, "opt": self.opt}

    def train_step(self, batch) -> tuple:  # noqa: ANN001
        x = batch[0].flatten(1)
        noisy = x + self.noise * torch.randn_like(x)  # draws from the global RNG: resume must restore it
        loss = torch.nn.functional.mse_loss(self.net(noisy), x)
        self.loop.precision.optimize(loss, self.opt)
        return (loss,)

    def result(self, outcome: Outcome) -> Outcome:
        return outcome


@step("train_dae", title="Denoising autoencoder (test)", category="train", inputs=[Port("data", IMAGE_DATASET)],
      params=[Int("epochs", 2, 1, 10000, "Passes."), Int("batch_size", 32, 1, 4096, "Batch."),
              Float("lr", 1e-3, 1e-7, 10.0, "Learning rate."), Float("noise", 0.3, 0.0, 10.0, "Noise std."),
              Float("time_budget", 0.0, 0.0, 10080.0, "Minutes."), Int("checkpoint_every", 5, 0, 10**9, "Steps."),
              Seed()])
def train_dae(ctx) -> dict:  # noqa: ANN001
    outcome = TrainingLoop(ctx, DenoisingAutoencoder(ctx.inputs["data"], ctx.params),
                           LoopConfig.from_params(ctx.params)).run()
    ctx.report(stopped=outcome.reason, steps=outcome.position.step)
    return {}
