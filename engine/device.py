"""Choosing the training device, with the reason kept for run.json and the log."""

from __future__ import annotations

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def select_device(preference: str = "auto") -> tuple[str, str]:
    """Return ``(device, reason)``; ``auto`` prefers cuda, then mps, then cpu.

    An explicit choice that is not available falls back to the CPU and says so,
    rather than failing a long run at its first batch.
    """
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if preference == "auto":
        if cuda:
            return "cuda", f"auto: CUDA GPU found ({torch.cuda.get_device_name(0)})"
        if mps:
            return "mps", "auto: Apple MPS GPU found"
        return "cpu", "auto: no CUDA or MPS GPU found, using the CPU"
    if preference.startswith("cuda"):
        return (preference, f"requested: {torch.cuda.get_device_name(0)}") if cuda else (
            "cpu", "requested cuda, but no CUDA GPU is available: using the CPU")
    if preference == "mps":
        return ("mps", "requested: Apple MPS") if mps else (
            "cpu", "requested mps, but MPS is not available: using the CPU")
    return "cpu", "requested: CPU"


def device_label(device: str) -> str:
    """A short human name (GPU model or 'CPU') for status bars."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return {"mps": "Apple GPU (MPS)"}.get(device, "CPU")
