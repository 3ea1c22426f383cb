"""The narrow channel between the grader and a student's process, and the student's side of it.

This file is copied, alone, into each student's sandbox and run there with `python -I`; it
imports only the standard library, torch and safetensors, never the rest of seqcourse, so
the student's process holds none of the grader's code beyond this loop.

Wire format, both ways: a frame is an 8-byte header (JSON length, blob length, big-endian
uint32), a UTF-8 JSON message and a safetensors blob holding the message's tensors. Values
are plain data only: None, bool, int, float, str, list, tuple ({"$tuple": [...]}), dict
({"$dict": [[key, value], ...]}), tensor ({"$tensor": name in the blob}), dtype
({"$dtype": "float64"}) and callables, which cross as remote handles ({"$fn": id}): calling
one sends a "call" frame back to the side that owns it. Decoding never runs code: JSON and
safetensors only, no pickle, no torch.load.
"""
from __future__ import annotations

import builtins
import json
import os
import signal
import struct
import sys
import traceback

HEADER = struct.Struct("!II")
MAX_JSON = 64 << 20
MAX_BLOB = 1 << 30
MAX_DEPTH = 64


class ChannelError(Exception):
    """A value that cannot cross, or a frame that breaks the protocol."""


class RemoteError(Exception):
    """An exception raised on the other side of the channel (its name, message and traceback)."""

    def __init__(self, ename: str, evalue: str, trace: str = ""):
        super().__init__(f"{ename}: {evalue}" if evalue else ename)
        self.ename, self.evalue, self.trace = ename, evalue, trace


class CellTimeout(BaseException):
    """Raised in the student's process when a cell or call runs past its time limit.

    A BaseException, so that `except Exception` in student code does not swallow it.
    """


def describe_error(err: BaseException) -> dict:
    if isinstance(err, RemoteError):
        return {"ename": err.ename, "evalue": err.evalue, "trace": err.trace}
    trace = "".join(traceback.format_exception(type(err), err, err.__traceback__)[-12:])
    return {"ename": type(err).__name__, "evalue": str(err)[:2000], "trace": trace[-6000:]}


