"""The grading harness: answers run in the student's process, tests in the grader's.

Cell roles (read from the instructor's notebook, never from the student's copy, except the
answers themselves):

* answer cells (nbgrader `solution: true` code cells) run only in the student's process;
* setup cells (locked, non-graded code without the tag `grader`) run there first and in the
  grader's process too;
* grader-only cells (tag `grader`: helpers, oracles) and test cells (nbgrader `grade: true`)
  run only in the grader's process;
* driver cells (tag `driver`, rare) run only in the student's process, beside the answers, for
  a question whose answer needs objects that cannot cross (e.g. a training loop that takes a
  torch.nn.RNN and an optimizer); they return plain data, which the tests check against oracles.

Each name an answer cell defines reaches the tests as a proxy: a function becomes a remote
handle into the student's process, other values are fetched as plain data (`_channel`).
A question's rules (answer cell metadata `"seqcourse": {"forbid": [...]}`, plus `seqmodels`
everywhere) are checked statically on the answer's source; a flagged answer's names raise
ForbiddenAPIError in the tests, and calls of a question that forbids autograd run with
autograd disabled. When grading, the student's process runs in a bubblewrap sandbox.
"""
from __future__ import annotations

import ast
import contextlib
import io
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

from seqcourse import _channel
from seqcourse._channel import ChannelError, Endpoint
from seqcourse._nbcourse import first_line, grade_id, is_autograded_test, nbgrader_meta

ALWAYS_FORBIDDEN = ("seqmodels",)
AUTOGRAD_RULES = ("torch.autograd", ".backward", "torch.func")
GRACE = 5.0  # seconds a student's process gets to honour the interrupt before it is killed


@dataclass(frozen=True)
class Limits:
    """Every limit of a student's process, in one place (README "Grading safely" states them)."""
    memory_bytes: int = 2 << 30
    processes: int = 64
    cpu_seconds: int = 900
    file_bytes: int = 64 << 20
    open_files: int = 256
    output_bytes: int = 1 << 20
    cell_timeout: float = 60.0
    setup_timeout: float = 300.0  # the instructor's setup cells (imports) on a loaded machine


def _mb(n: int) -> str:
    return f"{n / (1 << 30):g} GiB" if n >= 1 << 30 else f"{n / (1 << 20):g} MB"


class ForbiddenAPIError(Exception):
    """An answer uses an API its question forbids."""


class StudentGone(Exception):
    """The student's process died or was killed; nothing more can be asked of it."""


# --- cell roles ----------------------------------------------------------------------------

def is_answer(cell) -> bool:
    return cell.get("cell_type") == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_grader_only(cell) -> bool:
    return cell.get("cell_type") == "code" and "grader" in (cell.get("metadata", {}).get("tags") or [])


def is_driver(cell) -> bool:
    """Instructor code that must run beside the answers (it builds objects that cannot cross the
    channel, e.g. a torch.nn.RNN and an optimizer, calls an answer with them and returns plain data).
    It runs only in the student's process, like an answer, so the tests must check what it returns
    against their own oracles; its names reach the tests as proxies."""
    return cell.get("cell_type") == "code" and "driver" in (cell.get("metadata", {}).get("tags") or [])


def is_setup(cell) -> bool:
    return (cell.get("cell_type") == "code" and not is_answer(cell) and not is_autograded_test(cell)
            and not is_grader_only(cell) and not is_driver(cell))


def exported_names(cell) -> set[str]:
    """The names the instructor's version of an answer (or driver) cell defines at top level: the
    only names of that cell the tests see. A student's other names (their helpers, or a
    redefinition of a test helper) never reach the grader."""
    try:
        tree = ast.parse(cell.get("source", "") if isinstance(cell.get("source"), str) else "".join(cell["source"]))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def rules(cell) -> list[str]:
    """The APIs an answer cell must not use: its own `forbid` list and the course-wide ones."""
    declared = (cell.get("metadata", {}).get("seqcourse") or {}).get("forbid") or []
    return list(dict.fromkeys([*ALWAYS_FORBIDDEN, *declared]))


