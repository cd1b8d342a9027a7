"""GAN training: the alternating discriminator / generator loop.

Losses (Goodfellow et al., 2014, with the usual non-saturating fix):

* discriminator: BCE(D(x), real_target) + BCE(D(G(z)), 0), where
  ``real_target`` is 1, or ``1 - label_smoothing`` (one-sided smoothing:
  only the real label is softened);
* generator: BCE(D(G(z)), 1) — trained against the *real* label.  The
  saturating form (minimising log(1 - D(G(z)))) has vanishing gradients
  exactly when D wins early on, which is why the seeds' GAN did not learn.

Both take logits (``binary_cross_entropy_with_logits``), which is
numerically stable and allowed under autocast.  Each step logs ``loss_d``,
``loss_g``, ``d_real`` and ``d_fake``; a non-finite value stops the run with
:class:`TrainingDiverged`, leaving the last good checkpoint in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812

from engine.context import StepContext
from engine.data.datasets import ImageDataset
from engine.errors import RunStopped, TrainingDiverged, UserInputError
from engine.generative import GenSpec, TrainedGenerator, build_gan
from engine.generative.card import save_generator
from engine.generative.live import SampleWriter, TrainingClock, check_image_data, eval_forward
from engine.generative.preview import to_pixels01
from engine.training.common import FromParams, amp_enabled, autocast, ensure_finite, make_scaler, seed_everything
from engine.training.resume import Checkpointer, Position

METRICS = ("loss_d", "loss_g", "d_real", "d_fake")


@dataclass
class GanConfig(FromParams):
    epochs: int = 50
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1
    label_smoothing: float = 0.0
    seed: int = 0
    amp: bool = True
    sample_every: int = 20
    samples: int = 64
    checkpoint_every: int = 500
    split: str = "all"
    time_budget: float = 0.0  # minutes; 0: the epochs decide


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: BCE of D's logits on fakes against the REAL label (1)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """Real images towards ``1 - smoothing`` (one-sided smoothing), fakes towards 0."""
    real_target = torch.full_like(real_logits, 1.0 - smoothing)
    return F.binary_cross_entropy_with_logits(real_logits, real_target) + F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits)
    )


def fit_gan(ctx: StepContext, data: ImageDataset, spec: GenSpec, cfg: GanConfig) -> TrainedGenerator:
    check_image_data(data, cfg.split, cfg.batch_size, ctx.node_id)
    pack = int(spec.params.get("pack", 1))
    if cfg.batch_size % pack:
        raise UserInputError(f"node '{ctx.node_id}', param 'batch_size': {cfg.batch_size} is not a multiple of the "
                             f"model's pack ({pack}) — use e.g. {cfg.batch_size // pack * pack or pack}")
    seed_everything(cfg.seed)
    device = ctx.device
    try:
        g, d = build_gan(spec, data.sample_shape)
    except ValueError as exc:
        raise UserInputError(f"node '{ctx.node_id}': {exc}") from None
    g.to(device).train()
    d.to(device).train()
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    use_amp = amp_enabled(device, cfg.amp)
    scaler = make_scaler(device, use_amp)
    latent = spec.latent_dim
    trained = TrainedGenerator(spec, g, data.sample_shape, data.normalization.to_json())

    objects = {"generator": g, "discriminator": d, "opt_g": opt_g, "opt_d": opt_d, "scaler": scaler}
    ckpt = Checkpointer(ctx)
    pos, d_count, already_s = Position(), 0, 0.0
    restored = ckpt.restore(objects, device)
    if restored is not None:
        pos, state = restored
        d_count, already_s = int(state.get("d_count", 0)), float(state.get("elapsed", 0.0))
    clock = TrainingClock(ctx, cfg.time_budget, already_s, pos.step)

    def checkpoint(at: Position) -> None:
        ckpt.save(objects, at, {"d_count": d_count, "elapsed": clock.elapsed()})
        ctx.artifact("generator", save_generator(trained, ctx.node_dir))  # usable even if stopped later

    batches_per_epoch = data.num_batches(cfg.split, cfg.batch_size, drop_last=True)
    total_batches = batches_per_epoch * cfg.epochs
    total_steps = total_batches // cfg.d_steps
    fixed_z = trained.noise(cfg.samples, cfg.seed + 1).to(device)
    norm = trained.normalization
    samples = SampleWriter(ctx, lambda: (to_pixels01(eval_forward(g, fixed_z), norm), 0))
    if restored is None or not samples.exists(pos.step):
        samples.write(pos.step)
    ctx.log(
        f"training {spec.arch} on {len(data.split(cfg.split))} images {tuple(data.sample_shape)}, "
        f"{cfg.epochs} epochs x {batches_per_epoch} batches of {cfg.batch_size}, {device}"
        + (", mixed precision" if use_amp else "")
        + (f", time budget {cfg.time_budget:g} min" if cfg.time_budget else "")
    )
    last: dict[str, float] = {}
    try:
        while pos.epoch <= cfg.epochs and not clock.spent():
            batches = data.batches(
                cfg.split, cfg.batch_size, device, shuffle=True, seed=cfg.seed, epoch=pos.epoch,
                start_batch=pos.batch, drop_last=True,
            )
            for real, _ in batches:
                ctx.check()
                z = torch.randn(real.shape[0], latent, device=device)
                with autocast(device, use_amp):
                    fake = g(z)
                    real_logits = d(real)
                    fake_logits = d(fake.detach())
                    loss_d = discriminator_loss(real_logits, fake_logits, cfg.label_smoothing)
                opt_d.zero_grad(set_to_none=True)
                scaler.scale(loss_d).backward()
                scaler.step(opt_d)
                scaler.update()
                d_count += 1
                pos.batch += 1
                if d_count < cfg.d_steps:
                    continue
                d_count = 0
                with autocast(device, use_amp):
                    loss_g = generator_loss(d(fake))
                opt_g.zero_grad(set_to_none=True)
                scaler.scale(loss_g).backward()
                scaler.step(opt_g)
                scaler.update()
                pos.step += 1
                values = torch.stack([
                    loss_d.detach().float(), loss_g.detach().float(),
                    torch.sigmoid(real_logits.detach().float()).mean(), torch.sigmoid(fake_logits.detach().float()).mean(),
                ]).tolist()
                for name, value in zip(METRICS, values, strict=True):
                    ensure_finite(value, name, pos.step)
                    ctx.metric(name, value, pos.step, pos.epoch)
                    last[name] = round(value, 5)
                if pos.step % cfg.sample_every == 0:
                    samples.write(pos.step)
                if pos.step % cfg.checkpoint_every == 0:
                    checkpoint(pos)
                clock.progress(pos, total_steps, cfg.epochs, cfg.batch_size * cfg.d_steps)
                if clock.spent():
                    break
            else:
                pos.epoch, pos.batch = pos.epoch + 1, 0
            checkpoint(pos)
    except RunStopped:
        checkpoint(pos)
        samples.write(pos.step)
        raise
    except TrainingDiverged:
        ctx.log("training diverged: the last good checkpoint is kept in checkpoints/last.pt", "error")
        raise
    if not samples.exists(pos.step):
        samples.write(pos.step)
    g.eval()
    stopped = clock.outcome(pos, cfg.epochs, cfg.time_budget)
    trained.history = {"steps": pos.step, "epochs": cfg.epochs, "stopped": stopped, **last}
    card = save_generator(trained, ctx.node_dir)
    ctx.artifact("generator", card)
    return trained
