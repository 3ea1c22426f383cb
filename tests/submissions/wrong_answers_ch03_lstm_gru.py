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