# --- static check --------------------------------------------------------------------------

def _dotted(node, aliases: dict) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(aliases.get(node.id, node.id))
        return ".".join(reversed(parts))
    return None


def _matches(name: str, rule: str) -> bool:
    if rule.startswith("."):
        return name == rule[1:] or name.endswith(rule)
    return name == rule or name.startswith(rule + ".")


def violations(source: str, forbid: list[str]) -> list[str]:
    """The rules of `forbid` that `source` visibly breaks (imports, attribute chains, getattr/import
    with a constant name). An obfuscated use escapes this check; the README says so."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    aliases: dict[str, str] = {}
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                used.add(alias.name)
                aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                used.add(f"{node.module}.{alias.name}")
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)):
            name = _dotted(node, aliases)
            if name:
                used.add(name)
                if isinstance(node, ast.Attribute):
                    used.add("." + node.attr)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[-1], ast.Constant) \
                and isinstance(node.args[-1].value, str):
            func = _dotted(node.func, aliases) or ""
            if func.endswith(("getattr", "import_module", "__import__")):
                target = node.args[-1].value
                base = _dotted(node.args[0], aliases) if func.endswith("getattr") and len(node.args) >= 2 else None
                used.add(f"{base}.{target}" if base else target)
                used.add("." + target.split(".")[-1])
    return [rule for rule in forbid
            if (rule in used if rule.startswith(".") else any(n == rule or n.startswith(rule + ".") for n in used))]


# --- the sandbox ---------------------------------------------------------------------------

def _python_roots() -> list[str]:
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    return sorted(roots)


def bwrap_command(box: Path, python: str, limits: Limits) -> list[str]:
    """bubblewrap: own PID/network/IPC/UTS namespaces, a read-only view of the system libraries,
    the Python environment and the submission's box, a private /tmp. Run as root it needs no
    user namespace; the student's process then drops to an unprivileged uid itself."""
    cmd = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
           "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:
        cmd += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    roots = _python_roots()
    # The private /tmp first: mounts are applied in order, so an environment that lives under /tmp
    # (a checkout in /tmp/ci/..., as CI has it) is bound on top of it instead of hidden by it.
    cmd += ["--perms", "1777", "--size", str(limits.file_bytes * 4), "--tmpfs", "/tmp"]
    # bwrap makes missing parents of a mount point mode 0700, which the unprivileged uid cannot enter.
    parents = sorted({str(p) for root in [*roots, "/etc/x"] for p in Path(root).parents
                      if str(p) not in ("/", "/tmp")}, key=lambda p: p.count("/"))
    for parent in parents:
        cmd += ["--perms", "0755", "--dir", parent]
    for path in ("/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/alternatives"):
        cmd += ["--ro-bind-try", path, path]
    for root in roots:
        cmd += ["--ro-bind", root, root]
    cmd += ["--ro-bind", str(box), "/submission", "--proc", "/proc", "--dev", "/dev",
            "--chdir", "/tmp", "--", python, "-I", "-B", "/submission/_channel.py"]
    return cmd


