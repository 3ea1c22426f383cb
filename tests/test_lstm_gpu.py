"""The LSTM, GRU and fused-LSTM comparisons on CUDA. Skipped by conftest.py without a CUDA device."""

import itertools

import pytest
import torch
from test_gru import check_gru_lengths_match_packed, check_gru_matches_torch
from test_lstm import check_lstm_lengths_match_packed, check_lstm_matches_torch
from test_lstm_fused import check_fused_matches_plain

pytestmark = pytest.mark.gpu
CUDA = "cuda"


@pytest.mark.parametrize("num_layers,bidirectional", list(itertools.product([1, 3], [False, True])))
def test_lstm_matches_torch_cuda(num_layers, bidirectional):
    check_lstm_matches_torch(CUDA, num_layers, bidirectional)


@pytest.mark.parametrize("num_layers,bidirectional", list(itertools.product([1, 3], [False, True])))
def test_gru_matches_torch_cuda(num_layers, bidirectional):
    check_gru_matches_torch(CUDA, num_layers, bidirectional)


def test_lengths_match_packed_cuda():
    check_lstm_lengths_match_packed(CUDA)
    check_gru_lengths_match_packed(CUDA)


@pytest.mark.parametrize("compile", [False, True])
def test_fused_matches_plain_cuda(compile):
    check_fused_matches_plain(CUDA, compile=compile)
    check_fused_matches_plain(CUDA, compile=compile, T=16, B=64, D=32, Hn=128, dtype=torch.float32)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_module_matches_cudnn(bidirectional):
    check_lstm_matches_torch(CUDA, 2, bidirectional, fused=True)
