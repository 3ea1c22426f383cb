"""Plausible wrong answers for assignment ch03_lstm_gru (solutions/ch03_lstm_gru/lstm_gru.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test cell grade_ids that must lose points]).
"""

_LSTM_HEAD = '''def lstm_cell(x_t, h_prev, c_prev, W_x, W_h, b):
    a = x_t @ W_x.T + h_prev @ W_h.T + b
'''

_GRU_HEAD = '''def gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h):
    a_xr, a_xz, a_xn = (x_t @ W_x.T + b_x).chunk(3, dim=1)
    a_hr, a_hz, a_hn = (h_prev @ W_h.T + b_h).chunk(3, dim=1)
    r = torch.sigmoid(a_xr + a_hr)
    z = torch.sigmoid(a_xz + a_hz)
'''

WRONG_ANSWERS = [
    ("LSTM gate blocks read in the order i, f, o, g instead of i, f, g, o",
     {"lstm_cell": _LSTM_HEAD + '''    a_i, a_f, a_o, a_g = a.chunk(4, dim=1)
    c_t = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * torch.tanh(c_t), c_t
'''},
     ["test_lstm_cell_values"]),
    ("LSTM input and forget gates swapped",
     {"lstm_cell": _LSTM_HEAD + '''    a_f, a_i, a_g, a_o = a.chunk(4, dim=1)
    c_t = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * torch.tanh(c_t), c_t
'''},
     ["test_lstm_cell_values", "test_lstm_cell_memory"]),
    ("LSTM h_t = o_t * c_t, the tanh of the cell forgotten",
     {"lstm_cell": _LSTM_HEAD + '''    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    c_t = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * c_t, c_t
'''},
     ["test_lstm_cell_values"]),
    ("LSTM returns (c_t, h_t) in the wrong order",
     {"lstm_cell": _LSTM_HEAD + '''    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    c_t = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    return c_t, torch.sigmoid(a_o) * torch.tanh(c_t)
'''},
     ["test_lstm_cell_values", "test_lstm_cell_memory"]),
    ("GRU with the other convention: z_t weighs the candidate",
     {"gru_cell": _GRU_HEAD + '''    n = torch.tanh(a_xn + r * a_hn)
    return z * n + (1 - z) * h_prev
'''},
     ["test_gru_cell_values", "test_gru_update_gate"]),
    ("GRU with the reset gate before the product (Cho et al.), not PyTorch's",
     {"gru_cell": _GRU_HEAD + '''    H = h_prev.shape[1]
    n = torch.tanh(a_xn + (r * h_prev) @ W_h[2 * H:].T + b_h[2 * H:])
    return (1 - z) * n + z * h_prev
'''},
     ["test_gru_cell_values"]),
    ("GRU without the reset gate",
     {"gru_cell": _GRU_HEAD + '''    n = torch.tanh(a_xn + a_hn)
    return (1 - z) * n + z * h_prev
'''},
     ["test_gru_cell_values"]),
    ("bidirectional: the backward states are not reversed back to the original time order",
     {"bidirectional": '''def bidirectional(run_forward, run_backward, X):
    return torch.cat([run_forward(X), run_backward(X.flip(0))], dim=-1)
'''},
     ["test_bidirectional_values"]),
    ("bidirectional: the backward layer reads the sequence forwards",
     {"bidirectional": '''def bidirectional(run_forward, run_backward, X):
    return torch.cat([run_forward(X), run_backward(X)], dim=-1)
'''},
     ["test_bidirectional_values"]),
    ("bidirectional: concatenated along time instead of features",
     {"bidirectional": '''def bidirectional(run_forward, run_backward, X):
    return torch.cat([run_forward(X), run_backward(X.flip(0)).flip(0)], dim=0)
'''},
     ["test_bidirectional_shape", "test_bidirectional_values"]),
    ("parameter count with one bias per gate (the book's count, not torch.nn's)",
     {"num_parameters": '''def num_parameters(kind, D, H):
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    return gates * (H * D + H * H + H)
'''},
     ["test_num_parameters"]),
    ("parameter count that forgets the recurrent weights",
     {"num_parameters": '''def num_parameters(kind, D, H):
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    return gates * (H * D + 2 * H)
'''},
     ["test_num_parameters"]),
]