def rebuild_error(info: dict) -> BaseException:
    """The other side's exception, as the builtin type of the same name where one exists
    (so a test can `except ValueError`), else a RemoteError."""
    ename, evalue = str(info.get("ename", "Error")), str(info.get("evalue", ""))
    cls = getattr(builtins, ename, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls not in (SystemExit, KeyboardInterrupt):
        try:
            err = cls(evalue)
            err.remote_trace = str(info.get("trace", ""))
            return err
        except Exception:
            pass
    return RemoteError(ename, evalue, str(info.get("trace", "")))


class Endpoint:
    """One side of the channel: encodes values, owns the handles it exported, serves calls."""

    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd = rfd, wfd
        self.exported: dict[int, object] = {}
        self.next_id = 0

    # --- framing --------------------------------------------------------------------
    def send(self, message: dict, tensors: dict) -> None:
        blob = b""
        if tensors:
            from safetensors.torch import save
            blob = save(tensors)
        data = json.dumps(message).encode()
        if len(data) > MAX_JSON or len(blob) > MAX_BLOB:
            raise ChannelError(f"message too large ({len(data)} bytes of JSON, {len(blob)} of tensors)")
        view = memoryview(HEADER.pack(len(data), len(blob)) + data + blob)
        while view:
            view = view[os.write(self.wfd, view):]

    def read_exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = os.read(self.rfd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the other side closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def recv(self) -> tuple[dict, dict]:
        njson, nblob = HEADER.unpack(self.read_exactly(HEADER.size))
        if njson > MAX_JSON or nblob > MAX_BLOB:
            raise ChannelError(f"frame too large ({njson} + {nblob} bytes)")
        message = json.loads(self.read_exactly(njson))
        blob = self.read_exactly(nblob) if nblob else b""
        tensors = {}
        if blob:
            from safetensors.torch import load
            tensors = load(blob)
        if not isinstance(message, dict):
            raise ChannelError("a frame must hold a JSON object")
        return message, tensors

    # --- values ---------------------------------------------------------------------
    def encode(self, value, tensors: dict, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ChannelError("value nested too deeply to cross the channel")
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, list):
            return [self.encode(v, tensors, depth + 1) for v in value]
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, tensors, depth + 1) for v in value]}
        if isinstance(value, dict):
            return {"$dict": [[self.encode(k, tensors, depth + 1), self.encode(v, tensors, depth + 1)]
                              for k, v in value.items()]}
        torch = sys.modules.get("torch")
        if torch is not None:
            if isinstance(value, torch.Tensor):
                if value.layout != torch.strided or value.is_complex() or value.is_quantized:
                    raise ChannelError(f"a {value.layout} / {value.dtype} tensor cannot cross the channel")
                name = f"t{len(tensors)}"
                tensors[name] = value.detach().to("cpu").contiguous().clone()
                if value.requires_grad or value.grad is not None:  # a parameter: its .grad travels with it
                    grad = None if value.grad is None else self.encode(value.grad, tensors, depth + 1)
                    return {"$param": [name, grad]}
                return {"$tensor": name}
            if isinstance(value, torch.dtype):
                return {"$dtype": str(value).removeprefix("torch.")}
        if callable(value) and not isinstance(value, type(sys)):
            self.next_id += 1
            self.exported[self.next_id] = value
            return {"$fn": self.next_id}
        raise ChannelError(f"a {type(value).__module__}.{type(value).__qualname__} cannot cross the channel "
                           "(plain data only: tensors, numbers, bool, str, None, lists/tuples/dicts, functions)")

    def decode(self, value, tensors: dict, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ChannelError("value nested too deeply")
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v, tensors, depth + 1) for v in value]
        if isinstance(value, dict) and len(value) == 1:
            (tag, body), = value.items()
            if tag == "$tuple" and isinstance(body, list):
                return tuple(self.decode(v, tensors, depth + 1) for v in body)
            if tag == "$dict" and isinstance(body, list):
                out = {}
                for pair in body:
                    if not (isinstance(pair, list) and len(pair) == 2):
                        raise ChannelError("malformed dict entry")
                    key = self.decode(pair[0], tensors, depth + 1)
                    try:
                        out[key] = self.decode(pair[1], tensors, depth + 1)
                    except TypeError:
                        raise ChannelError("unhashable dict key") from None
                return out
            if tag == "$tensor" and isinstance(body, str) and body in tensors:
                return tensors[body]
            if tag == "$param" and isinstance(body, list) and len(body) == 2 and body[0] in tensors:
                param = tensors[body[0]]
                if param.is_floating_point():
                    param.requires_grad_(True)
                grad = self.decode(body[1], tensors, depth + 1)
                if grad is not None:
                    if not (hasattr(grad, "shape") and grad.shape == param.shape and grad.dtype == param.dtype):
                        raise ChannelError("a parameter's .grad must be a tensor of its shape and dtype")
                    param.grad = grad
                return param
            if tag == "$dtype" and isinstance(body, str):
                import torch
                dtype = getattr(torch, body, None)
                if isinstance(dtype, torch.dtype):
                    return dtype
            if tag == "$fn" and isinstance(body, int):
                return RemoteHandle(self, body)
        raise ChannelError(f"malformed value on the channel: {str(value)[:80]}")

    # --- calls ----------------------------------------------------------------------
    def request(self, message: dict, values: dict, deadline: float | None = None):
        """Send a request and serve the other side's calls until its answer arrives."""
        tensors: dict = {}
        message = dict(message, **{k: self.encode(v, tensors) for k, v in values.items()})
        self.send(message, tensors)
        while True:
            reply, blob = self.wait(deadline)
            op = reply.get("op")
            if op == "call":
                self.serve_call(reply, blob)
            elif op == "return":
                return self.decode(reply.get("value"), blob)
            elif op == "raise":
                raise rebuild_error(reply.get("error") or {})
            else:
                raise ChannelError(f"unexpected frame {op!r}")

    def wait(self, deadline: float | None) -> tuple[dict, dict]:
        return self.recv()

    def serve_call(self, message: dict, blob: dict) -> None:
        try:
            fn = self.exported.get(message.get("fn"))
            if fn is None:
                raise ChannelError(f"no such handle {message.get('fn')!r}")
            args = self.decode(message.get("args", []), blob)
            kwargs = self.decode(message.get("kwargs", {"$dict": []}), blob)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ChannelError("malformed call")
            result = fn(*args, **kwargs)
            tensors: dict = {}
            encoded = self.encode(result, tensors)
            self.send({"op": "return", "value": encoded}, tensors)
        except CellTimeout:
            raise
        except BaseException as err:  # noqa: BLE001  (any failure goes back as an error frame)
            self.send({"op": "raise", "error": describe_error(err)}, {})

    def call_handle(self, fn_id: int, args: tuple, kwargs: dict):
        return self.request({"op": "call", "fn": fn_id}, {"args": list(args), "kwargs": kwargs})


