"""Generative models: GAN and VAE architectures, their training, and sampling."""

from __future__ import annotations

from engine.context import StepContext
from engine.device import DEVICE_CHOICES
from engine.errors import UserInputError
from engine.generative import GAN_ARCHS, VAE_ARCHS, GenSpec
from engine.names import CachePolicy
from engine.params import Bool, Choice, Float, Int, Seed, Text
from engine.ports import GENERATIVE_MODEL, IMAGE_DATASET, IMAGES, TRAINED_GENERATOR, Port
from engine.problems import Issue
from engine.steps.registry import step
from engine.steps.train import speed_params

_LATENT_HELP = "Size of the random noise vector each image is made from."
_CONDITIONAL_HELP = ("Learn to draw each class on demand (a class-conditional model): auto = when the images have "
                     "class labels; on = insist (labels needed); off = never. Sample grids then show one row per "
                     "class, and `loom generate --class` or Generate more picks a class.")


def _conditional() -> Choice:
    return Choice("conditional", "auto", ("auto", "on", "off"), _CONDITIONAL_HELP, label="Draw chosen classes")
_WIDTH_HELP = "Feature maps in the first/last conv layer; doubles per layer. Wider = slower, more detail."


@step(
    "dcgan",
    title="DCGAN",
    category="models",
    description="Convolutional GAN (Radford et al.): sized from the images (28, 32 or 64 px; 1 or 3 channels).",
    outputs=[Port("model", GENERATIVE_MODEL)],
    params=[
        Int("latent_dim", 100, 2, 1024, _LATENT_HELP, label="Noise size (latent dimensions)"),
        Int("width", 32, 4, 512, _WIDTH_HELP),
        Bool("minibatch_std", False, "Let the discriminator see how alike the images of a batch are, so the "
             "generator is punished for drawing one thing over and over (mode collapse).", advanced=True,
             label="Batch variety signal"),
        Choice("d_norm", "batch", ("batch", "spectral"), "Discriminator normalisation: batch norm (the paper) or "
               "spectral norm, which keeps the discriminator from overpowering the generator.", advanced=True,
               label="Discriminator normalisation"),
        Int("pack", 1, 1, 8, "The discriminator judges this many images at once (PacGAN); 2-4 makes a generator "
            "that draws one kind of image easy to catch. The batch size must be a multiple. A conditional model "
            "needs 1 (auto then trains without classes).", advanced=True, label="Images judged together"),
        Int("draw_size", 0, 0, 1024, "Draw the images at this size and upscale them (bicubic) to the data's "
            "size; for images that were upscaled from a smaller original, e.g. 8 for the built-in digits at 16 px, "
            "so samples stay on what the data can look like. 0 = draw at the images' size.", advanced=True,
            unit="px", label="Draw at size"),
        _conditional(),
    ],
)
def dcgan(ctx: StepContext) -> dict:
    return {"model": GenSpec("dcgan", dict(ctx.params))}


@step(
    "gan_mlp",
    title="MLP GAN",
    category="models",
    description="Fully connected GAN: noise -> 256 -> 512 -> 1024 -> pixels; discriminator with dropout.",
    outputs=[Port("model", GENERATIVE_MODEL)],
    params=[
        Int("latent_dim", 100, 2, 1024, _LATENT_HELP, label="Noise size (latent dimensions)"),
        Float("dropout", 0.3, 0.0, 0.9, "Dropout in the discriminator; keeps it from memorising the data."),
    ],
)
def gan_mlp(ctx: StepContext) -> dict:
    return {"model": GenSpec("gan_mlp", dict(ctx.params))}


@step(
    "vae",
    title="Conv VAE",
    category="models",
    description="Convolutional variational autoencoder: learns a smooth latent space to sample and interpolate.",
    outputs=[Port("model", GENERATIVE_MODEL)],
    params=[
        Int("latent_dim", 16, 2, 512, "Size of the latent code each image is compressed to.",
            label="Code size (latent dimensions)"),
        Int("width", 32, 4, 512, _WIDTH_HELP),
        _conditional(),
    ],
)
def vae(ctx: StepContext) -> dict:
    return {"model": GenSpec("vae", dict(ctx.params))}


def _common_params(epochs: int) -> list:
    return [
        Int("epochs", epochs, 1, 100000, "Passes over the images."),
        Float("time_budget", 0.0, 0.0, 10080.0, "Stop gracefully after this many minutes of training, with samples "
              "and a checkpoint; 0 = no limit (the epochs decide).", unit="min"),
        Int("batch_size", 64, 2, 4096, "Images per optimisation step."),
    ]


