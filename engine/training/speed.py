"""The speed policy: one place decides how a training run goes fast, and says why.

Every algorithm runs through the loop driver, which asks :func:`plan` once its
modules exist and applies the answer (:class:`SpeedPlan`):

* **threads** — chosen per process (engine.threads): the app leaves a core to
  the window, the CLI uses what was measured fastest here; recorded as found;
* **precision** — the ``amp`` param means "mixed precision where it pays":
  bf16 autocast on CPUs with native bf16 (AVX512-BF16 / AMX) for models with a
  2-D convolution (measured here: a small CNN's step 1.2-1.3x faster; MLPs of
  5k-750k weights were 0-60 % slower, their time going to the casts autocast
  adds), bf16 AMP on CUDA GPUs that support it, else fp16 AMP with a gradient
  scaler; ``amp`` off = fp32;
* **channels_last** — for models with a 2-D convolution, on CPU and CUDA (the
  ``channels_last`` param turns it off); the
  loop converts each batch's 4-D tensors (whatever their dtype), and the
  checkpoint's state_dict keeps its keys and shapes, so it loads either way;
* **compile** — ``compile: auto|on|off``; ``auto`` compiles only runs long
  enough to pay back the compile (about a minute on a CPU, for at most a
  quarter off each step): a time budget of :data:`COMPILE_PAYBACK_MINUTES`
  minutes or more, or :data:`COMPILE_PAYBACK_STEPS` planned steps or more.
  Never on the main thread (in the app, the window's); the module is compiled
  in place (``nn.Module.compile``), so checkpoints keep the original keys, and
  a compile that fails falls back to eager with a log line.

Decisions are pure (:func:`decide`) so tests pin them without a GPU or a clock.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.threads import ThreadChoice

COMPILE_CHOICES = ("auto", "on", "off")
COMPILE_PAYBACK_MINUTES = 15.0
COMPILE_PAYBACK_STEPS = 30_000
COMPILE_BACKEND = "inductor"  # tests set "eager" (dynamo without code generation)


@dataclass(frozen=True)
class SpeedPlan:
    """What a run does to go fast, each choice with its reason (run.json and the log)."""

    threads: int
    threads_reason: str
    precision: str  # fp32 | bf16 | fp16
    precision_reason: str
    channels_last: bool
    channels_last_reason: str
    compile: bool
    compile_reason: str

    def record(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return (f"speed: {self.threads} thread(s) ({self.threads_reason}); {self.precision} ({self.precision_reason}); "
                f"channels_last {'on' if self.channels_last else 'off'} ({self.channels_last_reason}); "
                f"compile {'on' if self.compile else 'off'} ({self.compile_reason})")


def decide(*, device: str, amp: bool, compile_mode: str, channels_last: bool, convolutional: bool, n_params: int,
           total_steps: int, time_budget_min: float, on_main_thread: bool, cpu_bf16: bool, cuda_bf16: bool,
           threads: ThreadChoice) -> SpeedPlan:
    """The policy itself: facts in, choices and reasons out (no torch, no clock)."""
    kind = str(device).split(":")[0]
    precision, why = _precision(kind, amp, convolutional, n_params, cpu_bf16, cuda_bf16)
    if not channels_last:
        last, last_why = False, "channels_last is off"
    elif convolutional and kind in ("cpu", "cuda"):
        last, last_why = True, "the model has 2-D convolutions: channels_last is their fast layout"
    elif convolutional:
        last, last_why = False, f"kept NCHW on {kind}"
    else:
        last, last_why = False, "no 2-D convolutions"
    comp, comp_why = _compile(compile_mode, total_steps, time_budget_min, on_main_thread)
    return SpeedPlan(threads.threads, threads.reason, precision, why, last, last_why, comp, comp_why)


def _precision(kind: str, amp: bool, convolutional: bool, n_params: int, cpu_bf16: bool,
               cuda_bf16: bool) -> tuple[str, str]:
    if not amp:
        return "fp32", "amp is off"
    if kind == "cuda":
        if cuda_bf16:
            return "bf16", "CUDA GPU with bf16: autocast, no gradient scaler needed"
        return "fp16", "CUDA GPU without bf16: fp16 autocast with a gradient scaler"
    if kind == "cpu":
        if not cpu_bf16:
            return "fp32", "this CPU has no native bf16 (AVX512-BF16/AMX): autocast would be slower"
        if convolutional:
            return "bf16", "CPU with native bf16 and a convolutional model: autocast"
        return "fp32", (f"no convolutions ({n_params:,} weights): on a CPU, bf16 autocast pays for convolutions, "
                        "not for these layers")
    return "fp32", f"mixed precision is not used on {kind}"


def _compile(mode: str, total_steps: int, time_budget_min: float, on_main_thread: bool) -> tuple[bool, str]:
    if mode == "off":
        return False, "compile is off"
    if on_main_thread:
        return False, "not compiled on the main thread (in the app, the window's)"
    if mode == "on":
        return True, "compile is on"
    if time_budget_min >= COMPILE_PAYBACK_MINUTES:
        return True, f"auto: a time budget of {time_budget_min:g} min pays back the compile"
    if time_budget_min > 0:  # the budget ends the run, whatever the epochs promise
        return False, (f"auto: a time budget of {time_budget_min:g} min is too short to pay back the compile "
                       f"(it pays from {COMPILE_PAYBACK_MINUTES:g} min)")
    if total_steps >= COMPILE_PAYBACK_STEPS:
        return True, f"auto: {total_steps:,} planned steps pay back the compile"
    return False, (f"auto: {total_steps:,} planned steps are too few to pay back the compile (it pays from "
                   f"{COMPILE_PAYBACK_STEPS:,} steps or a {COMPILE_PAYBACK_MINUTES:g} min time budget)")


# -- facts about this machine and the model ---------------------------------------------------------
def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """AVX512-BF16 or AMX in the CPU's flags (Linux), else what oneDNN says."""
    with contextlib.suppress(OSError):
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return bool(flags & {"avx512_bf16", "amx_bf16"})
    import torch

    with contextlib.suppress(Exception):
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def cuda_has_bf16() -> bool:
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def modules_of(objects: dict[str, Any]) -> list[Any]:
    import torch

    return [obj for obj in objects.values() if isinstance(obj, torch.nn.Module)]