def write_back(original, after, depth: int = 0) -> None:
    """Copy in-place changes the other side made to tensors (data and .grad) into the originals."""
    torch = sys.modules.get("torch")
    if depth > MAX_DEPTH or torch is None:
        return
    if isinstance(original, torch.Tensor) and isinstance(after, torch.Tensor):
        if after.shape == original.shape and after.dtype == original.dtype:
            with torch.no_grad():
                if not torch.equal(original.detach(), after.detach()):
                    original.detach().copy_(after.detach())
            if original.requires_grad or original.grad is not None or after.grad is not None:
                if after.grad is None:
                    original.grad = None
                elif original.grad is not None and original.grad.shape == after.grad.shape:
                    original.grad.copy_(after.grad)
                elif after.grad.shape == original.shape:
                    original.grad = after.grad.clone()
    elif isinstance(original, (list, tuple)) and isinstance(after, (list, tuple)) and len(original) == len(after):
        for o, a in zip(original, after):
            write_back(o, a, depth + 1)
    elif isinstance(original, dict) and isinstance(after, dict):
        for key, value in original.items():
            if key in after:
                write_back(value, after[key], depth + 1)


class RemoteHandle:
    """A callable owned by the other side; calling it sends a call frame and waits for the answer."""

    def __init__(self, endpoint: Endpoint, fn_id: int):
        self._endpoint, self._fn_id = endpoint, fn_id

    def __call__(self, *args, **kwargs):
        return self._endpoint.call_handle(self._fn_id, args, kwargs)

    def __repr__(self):
        return f"<remote function {self._fn_id}>"


# --- the student's side ------------------------------------------------------------------

FORBIDDEN_MODULES = ("seqmodels", "seqcourse", "nbgrader")