def _tail_params() -> list:
    return [
        Float("ema", 0.999, 0.0, 0.99999, "Show, sample and save an exponential moving average of the generator's "
              "weights (this decay per step; warmed up over the first steps), which draws cleaner, steadier images "
              "than the weights of the moment. 0 = off. Training itself is unchanged; both are checkpointed.",
              advanced=True, label="Weight average (EMA) decay"),
        Seed(),
        Int("sample_every", 20, 1, 1000000, "Render the fixed sample grid every N steps (also at step 0).", unit="steps",
            label="Sample grid every"),
        Int("samples", 64, 1, 256, "Images in each sample grid.", label="Images per sample grid"),
        *_quality_params(),
        Int("checkpoint_every", 500, 1, 10000000, "Save a checkpoint every N steps (and at every epoch end).", unit="steps", advanced=True),
        Choice("split", "all", ("all", "train"), "Which images to learn from; generative models need no held-out set.", advanced=True),
        Choice("device", "auto", DEVICE_CHOICES, "auto = the run's device (GPU when there is one).", advanced=True),
        *speed_params(),
    ]


def _quality_params() -> list:
    return [
        Int("quality_every", 100, 0, 1000000, "Measure the generator every N steps (and at the end): 'quality' is "
            "the Fréchet distance between features of 500 generated and 500 real images — lower is better; two "
            "halves of the real images score the floor (in the log). With labels it also reports the share of "
            "samples a classifier of the data labels confidently and how many classes they cover. A check that "
            "would take the quality work past quality_share of the training time is skipped. 0 = off.",
            unit="steps", label="Quality check every"),
        Float("quality_share", 0.05, 0.001, 1.0, "The most of the training time the quality work (fitting its "
              "features, the checks) may take: a due check that would go past it is skipped, so a short run gets "
              "fewer points or none (the log says how many ran). 1 = no limit: every check runs, and a run repeats "
              "exactly, kept-best generator included, on any machine.", advanced=True,
              label="Quality checks' time share"),
        Int("patience", 0, 0, 1000, "Early stopping: stop when quality has not improved for this many checks "
            "(0 = never).", advanced=True, label="Early stopping patience (quality checks)"),
        Bool("restore_best", True, "At the end, keep the generator of the best quality check (not the last one).",
             advanced=True, label="Keep the best generator"),
    ]


def _model_input(ctx: StepContext, kind: str) -> GenSpec:
    spec = ctx.inputs["model"]
    if spec.kind != kind:
        other = "train_vae" if spec.kind == "vae" else "train_gan"
        raise UserInputError(f"node '{ctx.node_id}': '{spec.arch}' is not a {kind.upper()} — train it with a '{other}' step")
    if ctx.params["device"] != "auto":
        from engine.device import select_device

        ctx.device, reason = select_device(ctx.params["device"])
        ctx.log(f"device for this step: {ctx.device} ({reason})")
    return spec


def _gan_inputs(params: dict, upstream: dict[str, tuple[str, dict]]) -> list[Issue]:
    """A VAE wired into the GAN trainer is refused before any data loads (the loop checks its batch and pack)."""
    arch = upstream.get("model", (GAN_ARCHS[0], {}))[0]
    if arch not in GAN_ARCHS:
        return [("input 'model'", f"'{arch}' is not a GAN — train it with a 'train_vae' step, or connect a "
                 f"{' or '.join(GAN_ARCHS)} model")]
    return []


def _vae_inputs(params: dict, upstream: dict[str, tuple[str, dict]]) -> list[Issue]:
    arch = upstream.get("model", ("vae", {}))[0]
    if arch not in VAE_ARCHS:
        return [("input 'model'", f"'{arch}' is not a VAE — train it with a 'train_gan' step, or connect a vae model")]
    return []


@step(
    "train_gan",
    title="Train GAN",
    category="train",
    description="Adversarial training with live sample grids; logs loss_d, loss_g, d_real and d_fake every step.",
    inputs=[Port("data", IMAGE_DATASET), Port("model", GENERATIVE_MODEL, "A DCGAN or MLP GAN")],
    outputs=[Port("generator", TRAINED_GENERATOR)],
    check_inputs=_gan_inputs,
    params=[
        *_common_params(50),
        Float("lr_g", 2e-4, 1e-7, 1.0, "Generator learning rate (Adam).", label="Generator learning rate"),
        Float("lr_d", 2e-4, 1e-7, 1.0, "Discriminator learning rate (Adam).", label="Discriminator learning rate"),
        Float("beta1", 0.5, 0.0, 0.999, "Adam beta1; 0.5 is the DCGAN setting.", advanced=True,
              label="Adam momentum (beta 1)"),
        Float("beta2", 0.999, 0.0, 0.9999, "How slowly Adam adapts each weight's step size; 0.999 is the usual setting.", advanced=True, label="Adam second moment (beta 2)"),
        Int("d_steps", 1, 1, 20, "Discriminator updates per generator update.",
            label="Discriminator steps per generator step"),
        Float("label_smoothing", 0.0, 0.0, 0.5, "One-sided: real images are labelled 1 - this (e.g. 0.1)."),
        Float("diversity", 0.0, 0.0, 10.0, "Mode seeking (MSGAN): punish the generator when two different noise "
              "vectors give the same picture, e.g. 1. Keeps a class-conditional GAN on a small data set from drawing "
              "one picture per class.", advanced=True, label="Variety weight (mode seeking)"),
        *_tail_params(),
    ],
    produces_images=True,
)
def train_gan(ctx: StepContext) -> dict:
    from engine.training.gan import GanConfig, fit_gan
    from engine.training.loop import LoopConfig

    spec = _model_input(ctx, "gan")
    trained = fit_gan(ctx, ctx.inputs["data"], spec, GanConfig.from_params(ctx.params), LoopConfig.from_params(ctx.params))
    ctx.report(**trained.history)
    return {"generator": trained}


