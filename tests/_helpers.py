"""Test helpers: random float64 tensors and parameters from a local torch.Generator; benchmark scripts as modules."""

import importlib.util
from pathlib import Path

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


def load_benchmark(name):
    """Import ``benchmarks/<name>.py`` (scripts, not a package) as a module."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