class _BlockImports:
    """A meta-path finder that refuses the course's own packages (also without a sandbox)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r} (the course's own packages are not "
                                      "available to answers)", name=name)
        return None


class _NoAutograd:
    """While a call of a question that forbids autograd runs: gradients off, autograd entry points raise."""

    PATCHED = [("torch.autograd", "grad"), ("torch.autograd", "backward"), ("torch.Tensor", "backward"),
               ("torch.autograd.functional", "jacobian"), ("torch.autograd.functional", "vjp")]

    def __enter__(self):
        import importlib
        import torch

        def refuse(*args, **kwargs):
            raise RuntimeError("uses a forbidden API: autograd is disabled in this question")

        self.saved = []
        for owner_name, attr in self.PATCHED:
            owner = torch.Tensor if owner_name == "torch.Tensor" else importlib.import_module(owner_name)
            self.saved.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, refuse)
        self.grad = torch.no_grad()
        self.grad.__enter__()
        return self

    def __exit__(self, *exc):
        self.grad.__exit__(*exc)
        for owner, attr, original in self.saved:
            setattr(owner, attr, original)
        return False


class Student(Endpoint):
    """Runs the cells the grader sends and answers its calls, each under a time limit."""

    def __init__(self, rfd: int, wfd: int):
        super().__init__(rfd, wfd)
        self.namespace: dict = {"__name__": "__main__", "__builtins__": builtins}

    def _timer(self, seconds: float | None) -> None:
        signal.setitimer(signal.ITIMER_REAL, max(0.0, seconds or 0.0))

    def _alarm(self, signum, frame):
        raise CellTimeout("ran past its time limit")

    def run_cell(self, message: dict) -> dict:
        before = {k: id(v) for k, v in self.namespace.items()}
        error = None
        try:
            code = compile(str(message.get("source", "")), f"<cell {message.get('cell')}>", "exec")
            self._timer(message.get("timeout"))
            try:
                exec(code, self.namespace)
            finally:
                self._timer(0)
        except BaseException as err:  # noqa: BLE001  (the student's error is reported, not fatal)
            error = describe_error(err)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        defined = sorted(k for k, v in self.namespace.items() if not k.startswith("__") and before.get(k) != id(v))
        return {"defined": defined, "error": error}

    def describe(self, names: list) -> dict:
        """{name: ("function") or ("value", value) or ("unavailable", why)} for names answers defined."""
        out = {}
        for name in names:
            if name not in self.namespace:
                continue
            value = self.namespace[name]
            if isinstance(value, type(sys)):
                continue
            if callable(value):
                out[name] = ["function"]
            else:
                try:
                    self.encode(value, {})
                    out[name] = ["value", value]
                except ChannelError as err:
                    out[name] = ["unavailable", str(err)]
        return out

    def call_answer(self, message: dict, blob: dict):
        fn = self.namespace.get(str(message.get("name")))
        if not callable(fn):
            raise NameError(f"name {message.get('name')!r} is not defined")
        args = self.decode(message.get("args", []), blob)
        kwargs = self.decode(message.get("kwargs", {"$dict": []}), blob)
        self._timer(message.get("timeout"))
        try:
            if message.get("no_autograd"):
                with _NoAutograd():
                    result = fn(*args, **kwargs)
            else:
                result = fn(*args, **kwargs)
        finally:
            self._timer(0)
        # The arguments as the call left them: the grader copies in-place changes of its tensors
        # (and of their .grad) back into the originals, as if the function had run there.
        return [result, args, kwargs]

    def loop(self) -> None:
        signal.signal(signal.SIGALRM, self._alarm)
        while True:
            try:
                message, blob = self.recv()
            except EOFError:
                return
            op = message.get("op")
            try:
                if op == "exec":
                    value = self.run_cell(message)
                elif op == "describe":
                    value = self.describe(list(message.get("names", [])))
                elif op == "answer":
                    value = self.call_answer(message, blob)
                elif op == "exit":
                    return
                else:
                    raise ChannelError(f"unknown request {op!r}")
                tensors: dict = {}
                encoded = self.encode(value, tensors)
                self.send({"op": "return", "value": encoded}, tensors)
            except BaseException as err:  # noqa: BLE001
                sys.stdout.flush()
                sys.stderr.flush()
                self.send({"op": "raise", "error": describe_error(err)}, {})


def student_main() -> None:
    """Entry point in the sandbox: fds 3 (requests) and 4 (answers); stdout/stderr are the capture pipe."""
    rfd, wfd = int(os.environ.pop("SEQ_CHANNEL_IN", "3")), int(os.environ.pop("SEQ_CHANNEL_OUT", "4"))
    uid = os.environ.pop("SEQ_SANDBOX_UID", "")
    if uid and os.getuid() == 0:  # drop root before any student code runs (RLIMIT_NPROC binds real uids only)
        os.setgroups([])
        os.setgid(int(uid))
        os.setuid(int(uid))
    sys.meta_path.insert(0, _BlockImports())
    for name in list(sys.modules):
        if name.split(".")[0] in FORBIDDEN_MODULES:
            del sys.modules[name]
    Student(rfd, wfd).loop()
    # Grading is over: skip the interpreter's teardown, which takes about a second once torch is
    # loaded (and would run the student's atexit handlers). What was printed is flushed first.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001  (the student may have replaced the stream)
            pass
    os._exit(0)


if __name__ == "__main__":
    student_main()
