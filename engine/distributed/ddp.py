"""Wrapping an algorithm's modules in DistributedDataParallel without changing what they are.

Algorithms hold their modules (``self.model``, ``self.g``/``self.d``) and hand them on at the end;
checkpoints keep their ``state_dict``.  Swapping them for DDP wrappers would change both (the keys
gain a ``module.`` prefix, the trained model handed on would be a wrapper).  So instead each
module's *training* forward is routed through a DDP that wraps a thin proxy of it:

* ``module(x)`` in training mode with gradients on → DDP's forward (buffers broadcast from rank 0,
  gradient all-reduce prepared for the following backward) → the module's own ``forward``;
* any other forward (validation, previews, sampling under ``no_grad``) → the module's own forward,
  with no collective, so a rank can never wait on a forward the others do not make.

The module object, its hooks (run once, by the outer call) and its ``state_dict`` stay as they are;
:meth:`DDPModules.close` removes the routing when training ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn


class _Proxy(nn.Module):
    """Holds ``module`` (so DDP sees its parameters and buffers) and runs its original forward."""

    def __init__(self, module: nn.Module, forward: Any) -> None:
        super().__init__()
        self.inner = module
        self._forward = forward

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._forward(*args, **kwargs)


class DDPModules:
    """The DDP routing of several modules of one algorithm (a GAN has two)."""

    def __init__(self, modules: Iterable[nn.Module], device: str) -> None:
        from torch.nn.parallel import DistributedDataParallel

        self.modules: list[nn.Module] = []
        self._ddps: list[DistributedDataParallel] = []
        device_ids = [torch.device(device).index or 0] if str(device).startswith("cuda") else None
        for module in modules:
            if not any(p.requires_grad for p in module.parameters()):
                continue  # nothing trained in it: no gradients to reduce
            original = module.forward
            ddp = DistributedDataParallel(_Proxy(module, original), device_ids=device_ids)

            def routed(*args: Any, _m: nn.Module = module, _ddp: Any = ddp, _f: Any = original, **kwargs: Any) -> Any:
                if _m.training and torch.is_grad_enabled():
                    return _ddp(*args, **kwargs)
                return _f(*args, **kwargs)

            module.forward = routed  # type: ignore[method-assign]
            self.modules.append(module)
            self._ddps.append(ddp)

    def close(self) -> None:
        """Give the modules back their own forward (the trained model handed on is a plain module)."""
        for module in self.modules:
            module.__dict__.pop("forward", None)
        self._ddps.clear()
        self.modules.clear()


def trained_modules(objects: dict[str, Any]) -> list[nn.Module]:
    """The modules among a checkpoint's objects (each once), in a stable order."""
    seen: list[nn.Module] = []
    for obj in objects.values():
        if isinstance(obj, nn.Module) and all(obj is not m for m in seen):
            seen.append(obj)
    return seen
