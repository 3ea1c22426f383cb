"""CUDA checks for chapter 9: the same numbers on the GPU as on the CPU (float64)."""

import pytest
import torch

from seqmodels.transformer import causal_mask, multi_head_attention, TransformerLM
from seqmodels.decoding import beam_search

pytestmark = pytest.mark.gpu


def test_multi_head_attention_cuda_equals_cpu():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2, 7, 16, generator=g, dtype=torch.float64)
    W = [torch.randn(16, 16, generator=g, dtype=torch.float64) / 4 for _ in range(4)]
    M = causal_mask(7, dtype=torch.float64)
    cpu, _ = multi_head_attention(X, *W, 4, mask=M)
    gpu, _ = multi_head_attention(X.cuda(), *(w.cuda() for w in W), 4, mask=M.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu)


def test_lm_cached_beam_search_cuda_equals_cpu():
    g = torch.Generator().manual_seed(1)
    lm = TransformerLM(11, d=16, num_heads=2, n_layers=2).double().eval()
    with torch.no_grad():
        for p in lm.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.3)
    bos = torch.tensor([1, 2])
    cpu = beam_search(lm.step_fn(), bos=bos, eos=0, beam_size=3, max_len=10)
    gpu = beam_search(lm.cuda().step_fn(), bos=bos.cuda(), eos=0, beam_size=3, max_len=10)
    assert torch.equal(gpu.tokens.cpu(), cpu.tokens)
    torch.testing.assert_close(gpu.log_probs.cpu(), cpu.log_probs)