_COUPLED = '''def coupled_lstm_cell_backward(x_t, h_prev, c_prev, W_x, W_h, b, dh_t, dc_t):
    a_f, a_g, a_o = (x_t @ W_x.T + h_prev @ W_h.T + b).chunk({chunks}, dim=1)
    f, g, o = torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
    tc = torch.tanh(f * c_prev + (1 - f) * g)
    dc = {dc}
    da = torch.cat([{da_f}, {da_g}, {da_o}], dim=1)
    return {{"a": da, "x_t": da @ W_x, "h_prev": da @ W_h, "c_prev": {dc_prev},
            "W_x": da.T @ x_t, "W_h": da.T @ h_prev, "b": da.sum(0)}}
'''


def _coupled(chunks="3", dc="dc_t + dh_t * o * (1 - tc ** 2)", da_f="dc * (c_prev - g) * f * (1 - f)",
             da_g="dc * (1 - f) * (1 - g ** 2)", da_o="dh_t * tc * o * (1 - o)", dc_prev="dc * f"):
    return {"coupled_backward": _COUPLED.format(chunks=chunks, dc=dc, da_f=da_f, da_g=da_g, da_o=da_o, dc_prev=dc_prev)}


_COUPLED_VALUES = ["test_coupled_gates", "test_coupled_states", "test_coupled_weights"]

_EFFECTIVE = '''def num_effective_parameters(kind, D, H):
    return {formula}
'''

WRONG_ANSWERS += [
    ("coupled LSTM: the forget gate's gradient of the standard LSTM, dc * c_prev * f(1-f) (the -g_t term forgotten)",
     _coupled(da_f="dc * c_prev * f * (1 - f)"), _COUPLED_VALUES),
    ("coupled LSTM: the total cell gradient forgets the path through h_t = o_t tanh(c_t)",
     _coupled(dc="dc_t"), _COUPLED_VALUES),
    ("coupled LSTM: the candidate weighted by f_t instead of 1 - f_t",
     _coupled(da_g="dc * f * (1 - g ** 2)"), _COUPLED_VALUES),
    ("coupled LSTM: the output gate's gradient uses tanh'(c_t) instead of tanh(c_t)",
     _coupled(da_o="dh_t * (1 - tc ** 2) * o * (1 - o)"), _COUPLED_VALUES),
    ("coupled LSTM: the gradient sent to c_prev misses the forget factor f_t",
     _coupled(dc_prev="dc"), ["test_coupled_states"]),
    ("coupled LSTM: the gradient sent to c_prev uses only dc_t, not the path through h_t",
     _coupled(dc_prev="dc_t * f"), ["test_coupled_states"]),
    ("coupled LSTM: read with the standard LSTM's four gate blocks",
     _coupled(chunks="4"), ["test_coupled_shapes", *_COUPLED_VALUES]),
    ("effective parameters: the MGU's b_hn merged as well (nothing multiplies a bias, the GRU lesson missed)",
     {"num_effective_parameters": _EFFECTIVE.format(formula="2 * (H * (D + H) + H)")},
     ["test_num_effective_parameters"]),
    ("effective parameters: the stored count (no bias merged)",
     {"num_effective_parameters": _EFFECTIVE.format(formula="2 * (H * (D + H) + 2 * H)")},
     ["test_num_effective_parameters"]),
    ("effective parameters: the MGU-before keeps b_hn apart like the MGU (where the gate acts ignored)",
     {"num_effective_parameters": _EFFECTIVE.format(formula="2 * (H * (D + H) + H) + H")},
     ["test_num_effective_parameters"]),
]