def sandbox_problem() -> str | None:
    """None when a sandbox can be made here, else why not (with the fix)."""
    if shutil.which("bwrap") is None:
        return ("bubblewrap is not installed: run `make sandbox-deps` (apt-get install -y bubblewrap), "
                "or pass --no-sandbox to grade without one")
    probe = subprocess.run(["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
                            "--proc", "/proc", "--dev", "/dev", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return (f"bubblewrap cannot make a sandbox here ({probe.stderr.strip()[:200]}); "
                "pass --no-sandbox to grade without one")
    return None


def _sandbox_uid() -> int:
    # One uid per concurrent grading process, so that each sandbox's process count is its own.
    return 61000 + os.getpid() % 4000


# --- the student's process -----------------------------------------------------------------

class Output:
    """Captured output of one cell, capped at `limit` bytes (the rest is counted, not kept)."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def add(self, data: bytes | str) -> None:
        data = data.encode(errors="replace") if isinstance(data, str) else data
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(data[:room])
            self.kept += min(room, len(data))
        self.dropped += max(0, len(data) - max(room, 0))

    def text(self) -> str:
        text = b"".join(self.parts).decode(errors="replace")
        if self.dropped:
            text += f"\n[output truncated at {_mb(self.limit)}: {self.dropped} more bytes not shown]\n"
        return text


class StudentProcess(Endpoint):
    """The student's answers, in their own (sandboxed) Python process, behind the channel."""

    def __init__(self, box: Path, limits: Limits, sandbox: bool):
        self.limits, self.sandbox = limits, sandbox
        box.mkdir(parents=True, exist_ok=True)
        shutil.copy2(_channel.__file__, box / "_channel.py")
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "PYTHONDONTWRITEBYTECODE": "1",
               "MPLCONFIGDIR": "/tmp" if sandbox else str(box), "MPLBACKEND": "Agg",
               "SEQ_CHANNEL_IN": str(req_r), "SEQ_CHANNEL_OUT": str(rep_w)}
        if sandbox:
            cmd = bwrap_command(box, sys.executable, limits)
            if os.geteuid() == 0:
                env["SEQ_SANDBOX_UID"] = str(_sandbox_uid())
        else:
            cmd, env["HOME"] = [sys.executable, "-B", str(box / "_channel.py")], str(box)
            env["PATH"] = os.environ.get("PATH", env["PATH"])

        def limit() -> None:
            for which, value in ((resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_CPU, limits.cpu_seconds),
                                 (resource.RLIMIT_FSIZE, limits.file_bytes), (resource.RLIMIT_NOFILE, limits.open_files),
                                 (resource.RLIMIT_CORE, 0)):
                resource.setrlimit(which, (value, value))
            if sandbox:
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, env=env,
                                     pass_fds=(req_r, rep_w), preexec_fn=limit, start_new_session=True,
                                     cwd=str(box))
        for fd in (req_r, rep_w, out_w):
            os.close(fd)
        super().__init__(rep_r, req_w)
        self.out_fd = out_r
        self.output: Output | None = None
        self.gone: str | None = None
        self.deadline_label = ""

    def _drain(self, timeout: float) -> None:
        ready = select.select([self.out_fd], [], [], timeout)[0]
        while ready:
            chunk = os.read(self.out_fd, 1 << 16)
            if not chunk:
                return
            if self.output is not None:
                self.output.add(chunk)
            ready = select.select([self.out_fd], [], [], 0)[0]

    def wait(self, deadline: float | None):
        """The next frame; student output read meanwhile goes to the current cell."""
        while True:
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise TimeoutError("no answer before the deadline")
            ready = select.select([self.rfd, self.out_fd], [], [], timeout)[0]
            if self.out_fd in ready:
                self._drain(0)
            if self.rfd in ready:
                try:
                    frame = self.recv()
                except (EOFError, OSError, ValueError, ChannelError) as err:
                    raise StudentGone(str(err)) from None
                self._drain(0)
                return frame

    def ask(self, message: dict, values: dict, timeout: float | None):
        """A request with the student's time limit; the student's process dies if it ignores it."""
        if self.gone:
            raise StudentGone(self.gone)
        message = dict(message, timeout=timeout)
        deadline = None if timeout is None else time.monotonic() + timeout + GRACE
        try:
            return self.request(message, values, deadline)
        except TimeoutError:
            self.kill()
            self.gone = "ignored the interrupt"
            raise
        except (StudentGone, BrokenPipeError) as err:
            self.gone = self.exit_reason() or str(err)
            raise StudentGone(self.gone) from None

    def exit_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        if code < 0:
            sig = -code
            if sig == signal.SIGXCPU:
                return f"CPU time limit exceeded ({self.limits.cpu_seconds} s)"
            if sig == signal.SIGXFSZ:
                return f"file size limit exceeded ({_mb(self.limits.file_bytes)})"
            return f"killed by signal {signal.Signals(sig).name}"
        if code == 255 and self.sandbox:  # bwrap's own failure, or the student's exit(255)
            return "exit code 255 (the sandbox or the student's code)"
        return f"exit code {code}"

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def close(self) -> None:
        if self.proc.poll() is None and not self.gone:
            with contextlib.suppress(Exception):
                self.send({"op": "exit"}, {})
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
        self.kill()
        for fd in (self.rfd, self.wfd, self.out_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


# --- running a notebook --------------------------------------------------------------------

@dataclass
class CellRun:
    outputs: list = field(default_factory=list)   # nbformat output dicts
    error: dict | None = None                     # the error output, when the cell failed


@dataclass
class Outcome:
    cells: dict[str, CellRun] = field(default_factory=dict)   # by grade_id (answers and tests)
    problems: list[str] = field(default_factory=list)        # statuses, in order, no repeats
    sandboxed: bool = False

    def note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def passed(self, test_id: str) -> bool:
        run = self.cells.get(test_id)
        return run is not None and run.error is None


def _error_output(ename: str, evalue: str, traceback_lines: list[str]) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback_lines}


