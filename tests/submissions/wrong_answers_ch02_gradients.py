"""Plausible wrong answers for assignment ch02_gradients (vanishing_gradients.ipynb).

Same shape as tests/submissions/wrong_answers.py:
(description, {solution_cell_grade_id: wrong_source}, {test grade_ids that must fail, no more, no fewer}).
"""
from __future__ import annotations

_CLIP = '''def clip_grad_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
{body}
'''

_TBPTT = '''def truncated_bptt(model, X, targets, chunk_length, loss_fn, optimizer, h_init=None):
    h = h_init
    losses = []
    for start in range(0, {stop}, chunk_length):
{carry}
        Y, h = model(X[start:start + chunk_length], h)
        loss = loss_fn(Y, targets[start:start + chunk_length])
{zero}
        loss.backward({retain})
        optimizer.step()
        losses.append(loss.item())
    return losses, h.detach()
'''


def _tbptt(stop="X.shape[0]", carry="        if h is not None:\n            h = h.detach()",
           zero="        optimizer.zero_grad()", retain=""):
    return _TBPTT.format(stop=stop, carry=carry, zero=zero, retain=retain)


_REGIME = '''def predict_regime(W_hh):
    return "explode" if {measure} > 1 else "vanish"
'''

_NORMS = '''def gradient_norms_linear(W_hh, steps):
    return torch.stack([{term} for n in range(steps + 1)])
'''

WRONG_ANSWERS = [
    ("clip_grad_norm clips every parameter by its own norm",
     {"clip_grad_norm": '''def clip_grad_norm(parameters, max_norm):
    params = [p for p in parameters if p.grad is not None]
    total_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
    for p in params:
        n = p.grad.norm()
        if n > max_norm:
            p.grad.mul_(max_norm / n)
    return total_norm
'''},
     {"test_clip_several_parameters"}),
    ("clip_grad_norm always rescales to max_norm (also small and zero gradients)",
     {"clip_grad_norm": _CLIP.format(body="    for g in grads:\n        g.mul_(max_norm / total_norm)\n    return total_norm")},
     {"test_clip_small_gradient", "test_clip_zero_gradient"}),
    ("clip_grad_norm returns the norm after clipping",
     {"clip_grad_norm": _CLIP.format(body="    scale = min(1.0, max_norm / (total_norm.item() + 1e-6))\n"
                                         "    for g in grads:\n        g.mul_(scale)\n"
                                         "    return torch.sqrt(sum((g ** 2).sum() for g in grads))")},
     {"test_clip_large_gradient", "test_clip_several_parameters"}),
    ("truncated_bptt does not detach the state (backward fails on the second chunk)",
     {"truncated_bptt": _tbptt(carry="        pass")},
     {"test_tbptt_chunks", "test_tbptt_state_carried", "test_tbptt_gradients"}),
    ("truncated_bptt does not detach the state and keeps the graph alive (gradients leak into earlier chunks)",
     {"truncated_bptt": _tbptt(carry="        pass", retain="retain_graph=True")},
     {"test_tbptt_gradients"}),
    ("truncated_bptt restarts every chunk from h_init instead of carrying the state",
     {"truncated_bptt": _tbptt(carry="        h = h_init")},
     {"test_tbptt_state_carried", "test_tbptt_gradients"}),
    ("truncated_bptt never clears the gradients",
     {"truncated_bptt": _tbptt(zero="        pass")},
     {"test_tbptt_gradients"}),
    ("truncated_bptt drops the last, shorter chunk",
     {"truncated_bptt": _tbptt(stop="X.shape[0] - chunk_length + 1")},
     {"test_tbptt_chunks", "test_tbptt_state_carried", "test_tbptt_gradients"}),
    ("predict_regime uses the norm of W_hh instead of its spectral radius",
     {"predict_regime": _REGIME.format(measure="torch.linalg.matrix_norm(W_hh, ord=2)")},
     {"test_regime_general", "test_regime_given"}),
    ("predict_regime takes the largest real eigenvalue (no absolute value)",
     {"predict_regime": _REGIME.format(measure="torch.linalg.eigvals(W_hh).real.max()")},
     {"test_regime_diagonal", "test_regime_general"}),
    ("gradient_norms_linear uses the bound ||W_hh||^n instead of ||W_hh^n||",
     {"gradient_norms_linear": _NORMS.format(term="torch.linalg.matrix_norm(W_hh, ord=2) ** n")},
     {"test_gradient_norms_linear", "test_regime_given"}),
    ("gradient_norms_linear uses the Frobenius norm",
     {"gradient_norms_linear": _NORMS.format(term="torch.linalg.matrix_norm(torch.linalg.matrix_power(W_hh, n))")},
     {"test_gradient_norms_linear"}),
]
