"""VAE training: reconstruction + beta x KL, both reported.

The reconstruction term is the per-image sum of squared errors in the
model's input space (a Gaussian likelihood), the KL term the closed form
KL(N(mu, sigma^2) || N(0, I)) summed over latent dimensions; both averaged
over the batch.  ``beta`` > 1 trades sharpness for a smoother latent space.
Live previews show reconstructions (inputs above, outputs below) and random
samples decoded from a fixed, seeded noise batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.context import StepContext
from engine.data.datasets import ImageDataset
from engine.errors import RunStopped, TrainingDiverged, UserInputError
from engine.generative import GenSpec, TrainedGenerator
from engine.generative.card import save_generator
from engine.generative.live import SampleWriter, TrainingClock, check_image_data, eval_forward
from engine.generative.preview import to_pixels01
from engine.training.common import FromParams, amp_enabled, autocast, ensure_finite, make_scaler, seed_everything
from engine.training.resume import Checkpointer, Position

METRICS = ("loss", "recon", "kl")


@dataclass
class VaeConfig(FromParams):
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    beta: float = 1.0
    seed: int = 0
    amp: bool = True
    sample_every: int = 20
    samples: int = 64
    checkpoint_every: int = 500
    split: str = "all"
    time_budget: float = 0.0  # minutes; 0: the epochs decide


def vae_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(total, reconstruction, kl)``, each a per-image sum averaged over the batch."""
    n = x.shape[0]
    rec = (recon.float() - x.float()).pow(2).sum() / n
    kl = -0.5 * (1 + logvar.float() - mu.float().pow(2) - logvar.float().exp()).sum() / n
    return rec + beta * kl, rec, kl


def fit_vae(ctx: StepContext, data: ImageDataset, spec: GenSpec, cfg: VaeConfig) -> TrainedGenerator:
    from engine.generative.vae import build_vae

    check_image_data(data, cfg.split, cfg.batch_size, ctx.node_id)
    seed_everything(cfg.seed)
    device = ctx.device
    try:
        vae = build_vae(spec.params, data.sample_shape)
    except ValueError as exc:
        raise UserInputError(f"node '{ctx.node_id}': {exc}") from None
    vae.to(device).train()
    opt = torch.optim.Adam(vae.parameters(), lr=cfg.lr)
    use_amp = amp_enabled(device, cfg.amp)
    scaler = make_scaler(device, use_amp)
    trained = TrainedGenerator(spec, vae.decoder, data.sample_shape, data.normalization.to_json())
    objects = {"vae": vae, "optimizer": opt, "scaler": scaler}
    ckpt = Checkpointer(ctx)
    pos, already_s = Position(), 0.0
    restored = ckpt.restore(objects, device)
    if restored is not None:
        pos, already_s = restored[0], float(restored[1].get("elapsed", 0.0))
    clock = TrainingClock(ctx, cfg.time_budget, already_s, pos.step)

    def checkpoint(at: Position) -> None:
        ckpt.save(objects, at, {"elapsed": clock.elapsed()})
        ctx.artifact("generator", save_generator(trained, ctx.node_dir))

    norm = trained.normalization
    fixed_z = trained.noise(cfg.samples, cfg.seed + 1).to(device)
    split_idx = data.split(cfg.split)
    pick = torch.randperm(len(split_idx), generator=torch.Generator().manual_seed(cfg.seed + 2))[:8]
    x_show = data.on_device(device)[0][split_idx[pick].to(device)]

    def render_recon() -> tuple[torch.Tensor, int]:
        out = eval_forward(_MeanPath(vae), x_show)  # the posterior mean: no sampling, no RNG use
        return torch.cat([to_pixels01(x_show.float(), norm), to_pixels01(out, norm)]).cpu(), len(x_show)

    samples = SampleWriter(ctx, lambda: (to_pixels01(eval_forward(vae.decoder, fixed_z), norm).cpu(), 0))
    recons = SampleWriter(ctx, render_recon, name="reconstructions")

    def previews(step: int) -> None:
        samples.write(step)
        recons.write(step)

    batches_per_epoch = data.num_batches(cfg.split, cfg.batch_size, drop_last=True)
    total_steps = batches_per_epoch * cfg.epochs
    if restored is None or not samples.exists(pos.step):
        previews(pos.step)
    ctx.log(
        f"training vae (latent {spec.latent_dim}, beta {cfg.beta:g}) on {len(split_idx)} images "
        f"{tuple(data.sample_shape)}, {cfg.epochs} epochs x {batches_per_epoch} batches, {device}"
        + (f", time budget {cfg.time_budget:g} min" if cfg.time_budget else "")
    )
    last: dict[str, float] = {}
    try:
        while pos.epoch <= cfg.epochs and not clock.spent():
            batches = data.batches(
                cfg.split, cfg.batch_size, device, shuffle=True, seed=cfg.seed, epoch=pos.epoch,
                start_batch=pos.batch, drop_last=True,
            )
            for x, _ in batches:
                ctx.check()
                with autocast(device, use_amp):
                    recon, mu, logvar = vae(x)
                loss, rec, kl = vae_loss(recon, x, mu, logvar, cfg.beta)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                pos.batch += 1
                pos.step += 1
                values = torch.stack([loss.detach(), rec.detach(), kl.detach()]).tolist()
                for name, value in zip(METRICS, values, strict=True):
                    ensure_finite(value, name, pos.step)
                    ctx.metric(name, value, pos.step, pos.epoch)
                    last[name] = round(value, 5)
                if pos.step % cfg.sample_every == 0:
                    previews(pos.step)
                if pos.step % cfg.checkpoint_every == 0:
                    checkpoint(pos)
                clock.progress(pos, total_steps, cfg.epochs, cfg.batch_size)
                if clock.spent():
                    break
            else:
                pos.epoch, pos.batch = pos.epoch + 1, 0
            checkpoint(pos)
    except RunStopped:
        checkpoint(pos)
        previews(pos.step)
        raise
    except TrainingDiverged:
        ctx.log("training diverged: the last good checkpoint is kept in checkpoints/last.pt", "error")
        raise
    if not samples.exists(pos.step):
        previews(pos.step)
    vae.eval()
    stopped = clock.outcome(pos, cfg.epochs, cfg.time_budget)
    trained.history = {"steps": pos.step, "epochs": cfg.epochs, "stopped": stopped, **last}
    ctx.artifact("generator", save_generator(trained, ctx.node_dir))
    return trained


class _MeanPath(torch.nn.Module):
    """x -> decoder(mu(x)): the deterministic reconstruction used for previews."""

    def __init__(self, vae: torch.nn.Module) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.vae.decoder(self.vae.encoder(x)[0])
