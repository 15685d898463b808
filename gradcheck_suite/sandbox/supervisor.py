"""The grader's side of autograder mode: one zygote per session, one worker per exercise.

``Sandbox`` starts the zygote lazily and hands out a ``RemoteOp`` per exercise: the same interface
as ``student.StudentOp`` (forward, backward, batched_forward, second_order), each call a request to
the exercise's worker. The worker's wall-clock budget is the exercise's; when it runs out, or the
worker dies, the call raises ``WorkerFailure`` (status "timeout" or "crashed") and the next call
starts a fresh worker while budget is left.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch

from ..errors import IsolationUnavailable, StudentCodeError
from ..numerics.central_differences import BatchedForward
from ..sandbox import wire
from ..student.failures import ProtocolViolation, StudentCallError
from ..student.op import CallParams, ForwardRun
from ..student.styles import Style
from ..vocabulary import Status
from .processes import describe_status

ZYGOTE = Path(__file__).with_name("zygote.py")
SUPPORT_FOLDER = ".support"  # in the worker's directory: the course's support modules
OUTPUT_SHOWN = 2000  # characters of the student's output shown in the feedback, per stream
START_SECONDS = 120.0  # the zygote imports torch once per session


@dataclass(frozen=True)
class WorkerLimits:
    """Per exercise. Wall clock and CPU time cover every check of the exercise together."""

    time_seconds: float = 60.0
    cpu_seconds: float = 60.0
    memory_bytes: int = 4 << 30
    output_bytes: int = 1 << 20
    open_files: int = 256
    processes: int = 64
    message_bytes: int = 1 << 30


class WorkerFailure(BaseException):
    """The worker timed out or died. A BaseException so that Hypothesis does not retry or shrink
    with it (each retry would cost a fresh worker and its time budget): the check ends at once."""

    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.status = status
        self.message = message




def scrubbed_environment() -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
            if k in os.environ}
    return {**keep, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


class Sandbox:
    """Workers for one grading session."""

    def __init__(self, limits: WorkerLimits | None = None, user: str | None = None, namespaces: bool = True):
        """`limits`: the session's; when given, its time limit overrides each exercise's own."""
        if not sys.platform.startswith("linux"):
            raise IsolationUnavailable("autograder isolation needs Linux (fork, resource limits, /proc)")
        self.limits = limits or WorkerLimits()
        self.time_limit_given = limits is not None
        self.user = _user(user) if user else None
        self.namespaces = namespaces
        self.root = Path(tempfile.mkdtemp(prefix="gradcheck-sandbox-"))
        os.chmod(self.root, 0o711)
        self._zygote: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._pending: list[dict] = []
        self._ready = False
        self.levels: list[str] = []
        self.workers: list[Worker] = []
        self._count = 0

    # ------------------------------------------------------------------ zygote
    def start(self) -> None:
        """Start the zygote now, without waiting for it (it imports torch while the grader collects)."""
        if self._zygote is None:
            self._launch()

    def ready(self) -> None:
        """Wait for the zygote (start it if needed); IsolationUnavailable if it cannot start."""
        self._start_zygote()

    def _start_zygote(self) -> None:
        if self._zygote is None or self._zygote.poll() is not None:
            self._launch()
        self._await_ready()

    def _launch(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log = open(self.root / "zygote.log", "wb")
        try:
            self._zygote = subprocess.Popen(
                [sys.executable, "-I", str(ZYGOTE), str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                env=scrubbed_environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, cwd="/")
        finally:
            theirs.close()
            log.close()
        self._control = ours
        self._ready = False

    def _await_ready(self) -> None:
        if self._ready:
            return
        hello = self._receive(lambda m: "ready" in m, time.monotonic() + START_SECONDS)
        if hello is None:
            detail = (self.root / "zygote.log").read_text(errors="replace")[-2000:]
            self.close()
            raise IsolationUnavailable(f"the worker zygote did not start:\n{detail}")
        self.levels = [str(level) for level in hello.get("levels", [])]
        self._ready = True

    def _receive(self, wanted, deadline: float) -> dict | None:
        """The first control message for which wanted(message) holds (others are kept)."""
        for i, message in enumerate(self._pending):
            if wanted(message):
                return self._pending.pop(i)
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return None
            control = self._control
            assert control is not None  # callers start the zygote (or check it runs) first
            control.settimeout(wait)
            try:
                data = control.recv(1 << 16)
            except (TimeoutError, socket.timeout):
                return None
            except OSError:
                return None
            if not data:
                return None
            message = json.loads(data)
            if wanted(message):
                return message
            self._pending.append(message)

    def spawn(self, config: dict, fds: list[int]) -> int:
        self._start_zygote()
        assert self._control is not None  # _start_zygote launched it
        socket.send_fds(self._control, [json.dumps({"op": "spawn", "config": config}).encode()], fds)
        reply = self._receive(lambda m: "spawned" in m, time.monotonic() + 30)
        if reply is None:
            raise IsolationUnavailable("the worker zygote did not answer")
        return reply["spawned"]

    def kill(self, pid: int) -> int | None:
        """Kill a worker and every process it started; its wait status when known."""
        if self._control is None or self._zygote is None or self._zygote.poll() is not None:
            return None
        try:
            self._control.send(json.dumps({"op": "kill", "pid": pid}).encode())
        except OSError:
            return None
        reply = self._receive(lambda m: m.get("killed") == pid, time.monotonic() + 30)
        exited = self._receive(lambda m: m.get("exited") == pid, time.monotonic())
        status = (reply or {}).get("status")
        return status if status is not None else (exited or {}).get("status")

    def exit_status(self, pid: int, wait: float = 1.0) -> int | None:
        message = self._receive(lambda m: m.get("exited") == pid, time.monotonic() + wait)
        return None if message is None else message["status"]

    # ------------------------------------------------------------------ workers
    def worker(self, exercise: str, file_name: str, contents: bytes, student: Style | str, input_names: Sequence[str],
               differentiable: Sequence[bool], device: str, limits: WorkerLimits | None = None,
               forbid: Sequence[str] = (), support: dict[str, bytes] | None = None) -> "Worker":
        """`student`: the exercise's style (styles.Style), or the class name of an autograd.Function.
        `support`: the course's support modules the student's file may import (student.support.files)."""
        self._count += 1
        worker = Worker(self, f"{self._count:03d}-{exercise}", exercise, file_name, contents, Style.coerce(student),
                        list(input_names), list(differentiable), device, limits or self.limits, list(forbid),
                        support or {})
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        """Every worker and every process it started is gone when this returns."""
        for worker in self.workers:
            worker.close()
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._zygote is not None:
            try:
                self._zygote.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._zygote.kill()
                self._zygote.wait()
            self._zygote = None
        shutil.rmtree(self.root, ignore_errors=True)


def _user(name: str) -> dict:
    import pwd  # POSIX only; the package itself imports on any platform

    if os.getuid() != 0:
        raise IsolationUnavailable(f"running workers as {name!r} needs the grader to run as root")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise IsolationUnavailable(f"no user named {name!r} on this machine") from None
    return {"name": name, "uid": entry.pw_uid, "gid": entry.pw_gid}


class Worker:
    """The worker process of one exercise, started on the first request, restarted after a crash
    while the exercise's time budget lasts."""

    def __init__(self, sandbox: Sandbox, key: str, exercise: str, file_name: str, contents: bytes,
                 style: Style, input_names: list[str], differentiable: list[bool], device: str,
                 limits: WorkerLimits, forbid: list[str], support: dict[str, bytes] | None = None):
        self.forbid = forbid
        self.support = support or {}
        self.notes: list[str] = []  # reported by the worker: reasons to flag the submission for review
        self.sandbox = sandbox
        self.key = key
        self.exercise = exercise
        self.file_name = file_name
        self.contents = contents
        self.style = style
        self.input_names = input_names
        self.differentiable = differentiable
        self.device = device
        self.limits = limits
        self.deadline: float | None = None
        self.pid: int | None = None
        self.channel: socket.socket | None = None
        self.reader: wire.Reader | None = None
        self.starts = 0
        self.outputs: list[tuple[Path, Path]] = []
        self.name = style.name
        self.levels: list[str] = []  # what the worker reported of its own confinement

    # ------------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        self.starts += 1
        home = self.sandbox.root / f"{self.key}-{self.starts}"
        workdir = home / "work"
        workdir.mkdir(parents=True)
        (workdir / self.file_name).write_bytes(self.contents)
        for relative, data in self.support.items():  # the course's support modules, beside the file
            target = workdir / SUPPORT_FOLDER / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        user = self.sandbox.user
        if user is not None:
            os.chmod(home, 0o755)
            for path in [workdir, *workdir.rglob("*")]:
                os.chown(path, user["uid"], user["gid"])
        out_path, err_path = home / "stdout.txt", home / "stderr.txt"
        self.outputs.append((out_path, err_path))
        ours, theirs = socket.socketpair()
        out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if user is not None:
            os.fchown(out_fd, user["uid"], user["gid"])
            os.fchown(err_fd, user["uid"], user["gid"])
        config = {
            "exercise": self.exercise, "workdir": str(workdir), "student_file": self.file_name,
            "student": self.style.to_config(), "input_names": self.input_names,
            "differentiable": self.differentiable, "device": self.device, "user": user,
            "namespaces": self.sandbox.namespaces, "forbid": self.forbid,
            "support": sorted({str(Path(SUPPORT_FOLDER, Path(r).parts[0])) for r in self.support}),
            "limits": {**asdict(self.limits), "cpu_seconds": max(1, int(self._remaining()) + 1)},
        }
        try:
            self.pid = self.sandbox.spawn(config, [theirs.fileno(), out_fd, err_fd])
        finally:
            theirs.close()
            os.close(out_fd)
            os.close(err_fd)
        self.channel = ours
        self.reader = wire.Reader(ours.fileno(), self.limits.message_bytes)
        reply = self._exchange({"op": "load"})
        levels = reply.get("levels")
        if isinstance(levels, list):
            self.levels = [str(level) for level in levels]

    def _remaining(self) -> float:
        if self.deadline is None:
            return self.limits.time_seconds
        return self.deadline - time.monotonic()

    def close(self) -> None:
        if self.pid is not None:
            self.sandbox.kill(self.pid)
            self.pid = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    # ------------------------------------------------------------------ requests
    def start(self) -> None:
        """Start the worker (it loads the student's file) unless it is running; the exercise's
        time budget starts with its first start (once the zygote is ready: its start is not the
        student's time)."""
        self.sandbox.ready()
        if self.deadline is None:
            self.deadline = time.monotonic() + self.limits.time_seconds
        if self._remaining() <= 0:
            raise WorkerFailure(Status.TIMEOUT, self._timeout_message())
        if self.pid is None:
            self._start()

    def call(self, request: dict) -> dict:
        self.start()
        return self._exchange(request)

    def _exchange(self, request: dict) -> dict:
        # Called once the worker runs (start() or _start()): its pid, channel and reader are set.
        assert self.pid is not None and self.channel is not None and self.reader is not None
        try:
            wire.send(self.channel.fileno(), request, self.deadline)
            reply = self.reader.read(self.deadline)
        except wire.Timeout:
            self.close()
            raise WorkerFailure(Status.TIMEOUT, self._timeout_message()) from None
        except wire.WireError as exc:
            pid = self.pid
            status = self.sandbox.exit_status(pid) if isinstance(exc, wire.ChannelClosed) else None
            self.close()
            reason = describe_status(status, asdict(self.limits)) if isinstance(exc, wire.ChannelClosed) \
                else f"it sent a malformed reply ({exc})"
            raise WorkerFailure(Status.CRASHED, f"the student's code crashed the worker process: {reason}"
                                + self.output_text()) from None
        if not isinstance(reply, dict):
            raise ProtocolViolation("the worker sent a reply that is not a mapping")
        notes = reply.get("notes")
        if isinstance(notes, list):
            self.notes.extend(str(n)[:500] for n in notes[:10] if str(n)[:500] not in self.notes)
        error = reply.get("error")
        if error is not None:
            _raise_reported(error)
        return reply

    def _timeout_message(self) -> str:
        return (f"time limit exceeded: the exercise's checks may take {self.limits.time_seconds:g} s in all "
                "(an infinite loop, or a very slow forward or backward?)" + self.output_text())

    def output_text(self) -> str:
        """The student's prints from the last worker, truncated, for the feedback."""
        if not self.outputs:
            return ""
        parts = []
        for label, path in zip(("stdout", "stderr"), self.outputs[-1]):
            try:
                with open(path, "rb") as handle:
                    data = handle.read(OUTPUT_SHOWN + 1)
            except OSError:
                continue
            text = data[:OUTPUT_SHOWN].decode(errors="replace").rstrip()
            if text:
                more = " [truncated]" if len(data) > OUTPUT_SHOWN else ""
                parts.append(f"\n  your code's {label}{more}:\n    " + text.replace("\n", "\n    "))
        return "".join(parts)


