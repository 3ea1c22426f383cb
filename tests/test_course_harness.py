"""The harness's parts without a notebook: the static rule check and the channel's codec."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

from seqcourse import _channel
from seqcourse.harness import AUTOGRAD_RULES, rules, violations

AUTOGRAD = ["seqmodels", *AUTOGRAD_RULES, "torch.nn.RNN"]


@pytest.mark.parametrize("source, broken", [
    ("def f(x):\n    return x @ x.T", []),
    ("def f(x):\n    return torch.autograd.grad(x.sum(), [x])", ["torch.autograd"]),
    ("import torch.autograd as ag\ndef f(x):\n    return ag.grad(x, x)", ["torch.autograd"]),
    ("from torch.autograd import grad\n", ["torch.autograd"]),
    ("from torch import autograd\n", ["torch.autograd"]),
    ("import torch as t\ny = t.autograd.functional.jacobian", ["torch.autograd"]),
    ("def f(loss):\n    loss.backward()", [".backward"]),
    ("g = getattr(torch, 'autograd')", ["torch.autograd"]),
    ("import seqmodels", ["seqmodels"]),
    ("from seqmodels.recurrent import rnn_bptt", ["seqmodels"]),
    ("m = __import__('seqmodels')", ["seqmodels"]),
    ("import importlib\nm = importlib.import_module('seqmodels.lm')", ["seqmodels"]),
    ("rnn = torch.nn.RNN(3, 4)", ["torch.nn.RNN"]),
    ("from torch import nn\nrnn = nn.RNN(3, 4)", ["torch.nn.RNN"]),
    ("cell = torch.nn.RNNCell(3, 4)  # RNNCell is another rule", []),
    ("f = torch.func.grad", ["torch.func"]),
    ("def broken(:\n", []),  # a syntax error is reported by running the cell, not here
])
def test_static_check(source, broken):
    assert violations(source, AUTOGRAD) == broken


def test_seqmodels_is_forbidden_everywhere():
    assert rules({"cell_type": "code", "metadata": {}}) == ["seqmodels"]
    cell = {"cell_type": "code", "metadata": {"seqcourse": {"forbid": ["torch.autograd"]}}}
    assert rules(cell) == ["seqmodels", "torch.autograd"]


@pytest.fixture
def pair():
    """Two endpoints joined by pipes (the grader's and the student's ends)."""
    a_r, b_w = os.pipe()
    b_r, a_w = os.pipe()
    yield _channel.Endpoint(a_r, a_w), _channel.Endpoint(b_r, b_w)
    for fd in (a_r, a_w, b_r, b_w):
        os.close(fd)


def _cross(pair, value):
    left, right = pair
    tensors: dict = {}
    left.send({"op": "return", "value": left.encode(value, tensors)}, tensors)
    message, blob = right.recv()
    return right.decode(message["value"], blob)


def test_plain_data_crosses_intact(pair):
    value = {"X": torch.arange(6.0).reshape(2, 3), "n": 3, "ok": True, "none": None, "name": "beam",
             (1, 2): [0.5, float("inf")], "ids": torch.tensor([1, 2], dtype=torch.long), "dtype": torch.float64}
    got = _cross(pair, value)
    assert set(got) == set(value)
    assert torch.equal(got["X"], value["X"]) and got["ids"].dtype == torch.long
    assert got[(1, 2)] == [0.5, float("inf")] and got["dtype"] is torch.float64
    assert isinstance(_cross(pair, (1, [2, (3,)])), tuple)


def test_a_tensor_subclass_arrives_as_a_plain_tensor(pair):
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    got = _cross(pair, torch.zeros(3).as_subclass(Liar))
    assert type(got) is torch.Tensor


def test_a_parameter_keeps_its_grad(pair):
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    got = _cross(pair, [p])[0]
    assert got.requires_grad and torch.equal(got.grad, torch.ones(2))


@pytest.mark.parametrize("value", [object(),
                                   torch.Generator(), type("Boom", (), {"__reduce__": lambda s: (print, ("x",))})()])
def test_other_objects_are_refused(pair, value):
    with pytest.raises(_channel.ChannelError, match="cannot cross the channel"):
        pair[0].encode(value, {})


def test_decoding_never_unpickles(pair):
    left, right = pair
    payload = pickle.dumps(print)
    os.write(left.wfd, _channel.HEADER.pack(len(payload), 0) + payload)
    with pytest.raises(ValueError):  # not JSON: refused, nothing is run
        right.recv()
    for bad in ({"$fn": "x"}, {"$tensor": "missing"}, {"$dtype": "Tensor"}, {"$other": 1}):
        with pytest.raises(_channel.ChannelError):
            right.decode(bad, {})


def test_a_function_crosses_as_a_remote_handle(pair):
    left, right = pair
    handle = right.decode(left.encode(lambda x: x * 2, {}), {})
    assert isinstance(handle, _channel.RemoteHandle)
