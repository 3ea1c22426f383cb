"""Hostile submissions for the chapter 1 assignment: each the most it may score and the status it must get.

Issue 15's attacks 1-7 and more. Every entry replaces answer cells of the *blank* released
notebook (the other answers stay `raise NotImplementedError()`), so an honest score is what
its stubs earn: zero-returning stubs of the right shape pass the two shape tests (2 points).
`{port}` and `{plant}` are filled in by the test (a loopback server, files that must not appear).
"""
from __future__ import annotations

from dataclasses import dataclass

ASSIGNMENT, NOTEBOOK = "ch01_rnn", "rnn_bptt"

_FWD_STUB = ("def rnn_forward(X, h_init, W_xh, W_hh, b_h):\n"
             "    return torch.zeros(X.shape[0], X.shape[1], W_hh.shape[0])\n")
# chapter 1's hand-derived question: BPTT of the leaky-integrator RNN (answer cell "leaky_bptt")
_BPTT_STUB = ("def leaky_rnn_bptt(X, h_init, W_xh, W_hh, b_h, a, H, dL_dH):\n"
              "    return {'W_xh': torch.zeros_like(W_xh), 'W_hh': torch.zeros_like(W_hh), 'b_h': torch.zeros_like(b_h),\n"
              "            'h_init': torch.zeros_like(h_init), 'X': torch.zeros_like(X), 'a': 0.0}\n")
_AUTOGRAD_BPTT = '''def leaky_rnn_bptt(X, h_init, W_xh, W_hh, b_h, a, H, dL_dH):
    leaves = [t.detach().clone().requires_grad_(True) for t in (X, h_init, W_xh, W_hh, b_h)]
    a_ = torch.tensor(float(a), requires_grad=True)
    X_, h_, Wx, Wh, b = leaves
    h, states = h_, []
    for x_t in X_:
        h = (1 - a_) * h + a_ * torch.tanh(x_t @ Wx.T + h @ Wh.T + b)
        states.append(h)
    L = (torch.stack(states) * dL_dH).sum()
    gX, gh, gWx, gWh, gb, ga = {grad}(L, leaves + [a_])
    return {{"W_xh": gWx, "W_hh": gWh, "b_h": gb, "h_init": gh, "X": gX, "a": ga}}
'''


@dataclass
class Hostile:
    student: str
    attack: str              # what it tries (issue item in brackets)
    answers: dict            # {answer cell grade_id: source}
    max_score: float         # the most its row may score (automatic points)
    status: str = ""         # a substring its status must contain ("" = any)