def _stream(text: str) -> list[dict]:
    return [{"output_type": "stream", "name": "stdout", "text": text}] if text else []


def _limit_problem(error: dict | None, limits: Limits) -> str | None:
    """A status for an error that is really a limit of the sandbox."""
    if not error:
        return None
    ename, evalue = error.get("ename", ""), str(error.get("evalue", ""))
    if ename == "MemoryError" or "can't allocate memory" in evalue or "Cannot allocate memory" in evalue:
        return f"memory limit exceeded ({_mb(limits.memory_bytes)})"
    if ename in ("BlockingIOError", "OSError", "PermissionError") and "Resource temporarily unavailable" in evalue:
        return f"process limit exceeded ({limits.processes} processes)"
    if "File too large" in evalue:
        return f"file size limit exceeded ({_mb(limits.file_bytes)})"
    return None


class AnswerProxy:
    """A name an answer cell defined, as the tests see it."""

    def __init__(self, harness: "Harness", name: str, cell: str, blocked: str | None, no_autograd: bool):
        self._harness, self._name, self._cell = harness, name, cell
        self._blocked, self._no_autograd = blocked, no_autograd
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        if self._blocked:
            raise ForbiddenAPIError(self._blocked)
        return self._harness.call(self._name, self._no_autograd, args, kwargs)

    def __repr__(self):
        return f"<answer {self._name} (student's process)>"


class _Blocked:
    """A value from a flagged answer: any use fails with the rule."""

    def __init__(self, reason: str):
        object.__setattr__(self, "_reason", reason)

    def __getattr__(self, name):
        raise ForbiddenAPIError(object.__getattribute__(self, "_reason"))

    def __bool__(self):
        raise ForbiddenAPIError(object.__getattribute__(self, "_reason"))