def is_convolutional(modules: list[Any]) -> bool:
    import torch

    return any(isinstance(m, torch.nn.modules.conv._ConvNd) and m.weight.dim() == 4
               for module in modules for m in module.modules())


def plan(device: str, objects: dict[str, Any], *, amp: bool, compile_mode: str, channels_last: bool,
         total_steps: int, time_budget_min: float) -> SpeedPlan:
    """The plan for these modules on ``device`` (facts gathered here, choices in :func:`decide`)."""
    from engine import threads

    modules = modules_of(objects)
    kind = str(device).split(":")[0]
    return decide(device=device, amp=amp, compile_mode=compile_mode, channels_last=channels_last,
                  convolutional=is_convolutional(modules),
                  n_params=sum(p.numel() for m in modules for p in m.parameters()), total_steps=total_steps,
                  time_budget_min=time_budget_min,
                  on_main_thread=threading.current_thread() is threading.main_thread(),
                  cpu_bf16=kind == "cpu" and cpu_has_native_bf16(), cuda_bf16=kind == "cuda" and cuda_has_bf16(),
                  threads=threads.current())


# -- applying it --------------------------------------------------------------------------------------
def to_channels_last(modules: list[Any]) -> None:
    """In place: the parameters stay the same objects (the optimisers keep them), only their layout changes."""
    import torch

    for module in modules:
        module.to(memory_format=torch.channels_last)


def batch_to_channels_last(batch: Any) -> Any:
    """The batch with its 4-D tensors in channels_last (uint8 images too); anything else as it was."""
    import torch

    if isinstance(batch, torch.Tensor):
        return batch.contiguous(memory_format=torch.channels_last) if batch.dim() == 4 else batch
    if isinstance(batch, tuple):
        return tuple(batch_to_channels_last(b) for b in batch)
    if isinstance(batch, list):
        return [batch_to_channels_last(b) for b in batch]
    return batch


def compile_in_place(modules: list[Any]) -> None:
    """``nn.Module.compile``: the module object stays (and its state_dict keys: no ``_orig_mod.``)."""
    for module in modules:
        module.compile(backend=COMPILE_BACKEND)


def uncompile(modules: list[Any]) -> None:
    """Back to eager (a compile that failed)."""
    for module in modules:
        module._compiled_call_impl = None


def first_compiled_step(algorithm: Any, batch: Any, log: Any, checkpoints: Any) -> Any:
    """The first step of compiled modules (where compiling happens); if it fails, uncompile and run it eager.

    The step is then taken again from where it started: ``checkpoints`` (the
    loop's :class:`~engine.training.loop_checkpoints.LoopCheckpoints`) puts
    back everything a checkpoint keeps (weights, optimisers, scaler, the
    algorithm's state, RNG), because a GAN's discriminator may have stepped
    before the generator's graph failed to compile.  A failed compile leaves
    the run as if it had never been tried.
    """
    from engine.errors import RunStopped, TrainingDiverged

    before = checkpoints.snapshot()
    try:
        return algorithm.train_step(batch)
    except (RunStopped, TrainingDiverged):
        raise
    except Exception as exc:  # noqa: BLE001 - any compiler failure: train on, eager
        uncompile(modules_of(algorithm.objects()))
        checkpoints.put_back(before)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        log(f"torch.compile failed ({type(exc).__name__}: {first}): training on without compiling", "warning")
        return algorithm.train_step(batch)
