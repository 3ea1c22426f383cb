"""Chapter 2 reference code on CUDA: the same numbers as on the CPU (skipped without a GPU)."""
import math

import pytest
import torch

from seqmodels.recurrent import clip_grad_norm, hidden_gradient_norms

pytestmark = pytest.mark.gpu


def test_clip_grad_norm_on_cuda_equals_torch():
    g = torch.Generator().manual_seed(0)
    grads = [5 * torch.randn(shape, generator=g) for shape in [(64, 32), (32,)]]
    ours = [torch.zeros_like(x, device="cuda", requires_grad=True) for x in grads]
    theirs = [torch.zeros_like(x, device="cuda", requires_grad=True) for x in grads]
    for a, b, x in zip(ours, theirs, grads):
        a.grad, b.grad = x.cuda(), x.cuda()
    total = clip_grad_norm(ours, 1.0)
    assert total.device.type == "cuda"
    torch.testing.assert_close(total, torch.nn.utils.clip_grad_norm_(theirs, 1.0))
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.grad, b.grad)


def test_hidden_gradient_norms_on_cuda_equal_cpu():
    g = torch.Generator().manual_seed(1)
    T, B, D, H = 12, 4, 3, 16
    args = [torch.randn(T, B, D, generator=g, dtype=torch.float64), None,
            torch.randn(H, D, generator=g, dtype=torch.float64) / math.sqrt(D),
            torch.randn(H, H, generator=g, dtype=torch.float64) / math.sqrt(H),
            torch.zeros(H, dtype=torch.float64)]
    cpu = hidden_gradient_norms(*args, lambda H_: H_[-1].sum())
    gpu = hidden_gradient_norms(*[a if a is None else a.cuda() for a in args], lambda H_: H_[-1].sum())
    torch.testing.assert_close(gpu.cpu(), cpu)
