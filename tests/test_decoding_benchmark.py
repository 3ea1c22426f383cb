"""The decoding benchmark runs with tiny sizes and finds batched and one-at-a-time outputs identical."""

import pytest

from _helpers import load_benchmark


def _load():
    return load_benchmark("decoding")


def test_benchmark_runs_and_checks_identical_outputs(capsys):
    bench = _load()
    status = bench.main(["--device", "cpu", "--sentences", "6", "--beam", "3", "--max-len", "12",
                         "--hidden", "16", "--repeats", "1"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("OK: identical tokens") == 2, out
    assert "sentences/s" in out and "torch" in out


def test_benchmark_detects_different_outputs():
    bench = _load()
    import torch

    g = torch.Generator().manual_seed(0)
    model = bench.random_decoder(8, 4, 8, eos=0, generator=g)
    h0 = torch.randn(1, 3, 8, generator=g)
    bos = torch.tensor([1, 2, 3])
    a = bench.greedy_search(model.step, h0, bos=bos, eos=0, max_len=6, state_batch_dim=1)
    b = bench.greedy_search(model.step, h0.flip(1), bos=bos.flip(0), eos=0, max_len=6, state_batch_dim=1)
    assert bench.same_outputs(a, a)[0]
    assert not bench.same_outputs(a, b)[0]


@pytest.mark.gpu
def test_benchmark_on_gpu():
    assert _load().main(["--device", "cuda", "--sentences", "8", "--max-len", "10", "--repeats", "1"]) == 0
