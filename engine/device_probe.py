"""What the idle app says about the device, without importing torch.

Importing torch costs about 450 MB and a second or two; an app that only
shows its window and the step palette should not pay that (the first Run
does).  So the status bar's first answer comes from what the system itself
tells: the NVIDIA driver's list of GPUs (``/proc/driver/nvidia/gpus`` on
Linux, else ``nvidia-smi`` when it is on the PATH) or an Apple-silicon Mac.
It is a forecast, said as one ("auto: ..."); the run's own ``RunStarted``
event names the device torch really chose, and the window shows that.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")
SMI_TIMEOUT_S = 3.0


def nvidia_gpus(proc: Path = NVIDIA_PROC) -> list[str]:
    """Names of the NVIDIA GPUs the driver reports ([] when none, or no driver)."""
    names = []
    try:
        for info in sorted(proc.glob("*/information")):
            for line in info.read_text(errors="replace").splitlines():
                if line.startswith("Model:"):
                    names.append(line.split(":", 1)[1].strip())
    except OSError:
        pass
    if names or shutil.which("nvidia-smi") is None:
        return names
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def describe_local_device() -> str:
    """The device ``auto`` will most likely train on, in words, without importing torch (torch's answer if loaded)."""
    if "torch" in sys.modules:  # already paid for: ask it
        from engine.device import device_label, select_device

        return device_label(select_device("auto")[0])
    gpus = nvidia_gpus()
    if gpus:
        more = f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else ""
        return f"auto: {gpus[0]}{more}"
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return "auto: Apple GPU (MPS)"
    return f"auto: CPU ({os.cpu_count() or 1} cores)"
