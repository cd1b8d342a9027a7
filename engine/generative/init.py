"""DCGAN weight initialisation (Radford et al., 2015).

Conv and transposed-conv weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02)
with zero shift.  The paper found this start keeps early G/D dynamics tame;
PyTorch's default (Kaiming-uniform) init makes DCGANs noticeably less stable.
"""

from __future__ import annotations

from torch import nn


def dcgan_init(module: nn.Module) -> None:
    """Apply with ``model.apply(dcgan_init)``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