def _raise_reported(error) -> None:
    if not isinstance(error, dict):
        raise ProtocolViolation("the worker reported an error in an unexpected form")
    message = str(error.get("message", ""))[:4000]
    kind = error.get("kind")
    if kind == "load":
        raise StudentCodeError(message)
    if kind == "student":
        raise StudentCallError.reported(message, bool(error.get("not_implemented")))
    raise ProtocolViolation(message)


def _tensor(value, what: str) -> torch.Tensor:
    if type(value) is not torch.Tensor:
        raise ProtocolViolation(f"{what}: the worker sent no tensor")
    return value


def _tensors(values, what: str, count: int) -> list[torch.Tensor | None]:
    if not isinstance(values, list) or len(values) != count:
        raise ProtocolViolation(f"{what}: the worker sent {type(values).__name__} instead of {count} gradients")
    return [None if v is None else _tensor(v, what) for v in values]


@dataclass
class RemoteRun:
    run_id: int


class RemoteOp:
    """The student's op in a worker: StudentOp's interface, every call a request."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.name = worker.name
        self.input_names = worker.input_names
        self.params = CallParams()

    def with_params(self, params: CallParams) -> "RemoteOp":
        """The same worker, every forward request carrying `params`."""
        bound = RemoteOp(self.worker)
        bound.params = params
        return bound

    def _request(self, request: dict) -> dict:
        """A request that runs the student's forward, with the params when there are any."""
        if self.params:
            request["params"] = self.params.to_wire()
        return request

    def phase(self, method: str) -> str:
        return self.worker.style.phase(method)

    @property
    def notes(self) -> list[str]:
        return self.worker.notes

    def load(self) -> None:
        """Start the worker and load the student's file (StudentCodeError when it cannot be)."""
        self.worker.start()

    def forward(self, inputs: Sequence[torch.Tensor]) -> ForwardRun:
        reply = self.worker.call(self._request({"op": "forward", "inputs": [t.detach() for t in inputs],
                                                "strided": [not t.is_contiguous() for t in inputs]}))
        output = _tensor(reply.get("output"), self.phase("forward"))
        return ForwardRun(list(inputs), (output,), RemoteRun(int(reply.get("run", -1))), {})

    def backward(self, run: ForwardRun, grad_outputs: Sequence[torch.Tensor]) -> list[torch.Tensor | None]:
        (grad_output,) = grad_outputs  # one output
        assert isinstance(run.node, RemoteRun)
        reply = self.worker.call({"op": "backward", "run": run.node.run_id, "grad_output": grad_output.detach()})
        return _tensors(reply.get("grads"), self.phase("backward"), len(self.input_names))

    def batched_forward(self, fixed: Sequence[torch.Tensor], layout) -> "RemoteBatchedForward":
        return RemoteBatchedForward(self, list(fixed), [(i, list(shape)) for i, shape in layout])

    def second_order(self, inputs, upstream, directions) -> list[torch.Tensor]:
        reply = self.worker.call(self._request({"op": "second_order", "inputs": [t.detach() for t in inputs],
                                                "upstream": upstream.detach(),
                                                "directions": [d.detach() for d in directions]}))
        count = sum(self.worker.differentiable) + 1
        phase = self.phase("backward (differentiated)")
        return [_tensor(g, phase) for g in _tensors(reply.get("grads"), phase, count)]


class RemoteBatchedForward(BatchedForward):
    """Finite-difference points evaluated in the worker, all of them in one request."""

    def __init__(self, op: RemoteOp, fixed: list[torch.Tensor], layout: list):
        super().__init__(self.one)
        self.op = op
        self.fixed = fixed
        self.layout = layout

    def batches(self, count: int) -> bool:
        return True  # one round trip, whatever the count; the worker picks vmap or a loop

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        reply = self.op.worker.call(self.op._request({"op": "forward_batch", "fixed": [t.detach() for t in self.fixed],
                                                      "layout": self.layout, "thetas": batch.detach()}))
        outputs = _tensor(reply.get("outputs"), self.op.phase("forward"))
        if outputs.dim() < 1 or outputs.shape[0] != batch.shape[0]:
            raise ProtocolViolation(f"{self.op.phase('forward')}: the worker sent outputs of shape {tuple(outputs.shape)} "
                                    f"for {batch.shape[0]} points")
        return outputs

    def one(self, theta: torch.Tensor) -> torch.Tensor:
        return self(theta[None])[0].to(torch.float64)