class Harness:
    """Runs one notebook: `source` gives every cell but the answers, `student` gives the answers."""

    def __init__(self, source, student, box: Path, *, limits: Limits = Limits(), sandbox: bool = True):
        self.source, self.student, self.box, self.limits, self.sandbox = source, student, box, limits, sandbox
        self.outcome = Outcome(sandboxed=sandbox)
        self.current: Output | None = None
        self.current_label = ""
        self.timed_out: set[str] = set()

    # the student's side
    def call(self, name: str, no_autograd: bool, args, kwargs):
        if name in self.timed_out:
            raise TimeoutError(f"{name} ran past the time limit earlier; not called again")
        proc = self.proc
        if proc.gone:
            raise RuntimeError(f"the student's process is gone ({proc.gone})")
        proc.output = self.current
        timeout = self.limits.cell_timeout
        # A generator (e.g. model.parameters()) crosses as the list of what it yields.
        args = [list(a) if isinstance(a, types.GeneratorType) else a for a in args]
        try:
            reply = proc.ask({"op": "answer", "name": name, "no_autograd": no_autograd},
                             {"args": list(args), "kwargs": kwargs}, timeout)
            if not (isinstance(reply, list) and len(reply) == 3):
                raise ChannelError("malformed answer from the student's process")
            result, args_after, kwargs_after = reply
            _channel.write_back(list(args), args_after)
            _channel.write_back(kwargs, kwargs_after)
            return result
        except TimeoutError:
            self.timed_out.add(name)
            self.outcome.note(f"timeout: {name} (called by {self.current_label}) ran past {timeout:g} s "
                              "and ignored the interrupt")
            raise TimeoutError(f"{name} ran past {timeout:g} s and ignored the interrupt") from None
        except StudentGone as gone:
            self.outcome.note(f"the student's process died ({gone}) while {name} ran in {self.current_label}")
            raise RuntimeError(f"the student's process is gone ({gone})") from None
        except BaseException as err:
            info = {"ename": type(err).__name__, "evalue": str(err)}
            if getattr(err, "ename", None):
                info = {"ename": err.ename, "evalue": err.evalue}
            if info["ename"] == "CellTimeout":
                self.timed_out.add(name)
                self.outcome.note(f"timeout: {name} (called by {self.current_label}) ran past {timeout:g} s (interrupted)")
                raise TimeoutError(f"{name} ran past {timeout:g} s (interrupted)") from None
            limit = _limit_problem(info, self.limits)
            if limit:
                self.outcome.note(limit)
            raise

    def _run_student_cells(self) -> dict[str, tuple[str, list[str]]]:
        """Setup and answer cells in the student's process; {name: (answer cell, rules broken)}."""
        answers = {grade_id(c): c for c in self.student.cells if is_answer(c) and grade_id(c)}
        defined: dict[str, tuple[str, list[str]]] = {}
        for index, cell in enumerate(self.source.cells):
            if not (is_setup(cell) or is_answer(cell) or is_driver(cell)):
                continue
            label = grade_id(cell) or f"#{index + 1}"
            if is_answer(cell):
                if label not in answers:
                    continue
                code = answers[label].source
                broken = violations(code, rules(cell))
            else:
                code, broken = cell.source, []
            output = Output(self.limits.output_bytes)
            self.proc.output = output
            run = CellRun()
            timeout = self.limits.cell_timeout if is_answer(cell) else max(self.limits.cell_timeout,
                                                                           self.limits.setup_timeout)
            try:
                reply = self.proc.ask({"op": "exec", "cell": label, "source": code}, {}, timeout)
            except TimeoutError:
                self.outcome.note(f"timeout: cell {label} ran past {timeout:g} s and ignored the interrupt")
                run.error = _error_output("CellTimeoutError", f"ran past {timeout:g} s and ignored the interrupt", [])
                reply = None
            except StudentGone as gone:
                self.outcome.note(f"kernel died: the student's process died in cell {label} ({gone})")
                run.error = _error_output("DeadKernelError", f"the student's process died ({gone})", [])
                reply = None
            if reply is not None:
                error = reply.get("error")
                if error:
                    if error.get("ename") == "CellTimeout":
                        self.outcome.note(f"timeout: cell {label} ran past {timeout:g} s (interrupted)")
                        run.error = _error_output("CellTimeoutError", f"ran past {timeout:g} s (interrupted)", [])
                    else:
                        evalue = first_line(error.get("evalue", ""), 100)
                        self.outcome.note(_limit_problem(error, self.limits)
                                          or f"error in cell {label} ({error.get('ename')}{': ' + evalue if evalue else ''})")
                        run.error = _error_output(str(error.get("ename")), str(error.get("evalue", "")),
                                                  str(error.get("trace", "")).splitlines())
                if is_answer(cell) or is_driver(cell):
                    for name in reply.get("defined", []):
                        defined[name] = (label, broken)
            if output.dropped:
                self.outcome.note(f"output truncated at {_mb(self.limits.output_bytes)}")
            run.outputs = _stream(output.text()) + ([run.error] if run.error else [])
            if is_answer(cell):
                self.outcome.cells[label] = run
            if is_answer(cell) and broken:
                for rule in broken:
                    self.outcome.note(f"uses a forbidden API: {rule} (in {label})")
            if self.proc.gone:
                break
        return defined

    def _proxies(self, defined: dict) -> dict[str, dict]:
        """{answer cell: {name: proxy}}."""
        described = {}
        if defined and not self.proc.gone:
            try:
                described = self.proc.ask({"op": "describe"}, {"names": sorted(defined)}, self.limits.cell_timeout)
            except (TimeoutError, StudentGone, Exception) as err:  # noqa: BLE001
                self.outcome.note(f"the student's answers could not be read ({type(err).__name__}: {err})")
        by_cell: dict[str, dict] = {}
        cells = {grade_id(c) or f"#{i + 1}": c for i, c in enumerate(self.source.cells) if is_answer(c) or is_driver(c)}
        for name, (cell_id, broken) in defined.items():
            if name not in exported_names(cells[cell_id]):
                continue
            kind = described.get(name)
            if not isinstance(kind, list) or not kind:
                continue
            blocked = (f"uses a forbidden API: {', '.join(broken)} (in {cell_id})") if broken else None
            forbid = rules(cells[cell_id])
            no_autograd = any(r in AUTOGRAD_RULES for r in forbid)
            if kind[0] == "function":
                value = AnswerProxy(self, name, cell_id, blocked, no_autograd)
            elif kind[0] == "value":
                value = _Blocked(blocked) if blocked else kind[1]
            else:
                continue
            by_cell.setdefault(cell_id, {})[name] = value
        return by_cell

    def _exec_grader_cell(self, cell, namespace: dict, label: str, count: int) -> CellRun:
        output = Output(self.limits.output_bytes)
        self.current, self.current_label = output, label
        run = CellRun()
        filename = f"<cell {count}>"
        stream = _Capture(output)
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                exec(compile(cell.source, filename, "exec"), namespace)
        except Exception as err:  # noqa: BLE001  (a failing test is a result)
            frames = []
            tb = err.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == filename:
                    frames.append(f"Cell In[{count}], line {tb.tb_lineno}")
                tb = tb.tb_next
            ename = type(err).__name__
            evalue = str(err)
            run.error = _error_output(ename, evalue, [*frames, f"{ename}: {evalue}"])
        finally:
            self.current = None
        run.outputs = _stream(output.text()) + ([run.error] if run.error else [])
        return run

    def run(self) -> Outcome:
        self.proc = StudentProcess(self.box, self.limits, self.sandbox)
        try:
            defined = self._run_student_cells()
            proxies = self._proxies(defined)
            namespace: dict = {"__name__": "__main__"}
            for index, cell in enumerate(self.source.cells):
                label = grade_id(cell) or f"#{index + 1}"
                if is_answer(cell) or is_driver(cell):
                    # An answer never shadows what the grader's own cells defined (helpers, torch, ...).
                    namespace.update({k: v for k, v in proxies.get(label, {}).items() if k not in namespace})
                elif is_setup(cell) or is_grader_only(cell) or is_autograded_test(cell):
                    run = self._exec_grader_cell(cell, namespace, label, index + 1)
                    if is_autograded_test(cell):
                        self.outcome.cells[label] = run
                    elif run.error:  # e.g. a demo cell that calls an unfinished answer; its tests fail anyway
                        evalue = first_line(run.error["evalue"], 100)
                        self.outcome.note(f"error in cell {label} ({run.error['ename']}{': ' + evalue if evalue else ''})")
        finally:
            self.proc.close()
        return self.outcome


class _Capture(io.TextIOBase):
    def __init__(self, output: Output):
        self.output = output

    def write(self, text: str) -> int:
        self.output.add(text)
        return len(text)


def run_notebook(source, student, box: Path, *, limits: Limits = Limits(), sandbox: bool = True) -> Outcome:
    return Harness(source, student, box, limits=limits, sandbox=sandbox).run()


def apply(outcome: Outcome, nb) -> None:
    """Write an outcome into a notebook's cells (as execution would) for nbgrader to score."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        import nbformat

        run = outcome.cells.get(grade_id(cell))
        cell.execution_count = index + 1
        cell.outputs = [nbformat.from_dict(o) for o in (run.outputs if run else [])]
        if run is None and is_autograded_test(cell):
            cell.outputs = [nbformat.from_dict(_error_output("NotRun", "this test did not run", []))]
