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

_REGIME = '''def predict_regime(W_hh):
    return "explode" if {measure} > 1 else "vanish"
'''

_PEAK = '''def transient_peak(lam, c):
    def norm_of_power(n):
        a, b = abs(lam) ** n, abs(c) * n * abs(lam) ** (n - 1)
        return {norm}

    rate, u = -math.log({lam_abs}), abs(c) / abs(lam)
    if u <= 2 * rate:
        return 0, 1.0
    x = {x}
    n_star = {choose}
    return n_star, float(norm_of_power(n_star))
'''


def _peak(norm="(b + math.sqrt(b * b + 4 * a * a)) / 2", lam_abs="abs(lam)", x="math.sqrt(1 / rate ** 2 - 4 / u ** 2)",
          choose="max((math.floor(x), math.ceil(x)), key=norm_of_power)"):
    return {"transient_peak": _PEAK.format(norm=norm, lam_abs=lam_abs, x=x, choose=choose)}


_PEAK_APPROX = '''def transient_peak(lam, c):
    # the peak of the off-diagonal entry c n lam^(n - 1), at n = -1 / log|lam|; the norm is taken as that entry
    if c == 0:
        return 0, 1.0
    n_star = max(0, round(-1 / math.log(abs(lam))))
    return n_star, float(max(1.0, abs(c) * n_star * abs(lam) ** (n_star - 1)))
'''

_TRANSIENT = '''def max_transient_matrix(H, gain):
    {body}
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
     {"gradient_norms_linear": '''def gradient_norms_linear(W_hh, steps):
    P, norms = torch.eye(W_hh.shape[0], dtype=W_hh.dtype), []
    for n in range(steps + 1):
        norms.append(torch.linalg.matrix_norm(P))            # Frobenius, the default
        P = W_hh @ P
    return torch.stack(norms)
'''},
     {"test_gradient_norms_linear"}),
    ("transient_peak takes the peak of the off-diagonal entry, n = -1/log|lam|, as the peak of the norm",
     {"transient_peak": _PEAK_APPROX}, {"test_peak_none", "test_peak_step", "test_peak_value"}),
    ("transient_peak maximizes the continuous n and truncates it (int(x)) instead of comparing the two integers",
     _peak(choose="int(x)"), {"test_peak_step", "test_peak_value"}),
    ("transient_peak uses the Frobenius norm of W^n instead of its spectral norm",
     _peak(norm="math.sqrt(2 * a * a + b * b)"), {"test_peak_value"}),
    ("transient_peak drops the 4/u^2 term and rounds: n = round(-1/log|lam|) whenever there is a transient",
     _peak(x="1 / rate", choose="round(x)"), {"test_peak_step", "test_peak_value"}),
    # Tuned to the visible tests, whose lam is always positive: only the hidden tests catch it.
    ("transient_peak takes log(lam) instead of log|lam| (fails for negative lam)",
     _peak(lam_abs="lam"), {"test_peak_none", "test_peak_step", "test_peak_value"}),
    ("max_transient_matrix returns gain * I (norm gain, but every eigenvalue is gain)",
     {"max_transient_matrix": _TRANSIENT.format(body="return gain * torch.eye(H)")}, {"test_transient_constraints"}),
    ("max_transient_matrix returns a random strictly upper triangular matrix scaled to norm gain",
     {"max_transient_matrix": _TRANSIENT.format(body=(
         "W = torch.triu(torch.randn(H, H, generator=torch.Generator().manual_seed(0)), diagonal=1)\n"
         "    return gain * W / torch.linalg.matrix_norm(W, 2) if H > 1 else torch.zeros(1, 1)"))},
     {"test_transient_growth"}),
    ("max_transient_matrix puts gain on the superdiagonal and a small 0.5 on the diagonal (eigenvalues 0.5, not 0)",
     {"max_transient_matrix": _TRANSIENT.format(body="return torch.diag(torch.full((H - 1,), float(gain)), 1) + 0.5 * torch.eye(H)")},
     {"test_transient_constraints"}),
    ("max_transient_matrix spreads the gain: gain / (H - 1) on the superdiagonal",
     {"max_transient_matrix": _TRANSIENT.format(body=(
         "return torch.diag(torch.full((H - 1,), gain / (H - 1)), 1) if H > 1 else torch.zeros(1, 1)"))},
     {"test_transient_growth"}),
    # Tuned to the visible tests (H = 4): only the hidden tests catch it.
    ("max_transient_matrix builds a 4 x 4 shift whatever H is",
     {"max_transient_matrix": _TRANSIENT.format(body="return torch.diag(torch.full((3,), float(gain)), 1)")},
     {"test_transient_constraints", "test_transient_growth"}),
]
