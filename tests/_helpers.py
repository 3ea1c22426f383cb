"""Random float64 tensors and parameters drawn from a local torch.Generator, for the model tests."""

import torch

F64 = torch.float64


def randn(g, *shape, device="cpu", scale=1.0):
    return (scale * torch.randn(*shape, generator=g, dtype=F64)).to(device)


def randomize_(module, g, scale=0.5):
    """Overwrite every parameter from the local generator (module init uses the global RNG)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(randn(g, *p.shape, device=p.device, scale=scale))
    return module