HOSTILE = [
    Hostile("patch_helpers", "[1] redefine the test helpers, zero stubs",
            {"rnn_forward": "_expect_close = lambda *a, **k: None\n_expect_tensor = lambda *a, **k: None\n" + _FWD_STUB,
             "leaky_bptt": _BPTT_STUB}, 2),
    Hostile("patch_torch", "[1] patch torch.Tensor / torch functions the helpers use, zero stubs",
            {"rnn_forward": "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                            "torch.Tensor.__eq__ = lambda *a: True\ntorch.testing.assert_close = lambda *a, **k: None\n"
                            + _FWD_STUB,
             "leaky_bptt": _BPTT_STUB}, 2),
    Hostile("tensor_subclass", "return a tensor subclass that claims to equal anything",
            {"rnn_forward": "class Liar(torch.Tensor):\n    def __eq__(self, other): return True\n"
                            "    def allclose(self, *a, **k): return True\n"
                            "def rnn_forward(X, h_init, W_xh, W_hh, b_h):\n"
                            "    return torch.zeros(X.shape[0], X.shape[1], W_hh.shape[0]).as_subclass(Liar)\n"}, 1),
    Hostile("call_oracle", "[2] call the notebook's own oracles",
            {"rnn_forward": "def rnn_forward(*args):\n    return _oracle_rnn(*args)[0].detach()\n",
             "leaky_bptt": "def leaky_rnn_bptt(X, h_init, W_xh, W_hh, b_h, a, H, dL_dH):\n"
                           "    return _grads_of('leaky_rnn_bptt', _leaky_states(X, h_init, W_xh, W_hh, b_h, a))\n"}, 0),
    Hostile("autograd", "[2] BPTT by torch.autograd",
            {"leaky_bptt": _AUTOGRAD_BPTT.format(grad="torch.autograd.grad")}, 0,
            "uses a forbidden API: torch.autograd (in leaky_bptt)"),
    Hostile("autograd_hidden", "[2] autograd reached through getattr (escapes the static check; off at run time)",
            {"leaky_bptt": "_ag = getattr(torch, 'auto' + 'grad')\n"
                              + _AUTOGRAD_BPTT.format(grad="getattr(_ag, 'gr' + 'ad')")}, 0),
    Hostile("seqmodels", "[2] the course's reference package",
            {"rnn_forward": "import seqmodels\ndef rnn_forward(*args):\n    return seqmodels.recurrent.rnn_forward(*args)\n",
             "leaky_bptt": "def leaky_rnn_bptt(*args):\n    return __import__('seq' + 'models').recurrent.rnn_bptt(*args)\n"}, 0,
            "uses a forbidden API: seqmodels (in rnn_forward)"),
    Hostile("read_solution", "[3] find the instructor's notebook on disk and run its solution cells",
            {"rnn_forward": '''import glob, json, os
for _root in ("/", "/work", "/root", "/tmp", os.path.expanduser("~")):
    for _p in glob.glob(_root + "/**/*.ipynb", recursive=True):
        try:
            for _c in json.load(open(_p))["cells"]:
                _s = "".join(_c["source"])
                if _c["cell_type"] == "code" and "BEGIN SOLUTION" in _s:
                    exec(_s, globals())
        except Exception:
            pass
'''}, 0),
    Hostile("tamper", "[4] zero the gradebook, overwrite others' feedback and grades.csv",
            {"rnn_forward": '''import glob, sqlite3
for _p in glob.glob("/**/*.db", recursive=True) + glob.glob("/**/*.sqlite", recursive=True):
    try:
        _c = sqlite3.connect(_p); _c.execute("UPDATE grade SET auto_score = 0"); _c.commit()
    except Exception:
        pass
for _p in glob.glob("/**/*.html", recursive=True) + glob.glob("/**/grades.csv", recursive=True) \\
        + glob.glob("/**/index.html", recursive=True) + glob.glob("/**/*.lock", recursive=True):
    try:
        open(_p, "w").write("pwned")
    except Exception:
        pass
'''}, 0),
    Hostile("kill_grader", "[5] SIGKILL every process it can see, the parent first",
            {"rnn_forward": '''import os, signal
for _pid in [os.getppid(), 1] + list(range(2, 4096)):
    if _pid != os.getpid():
        try:
            os.kill(_pid, signal.SIGKILL)
        except Exception:
            pass
os.killpg(0, signal.SIGKILL)
'''}, 0),
    Hostile("memory", "[6] allocate and touch 6 GiB", {"rnn_forward": "_big = torch.ones(6 * 2**30 // 8, dtype=torch.float64)\n"},
            0, "memory limit exceeded (2 GiB)"),
    Hostile("fork_bomb", "[6] start 300 processes",
            {"rnn_forward": '''import os, time
for _i in range(300):
    if os.fork() == 0:
        time.sleep(3)
        os._exit(0)
'''}, 0, "process limit exceeded (64 processes)"),
    Hostile("big_file", "[6] write a 200 MB file", {"rnn_forward": "open('/tmp/big', 'wb').write(b'x' * (200 << 20))\n"},
            0, "file size limit exceeded (64 MB)"),
    Hostile("network", "[6] reach a server on the loopback network",
            {"rnn_forward": "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'leak')\n"
                            "except OSError:\n    pass\n"}, 0),
    Hostile("write_outside", "[6] write into the course checkout and site-packages",
            {"rnn_forward": "for _p in {plant!r}:\n    try:\n        open(_p, 'w').write('import os')\n    except OSError:\n        pass\n"},
            0),
    Hostile("big_output", "[7] print 50 MB", {"rnn_forward": "import sys\nsys.stdout.write(('x' * 1023 + '\\n') * 51200)\n" + _FWD_STUB},
            1, "output truncated at 1 MB"),
    Hostile("ignore_interrupt", "[7] an endless loop that ignores the interrupt",
            {"rnn_forward": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                            "while True:\n    pass\n"}, 0, "timeout: cell rnn_forward ran past"),
    Hostile("unplain_result", "return an object that is not plain data (its pickle would run code)",
            {"rnn_forward": "class Boom:\n    def __reduce__(self):\n        return (print, ('pickled!',))\n"
                            "def rnn_forward(*args):\n    return Boom()\n"}, 0),
]
