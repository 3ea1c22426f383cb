"""seqmodels.recurrent.clip_grad_norm against torch.nn.utils.clip_grad_norm_ on copies of the same gradients."""
import math

import pytest
import torch

from seqmodels.recurrent import clip_grad_norm


def _params(seed, scale=1.0, shapes=((3, 4), (5,), (2, 2, 2))):
    g = torch.Generator().manual_seed(seed)
    params = []
    for shape in shapes:
        p = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        p.grad = scale * torch.randn(shape, generator=g, dtype=torch.float64)
        params.append(p)
    return params


def _copy(params):
    out = []
    for p in params:
        q = p.detach().clone().requires_grad_(True)
        q.grad = None if p.grad is None else p.grad.clone()
        out.append(q)
    return out


def _compare(params, max_norm, norm_type=2.0):
    ours, theirs = _copy(params), _copy(params)
    n_ours = clip_grad_norm(ours, max_norm, norm_type)
    n_torch = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    torch.testing.assert_close(n_ours, n_torch, equal_nan=True)
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None
        else:
            torch.testing.assert_close(a.grad, b.grad, equal_nan=True)
    return ours, n_ours


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_equals_torch(norm_type, max_norm):
    _compare(_params(seed=0, scale=2.0), max_norm, norm_type)


def test_large_gradient_is_rescaled_to_the_threshold_and_keeps_its_direction():
    params = _params(seed=1, scale=10.0)
    before = torch.cat([p.grad.flatten() for p in params])
    ours, total = _compare(params, max_norm=1.0)
    after = torch.cat([p.grad.flatten() for p in ours])
    assert total.item() == pytest.approx(before.norm().item())
    assert after.norm().item() == pytest.approx(1.0, rel=1e-5)
    assert torch.nn.functional.cosine_similarity(before, after, dim=0).item() == pytest.approx(1.0)


def test_small_gradient_is_unchanged():
    params = _params(seed=2, scale=1e-3)
    ours, _ = _compare(params, max_norm=5.0)
    for a, b in zip(ours, params):
        assert torch.equal(a.grad, b.grad)


def test_zero_gradient_stays_zero_and_finite():
    params = _params(seed=3, scale=0.0)
    ours, total = _compare(params, max_norm=1.0)
    assert total.item() == 0.0
    assert all(torch.equal(p.grad, torch.zeros_like(p)) for p in ours)


def test_parameters_without_grad_are_skipped_and_a_single_tensor_is_accepted():
    params = _params(seed=4, scale=3.0)
    params[1].grad = None
    _compare(params, max_norm=0.5)
    single = _params(seed=5, scale=3.0, shapes=((6,),))[0]
    theirs = _copy([single])[0]
    torch.testing.assert_close(clip_grad_norm(single, 0.5), torch.nn.utils.clip_grad_norm_(theirs, 0.5))
    torch.testing.assert_close(single.grad, theirs.grad)


def test_no_gradient_at_all_gives_zero_norm():
    p = torch.zeros(3, requires_grad=True)
    assert clip_grad_norm([p], 1.0).item() == 0.0 == torch.nn.utils.clip_grad_norm_([p], 1.0).item()


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_non_finite_gradient_behaves_like_torch(bad):
    params = _params(seed=6)
    params[0].grad[0, 0] = bad
    _compare(params, max_norm=1.0)   # scaled by the non-finite factor, as torch does
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm(_copy(params), 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(_copy(params), 1.0, error_if_nonfinite=True)


def test_float32_gradients():
    params = [p.detach().float().requires_grad_(True) for p in _params(seed=7)]
    for p, q in zip(params, _params(seed=7, scale=4.0)):
        p.grad = q.grad.float()
    _compare(params, max_norm=1.0)


def test_bad_thresholds_are_rejected():
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(_params(seed=8), -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm(_params(seed=8), 1.0, norm_type=0)
