"""The forward and BPTT comparisons of test_rnn.py and test_bptt.py, on CUDA.

Skipped by conftest.py when no CUDA device is present.
"""

import itertools

import pytest
import torch
from torch.testing import assert_close
from _helpers import randomize_
from test_bptt import (
    check_elman_matches_autograd,
    check_rnn_bptt_matches_autograd,
    random_elman,
)
from test_rnn import (
    check_classifier_is_max_over_time,
    check_elman_matches_torch,
    check_lengths_match_packed_sequence,
    check_rnn_forward_matches_torch,
)

from seqmodels.recurrent import elman_forward_backward, ElmanRNN

pytestmark = pytest.mark.gpu
CUDA = "cuda"


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_forward_matches_torch_rnn_cuda(activation):
    check_rnn_forward_matches_torch(CUDA, activation)


@pytest.mark.parametrize(
    "num_layers,bidirectional,activation",
    list(itertools.product([1, 3], [False, True], ["tanh", "relu"])),
)
def test_elman_rnn_matches_torch_cuda(num_layers, bidirectional, activation):
    check_elman_matches_torch(CUDA, num_layers, bidirectional, activation)


def test_lengths_match_packed_sequence_cuda():
    check_lengths_match_packed_sequence(CUDA)


def test_classifier_is_max_over_time_cuda():
    check_classifier_is_max_over_time(CUDA, bidirectional=True)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("truncate_every", [None, 3])
def test_rnn_bptt_matches_autograd_cuda(activation, truncate_every):
    check_rnn_bptt_matches_autograd(CUDA, 7, 3, 4, 5, activation, truncate_every)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_elman_forward_backward_matches_autograd_cuda(activation):
    check_elman_matches_autograd(CUDA, activation)


def test_cpu_and_cuda_agree():
    g = torch.Generator().manual_seed(20)
    model = randomize_(ElmanRNN(3, 5, num_layers=2, bidirectional=True, dtype=torch.float64), g)
    X = torch.randn(6, 4, 3, generator=g, dtype=torch.float64)
    out_cpu, last_cpu = model(X)
    out_gpu, last_gpu = model.to(CUDA)(X.to(CUDA))
    assert out_gpu.device.type == "cuda"
    assert_close(out_gpu.cpu(), out_cpu)
    assert_close(last_gpu.cpu(), last_cpu)

    X, targets, h_init, params = random_elman(g, T=5, B=3, D=2, H=4, K=3)
    loss_cpu, grads_cpu = elman_forward_backward(X, targets, h_init, params)
    loss_gpu, grads_gpu = elman_forward_backward(
        X.to(CUDA), targets.to(CUDA), h_init.to(CUDA), {k: v.to(CUDA) for k, v in params.items()})
    assert_close(loss_gpu.cpu(), loss_cpu)
    for name, grad in grads_cpu.items():
        assert grad.device.type == "cpu" and grads_gpu[name].device.type == "cuda"
        assert_close(grads_gpu[name].cpu(), grad, msg=lambda m, n=name: f"d{n}: {m}")