@step(
    "train_vae",
    title="Train VAE",
    category="train",
    description="Fits a VAE (reconstruction + beta x KL); shows reconstructions and random samples as it learns.",
    inputs=[Port("data", IMAGE_DATASET), Port("model", GENERATIVE_MODEL, "A Conv VAE")],
    outputs=[Port("generator", TRAINED_GENERATOR)],
    check_inputs=_vae_inputs,
    params=[
        *_common_params(30),
        Float("lr", 1e-3, 1e-7, 1.0, "Learning rate (Adam).", label="Learning rate"),
        Float("beta", 1.0, 0.0, 100.0, "Weight of the KL term: higher = smoother latent space, blurrier images.",
              label="Latent penalty weight (beta)"),
        *_tail_params(),
    ],
    produces_images=True,
)
def train_vae(ctx: StepContext) -> dict:
    from engine.training.loop import LoopConfig
    from engine.training.vae import VaeConfig, fit_vae

    spec = _model_input(ctx, "vae")
    trained = fit_vae(ctx, ctx.inputs["data"], spec, VaeConfig.from_params(ctx.params), LoopConfig.from_params(ctx.params))
    ctx.report(**trained.history)
    return {"generator": trained}


@step(
    "generate",
    title="Generate images",
    category="generate",
    description="Writes images from a trained generator: N samples, or latent interpolation strips.",
    inputs=[Port("generator", TRAINED_GENERATOR)],
    outputs=[Port("images", IMAGES)],
    params=[
        Int("n", 64, 1, 10000, "How many images (in interpolate mode: how many strips).", label="Number of images"),
        Seed(),
        Choice("mode", "samples", ("samples", "interpolate"), "samples = independent images; interpolate = walks between random latents."),
        Int("steps", 10, 2, 100, "Images per interpolation strip (interpolate mode)."),
        Text("class", "", "For a class-conditional generator: the class to draw (its name, or its index from 0); "
             "empty = every class in turn.", label="Class"),
    ],
    cache=CachePolicy.NONE,
    produces_images=True,
)
def generate(ctx: StepContext) -> dict:
    from engine.generative.preview import grid_uint8
    from engine.generative.sampling import GeneratedImages, interpolation, sample, write_images, write_strip

    p, trained = ctx.params, ctx.inputs["generator"]
    out = ctx.node_dir
    label = _class_param(ctx, trained)
    if p["mode"] == "interpolate":
        images = interpolation(trained, p["n"], p["steps"], p["seed"], label)
        path = write_strip(images, p["steps"], out / "interpolation.png")
        result = GeneratedImages(images, [str(path)], nrow=p["steps"])
        ctx.image("images", grid_uint8(images, nrow=p["steps"]), path=path)
    else:
        images = sample(trained, p["n"], p["seed"], label)
        paths = write_images(images, out / "images")
        result = GeneratedImages(images, [str(q) for q in paths])
        shown = grid_uint8(images[:256])
        ctx.image("images", shown)
        ctx.artifact("images", out / "images")
    ctx.log(f"wrote {len(result.paths)} PNG file(s) to {out}")
    ctx.report(images=len(images), files=len(result.paths))
    return {"images": result}


def _class_param(ctx: StepContext, trained: object) -> int | None:
    """The ``class`` param as a label index (None when empty); refused in words for a generator without classes."""
    from engine.generative.more import class_index

    chosen = str(ctx.params.get("class") or "").strip()
    if not chosen:
        return None
    classes = getattr(trained, "classes", ())
    if not classes:
        raise UserInputError(f"node '{ctx.node_id}', param 'class': the generator was not trained on classes, so it "
                             f"cannot draw {chosen!r} — leave the class empty, or train a conditional model "
                             "(conditional auto/on, on labelled images)")
    try:
        return class_index(classes, chosen)
    except UserInputError as exc:
        raise UserInputError(f"node '{ctx.node_id}', param 'class': {exc}") from None
