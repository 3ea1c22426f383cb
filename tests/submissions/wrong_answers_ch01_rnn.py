"""Plausible wrong answers for the leaky-integrator BPTT of assignment ch01_rnn (solutions/ch01_rnn/rnn_bptt.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test cell grade_ids that must lose points]).
The forward-pass answers are in wrong_answers.py.
"""

_LEAKY = '''def leaky_rnn_bptt(X, h_init, W_xh, W_hh, b_h, a, H, dL_dH):
    a = {rate}
    dW_xh, dW_hh, db_h = torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros_like(b_h)
    dX, da = torch.zeros_like(X), {da0}
    dh_next = torch.zeros_like(h_init)
    for t in reversed(range(X.shape[0])):
        h_prev = H[t - 1] if t > 0 else h_init
        u = torch.tanh(X[t] @ W_xh.T + h_prev @ W_hh.T + b_h)
        dh = dL_dH[t] + dh_next
        da = da + {da}
        dz = {dz}
        dW_xh += dz.T @ X[t]
        dW_hh += dz.T @ h_prev
        db_h += dz.sum(0)
        dX[t] = dz @ W_xh
        dh_next = {carry}
    return {{"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h, "h_init": dh_next, "X": dX, "a": da}}
'''


def _leaky(rate="a", da0="0.0", da="(dh * (u - h_prev)).sum()", dz="a * dh * (1 - u ** 2)",
           carry="(1 - a) * dh + dz @ W_hh"):
    return {"leaky_bptt": _LEAKY.format(rate=rate, da0=da0, da=da, dz=dz, carry=carry)}


_VALUES = ["test_leaky_one_step", "test_leaky_weights", "test_leaky_inputs", "test_leaky_rate"]

WRONG_ANSWERS = [
    ("leaky BPTT takes tanh'(z_t) as 1 - h_t^2 from the stored states, as the Elman loop of the chapter does",
     _leaky(dz="a * dh * (1 - H[t] ** 2)"), _VALUES),
    ("leaky BPTT forgets the leak path: the carried gradient is only dz @ W_hh",
     _leaky(carry="dz @ W_hh"), ["test_leaky_weights", "test_leaky_inputs", "test_leaky_rate"]),
    ("leaky BPTT forgets the factor a on the path through z_t",
     _leaky(dz="dh * (1 - u ** 2)", carry="(1 - a) * dh + dz @ W_hh"), _VALUES),
    ("leaky BPTT is the chapter's Elman loop (the leak ignored: a = 1 everywhere)",
     _leaky(rate="1.0"), _VALUES),
    ("gradient of a with the wrong sign, h_(t-1) - u_t", _leaky(da="(dh * (h_prev - u)).sum()"), ["test_leaky_rate"]),
    ("gradient of a uses only the direct gradient dL_dH[t], not the total reaching h_t",
     _leaky(da="(dL_dH[t] * (u - h_prev)).sum()"), ["test_leaky_rate"]),
    ("gradient of a kept per example, shape (B,), instead of one number",
     _leaky(da0="torch.zeros(X.shape[1])", da="(dh * (u - h_prev)).sum(dim=1)"), ["test_leaky_shapes", "test_leaky_rate"]),
    # Tuned to the visible tests, which all use a = 0.3: only the hidden tests catch it.
    ("leaky BPTT hard-codes the visible tests' leak rate a = 0.3 instead of reading its argument",
     _leaky(rate="0.3"), _VALUES),
]
