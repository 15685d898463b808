"""The grader's side of autograder mode: one zygote per session, one worker per exercise.

``Sandbox`` starts the zygote lazily and hands out a ``RemoteOp`` per exercise: the same interface
as ``student.StudentOp`` (forward, backward, batched_forward, second_order), each call a request to
the exercise's worker. The worker's wall-clock budget is the exercise's; when it runs out, or the
worker dies, the call raises ``WorkerFailure`` (status "timeout" or "crashed") and the next call
starts a fresh worker while budget is left.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..errors import IsolationUnavailable, StudentCodeError
from ..numerics.central_differences import BatchedForward
from ..sandbox import levels, wire
from ..student.failures import ProtocolViolation, StudentCallError
from ..student.op import CallParams, ForwardRun, PlannedCall
from ..student.styles import Style
from ..vocabulary import Status
from .launch import adopt, launch, new_root, resolve_user
from .processes import cgroup_members, describe_status, kill_cgroups, remove_tree, sessions_members

OUTPUT_SHOWN = 2000  # characters of the student's output shown in the feedback, per stream
START_SECONDS = 120.0  # the zygote imports torch once per session
# A reply may hold at most this many elements per element the exercise's answer has (a wrong but
# honest shape, e.g. an unreduced broadcast, still gets its shape message), plus a floor.
REPLY_SLACK = 4
REPLY_FLOOR_ELEMENTS = 1 << 17


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


class SandboxLeak(IsolationUnavailable):
    """Something a submission started survived grading: no report may be written."""


class WorkerFailure(BaseException):
    """The worker timed out or died. A BaseException so that Hypothesis does not retry or shrink
    with it (each retry would cost a fresh worker and its time budget): the check ends at once."""

    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Sandbox:
    """Workers for one grading session (in a batch, one submission after another: see settle)."""

    def __init__(self, limits: WorkerLimits | None = None, user: str | None = None, namespaces: bool = True,
                 require: str | None = None, ceiling: str | None = None,
                 submission_time_limit: float | None = None):
        """`limits`: the session's; when given, its time limit overrides each exercise's own.
        `user`: the workers' user (default nobody); `require`: the lowest isolation level
        accepted (levels.py); `ceiling`: the highest one tried (tests use it to stand for a grader
        without root); `submission_time_limit`: wall-clock seconds for every exercise together."""
        if not sys.platform.startswith("linux"):
            raise IsolationUnavailable("autograder isolation needs Linux (fork, resource limits, /proc)")
        # The grader and its worker take turns, and OpenMP threads the grader's torch leaves spinning
        # after each op take the core the worker needs: the grader's own torch work (the reference,
        # the comparisons, small tensors) runs on one thread while it has a sandbox. Measured on the
        # whole course: 17 s isolated instead of 26 s, and its in-process part faster too.
        torch.set_num_threads(1)
        self.limits = limits or WorkerLimits()
        self.time_limit_given = limits is not None
        self.require = levels.check_level(require) if require else None
        self.ceiling = levels.check_level(ceiling) if ceiling else ("full" if namespaces else "processes")
        self.user = resolve_user(user)
        early = adopt(self.user, self.ceiling)  # a zygote start_early set on its way (plugin.py)
        self.root = early.root if early is not None else new_root()
        self._zygote: subprocess.Popen | None = early.process if early is not None else None
        self._control: socket.socket | None = early.control if early is not None else None
        self._pending: list[dict] = []
        self._unawaited: set[int] = set()  # workers killed without waiting for the zygote's answer
        self._ready = False
        self.hello: dict = {}
        self.levels: list[str] = []
        self.workers: list[Worker] = []
        # every worker tree's first process (its keeper; as root, its init): it leads the worker's session
        self.keepers: set[int] = set()
        self._count_spawns = 0
        self.cgroup_folders: set[str] = set()
        self._count = 0
        self.submission_time_limit = submission_time_limit
        self.submission_deadline: float | None = None
        self.survivors: list[int] = []

    # ------------------------------------------------------------------ zygote
    def start(self) -> None:
        """Start the zygote now, without waiting for it (it imports torch while the grader collects)."""
        if self._zygote is None:
            self._launch()

    def ready(self) -> None:
        """Wait for the zygote (start it if needed); IsolationUnavailable if it cannot start, or
        reaches less isolation than required."""
        self._start_zygote()

    def _start_zygote(self) -> None:
        if self._zygote is None or self._zygote.poll() is not None:
            if self._zygote is not None:  # it died: whatever its workers left is swept first
                self._sweep()
            self._launch()
        self._await_ready()

    def _launch(self) -> None:
        self._zygote, self._control = launch(self.root, self.user, self.ceiling)
        self._ready = False

    def _await_ready(self) -> None:
        if self._ready:
            return
        hello = self._receive(lambda m: "ready" in m, time.monotonic() + START_SECONDS)
        if hello is None:
            detail = (self.root / "zygote.log").read_text(errors="replace")[-2000:]
            self.close()
            raise IsolationUnavailable(f"the worker zygote did not start:\n{detail}")
        self.hello = hello
        self.levels = [str(level) for level in hello.get("held", [])]
        self.cgroup_folders |= set(hello.get("cgroups", {}).get("folders", []))
        self._ready = True
        if self.require and levels.rank(self.level) < levels.rank(self.require):
            report = self.isolation_report()
            self.close()
            raise IsolationUnavailable(
                f"isolation level {report['level']} reached, {self.require} required (--require-isolation); "
                f"missing: {', '.join(report['missing'])}" + "".join(f"\n  {p}" for p in report["problems"]))

    @property
    def level(self) -> str:
        return levels.reached(self.levels, self.hello.get("cgroups", {}))[0]

    def isolation_report(self) -> dict:
        """What held for this session's workers, for the terminal and the JSON report."""
        cgroups = self.hello.get("cgroups", {})
        level, missing = levels.reached(self.levels, cgroups)
        return {"level": level, "held": list(self.levels), "missing": missing,
                "cgroup_folders": sorted(self.cgroup_folders),
                "memory_limit": levels.memory_limit(cgroups, self.limits.processes),
                "process_limit": cgroups.get("pids") or "RLIMIT_NPROC",
                "cpu_time_limit": (f"{cgroups['cpu']} (the whole process tree)" if cgroups.get("cpu")
                                   else "RLIMIT_CPU per process"),
                "problems": [str(p) for p in self.hello.get("problems", [])]}

    def _receive(self, wanted, deadline: float) -> dict | None:
        """The first control message for which wanted(message) holds (others are kept)."""
        for i, message in enumerate(self._pending):
            if wanted(message):
                return self._pending.pop(i)
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0 or self._control is None:
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
            ended = message.get("killed", message.get("exited"))
            if ended not in self._unawaited:
                self._pending.append(message)
            elif "killed" in message:  # (nobody asks how a worker killed without waiting ended) its last word
                self._unawaited.discard(ended)

    def spawn(self, config: dict, fds: list[int]) -> int:
        """Ask the zygote for a worker and go on without waiting while it makes the worker's cgroups
        and forks it (about 20 ms a worker, which the grader spends grading the exercise before):
        the ticket returned is exchanged for the worker's pid by spawned()."""
        self._start_zygote()
        assert self._control is not None  # _start_zygote launched it
        self._count_spawns += 1
        ticket = self._count_spawns
        socket.send_fds(self._control, [json.dumps({"op": "spawn", "config": config, "ticket": ticket}).encode()], fds)
        return ticket

    def spawned(self, ticket: int) -> int:
        """The pid of the worker spawn() asked for with this ticket (IsolationUnavailable: no answer)."""
        reply = self._receive(lambda m: "spawned" in m and m.get("ticket") == ticket, time.monotonic() + 30)
        if reply is None:
            raise IsolationUnavailable("the worker zygote did not answer")
        self.keepers.add(int(reply["spawned"]))
        return int(reply["spawned"])

    def kill(self, pid: int, wait: bool = True) -> tuple[int | None, str | None]:
        """Kill a worker and every process it started; its wait status when known, and the reason
        the zygote saw ("memory", "cpu"). Without `wait`, the zygote is told and the grader goes
        on: it kills in the order it is told, so before it starts another worker or settles."""
        if self._control is None or self._zygote is None or self._zygote.poll() is not None:
            return None, None
        try:
            self._control.send(json.dumps({"op": "kill", "pid": pid}).encode())
        except OSError:
            return None, None
        if not wait:
            self._unawaited.add(pid)
            return None, None
        reply = self._receive(lambda m: m.get("killed") == pid, time.monotonic() + 30) or {}
        exited = self._receive(lambda m: m.get("exited") == pid, time.monotonic()) or {}
        status = reply.get("status") if reply.get("status") is not None else exited.get("status")
        return status, reply.get("reason") or exited.get("reason")

    def exit_status(self, pid: int, wait: float = 1.0) -> tuple[int | None, str | None]:
        message = self._receive(lambda m: m.get("exited") == pid, time.monotonic() + wait)
        return (None, None) if message is None else (message["status"], message.get("reason"))

    # ------------------------------------------------------------------ submissions
    def begin_submission(self) -> None:
        """The submission's wall-clock budget starts now (with --submission-time-limit)."""
        self.submission_deadline = (time.monotonic() + self.submission_time_limit
                                    if self.submission_time_limit else None)

    def settle(self) -> None:
        """Every worker of the submission killed, its cgroups checked empty and removed (fresh ones
        for the next submission): SandboxLeak when something survived. Call before writing a report."""
        for worker in self.workers:
            worker.close()
        self.workers = []
        if self._control is not None and self._zygote is not None and self._zygote.poll() is None:
            try:
                self._control.send(json.dumps({"op": "settle"}).encode())
                reply = self._receive(lambda m: "settled" in m, time.monotonic() + 60)
            except OSError:
                reply = None
            if reply is not None:
                self.cgroup_folders |= set(reply.get("cgroups", {}).get("folders", []))
        self._sweep()
        self.submission_deadline = None
        if self.survivors:
            raise SandboxLeak(f"processes of the submission survived grading: {self.survivors}")

    def _sweep(self) -> None:
        """The grader's own check (the zygote may be gone): kill whatever is left in the session's
        cgroups or in a worker's session, remove the cgroup folders that are left."""
        left = set(kill_cgroups([Path(f) for f in self.cgroup_folders if Path(f).exists()], recursive=True))
        stray = sessions_members(self.keepers)
        for pid in stray:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while stray and time.monotonic() < deadline:
            time.sleep(0.01)
            stray = sessions_members(self.keepers)
        left |= stray
        for folder in sorted(self.cgroup_folders):
            if Path(folder).exists() and not cgroup_members(Path(folder), recursive=True):
                remove_tree(Path(folder))
        self.cgroup_folders = {f for f in self.cgroup_folders if Path(f).exists()}
        self.survivors = sorted(left) + [f"cgroup {f}" for f in sorted(self.cgroup_folders)]  # type: ignore[misc]

    # ------------------------------------------------------------------ workers
    def worker(self, exercise: str, file_name: str, contents: bytes, student: Style | str, input_names: Sequence[str],
               differentiable: Sequence[bool], device: str, limits: WorkerLimits | None = None,
               forbid: Sequence[str] = (), masks: Sequence[str] = (), reply_elements=None,
               support: dict[str, bytes] | None = None) -> "Worker":
        """`student`: the exercise's style (styles.Style), or the class name of an autograd.Function;
        `masks`: files the worker must not see (the exercise's reference module); `reply_elements`:
        inputs -> how many elements the student's output has (the cap on a reply); `support`: the
        course's support modules the student's file may import (student.support.files)."""
        self._count += 1
        worker = Worker(self, f"{self._count:03d}-{exercise}", exercise, file_name, contents, Style.coerce(student),
                        list(input_names), list(differentiable), device, limits or self.limits, list(forbid))
        worker.masks = list(masks)
        worker.reply_elements = reply_elements
        worker.support = dict(support or {})
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        """Every worker and every process it started is gone when this returns (SandboxLeak when
        something survived: then no report may be written)."""
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
        self._sweep()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.survivors:
            raise SandboxLeak(f"processes of the submission survived grading: {self.survivors}")


class Worker:
    """The worker process of one exercise, started on the first request, restarted after a crash
    while the exercise's time budget lasts."""

    def __init__(self, sandbox: Sandbox, key: str, exercise: str, file_name: str, contents: bytes,
                 style: Style, input_names: list[str], differentiable: list[bool], device: str,
                 limits: WorkerLimits, forbid: list[str], support: dict[str, bytes] | None = None):
        self.forbid = forbid
        self.masks: list[str] = []
        self.reply_elements = None
        self.support: dict[str, bytes] = {}  # the course's support modules, sent with the worker's config
        self.notes: list[str] = []  # reported by the worker: reasons to flag the submission for review
        self.prefetched: deque[tuple[dict, dict]] = deque()  # answers computed ahead (prefetch), in turn
        self.pending: deque[tuple[list[dict], int | None]] = deque()  # calls sent ahead, answers not read yet
        self.kept_runs: set[int] = set()  # the ids of the forward runs the worker said it keeps for later checks
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
        self._pid: int | None = None
        self._ticket: int | None = None  # a spawn asked for, its pid not read yet (Sandbox.spawn)
        self.channel: socket.socket | None = None
        self.reader: wire.Reader | None = None
        self.starts = 0
        self.outputs: tuple[int, int] | None = None  # the last worker's stdout and stderr (memfds)
        self.name = style.name
        self.levels: list[str] = []  # what the worker reported of its own confinement
        self.budget_message = ""
        self.loading = False  # the load request sent, its answer not yet read (launch)

    # ------------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        self._launch()
        _ = self.pid  # the zygote's answer first: a worker it never forked must not pass for the student's timeout
        self._loaded()

    def _launch(self) -> None:
        """Start the worker process and send it the load request (its answer: _loaded)."""
        self.starts += 1
        self.kept_runs.clear()
        sandbox = self.sandbox
        config = {
            "exercise": self.exercise, "student_file": self.file_name, "student_file_bytes": len(self.contents),
            "student": self.style.to_config(), "input_names": self.input_names,
            "differentiable": self.differentiable, "device": self.device, "forbid": self.forbid,
            "masks": self.masks, "workdir": None,
            "support": {name: base64.b64encode(data).decode() for name, data in self.support.items()},
            "limits": {**asdict(self.limits), "cpu_seconds": max(1, int(self._remaining()) + 1)},
        }
        if sandbox.hello.get("namespaces") is None:  # no private tmpfs: a fresh folder nobody could guess
            workdir = Path(tempfile.mkdtemp(prefix=f"{self.key}-", dir=sandbox.root))
            (workdir / self.file_name).write_bytes(self.contents)
            if sandbox.hello.get("switch_user"):
                for path in (workdir, workdir / self.file_name):
                    os.chown(path, self.sandbox.user["uid"], self.sandbox.user["gid"])
            config["workdir"] = str(workdir)
        self._close_outputs()
        out_fd, err_fd = os.memfd_create("stdout"), os.memfd_create("stderr")
        self.outputs = (out_fd, err_fd)
        file_fd = os.memfd_create("student-file")
        os.write(file_fd, self.contents)
        os.lseek(file_fd, 0, os.SEEK_SET)
        ours, theirs = socket.socketpair()
        try:
            self._pid, self._ticket = None, sandbox.spawn(config, [theirs.fileno(), out_fd, err_fd, file_fd])
        finally:
            theirs.close()
            os.close(file_fd)
        self.channel = ours
        self.reader = wire.Reader(ours.fileno(), self.limits.message_bytes)
        self._send({"op": "load"})
        self.loading = True

    def _loaded(self) -> None:
        """The worker's answer to its load request (StudentCodeError: the file could not be loaded)."""
        self.loading = False
        reply = self._accept(self._receive())
        levels = reply.get("levels")
        if isinstance(levels, list):
            self.levels = [str(level) for level in levels]

    def _remaining(self) -> float:
        if self.deadline is None:
            return self.limits.time_seconds
        return self.deadline - time.monotonic()

    @property
    def pid(self) -> int | None:
        """The worker's pid (its tree's first process: the keeper, as root the init), read from the
        zygote's answer to the spawn when first needed."""
        if self._ticket is not None:
            ticket, self._ticket = self._ticket, None
            self._pid = self.sandbox.spawned(ticket)
        return self._pid

    def _known_pid(self) -> int | None:
        """pid, or None where the zygote never answered (it is gone, and every worker with it)."""
        try:
            return self.pid
        except IsolationUnavailable:
            return None

    def close(self, wait: bool = True) -> None:
        """Kill the worker and everything it started: gone when this returns, or, without `wait`,
        before the zygote starts another worker or the submission settles (Sandbox.kill)."""
        self.prefetched.clear()
        self.pending.clear()
        self.kept_runs.clear()
        self.loading = False
        pid = self._known_pid()
        if pid is not None:
            self.sandbox.kill(pid, wait=wait)
            self._pid = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def _close_outputs(self) -> None:
        if self.outputs is not None:
            for fd in self.outputs:
                os.close(fd)
            self.outputs = None

    def __del__(self):
        try:
            self._close_outputs()
        except OSError:
            pass

    # ------------------------------------------------------------------ requests
    def start(self) -> None:
        """Start the worker (it loads the student's file) unless it is running; the exercise's
        time budget starts with its first start (once the zygote is ready: its start is not the
        student's time), within what is left of the submission's budget."""
        self.sandbox.ready()
        if self.deadline is None:
            self.deadline = time.monotonic() + self.limits.time_seconds
            ends = self.sandbox.submission_deadline
            if ends is not None and ends < self.deadline:
                self.deadline = ends
                self.budget_message = (f"the submission's time budget of {self.sandbox.submission_time_limit:g} s "
                                       "for every exercise together ran out")
        if self._remaining() <= 0:
            raise WorkerFailure(Status.TIMEOUT, self._timeout_message())
        if self.pid is None:
            self._start()
        elif self.loading:
            self._loaded()

    def launch(self) -> None:
        """Start the worker and send its load request now, without waiting for the answer: the grader
        starts the next exercise's worker while it grades this one. start() reads the answer, and the
        exercise's time budget starts there, as it would without this. A worker that fails to start
        here is started again there, and fails there the same way."""
        if self.pid is not None or self.deadline is not None:
            return
        try:
            self.sandbox.ready()
            self._launch()
        except (Exception, WorkerFailure):  # noqa: BLE001 - met again, and reported, by start()
            self.close()

    def call(self, request: dict, reply_elements: int | None = None) -> dict:
        self.start()
        if not self.prefetched and self.pending:
            self._collect()
        if self.prefetched:
            ahead = self.prefetched.popleft()
            if wire.same_message(ahead[0], request):  # only the very request it was computed for
                return self._accept(ahead[1])
            self._drop_answers_ahead()  # the check went another way: every later answer is asked for again
        reply = self._exchange(request, reply_elements)
        self._count_kept(request, reply)
        return self._accept(reply)

    def prefetch(self, requests: list[dict], entry_elements: Sequence[int | None]) -> None:
        """Send the calls a check will make next, in its order, in one message, and go on: the worker
        answers each as if it had come alone (worker.answer_many) while the grader checks what came
        before; call() hands out an answer only for the very request it was computed for, in turn. At
        the first request that differs, the answers waiting (and those still on their way: the worker
        answers in order) are dropped and the calls go to the worker one by one again."""
        self.start()
        # Each entry's cap, so that the worker stops at a reply the grader will refuse (one expanded to
        # a gigabyte) instead of computing the next ones; the message as a whole is capped by their sum.
        caps = [None if n is None else _reply_cap(self.limits.message_bytes, n) for n in entry_elements]
        total = None if None in entry_elements else sum(n for n in entry_elements if n is not None)
        self._send({"op": "many", "requests": requests, "caps": caps})
        self.pending.append((requests, total))

    def _collect(self) -> None:
        """The answers to the oldest calls sent ahead, queued for call()."""
        requests, total = self.pending.popleft()
        reply = self._receive(total)
        if "error" in reply:  # (a reply it could not send) no answers ahead: each call meets it on its own
            return
        replies = reply.get("replies")
        if not isinstance(replies, list) or not 0 < len(replies) <= len(requests) \
                or not all(isinstance(r, dict) for r in replies):
            raise ProtocolViolation("the worker sent a malformed answer to several requests")
        for request, answer in zip(requests, replies):
            entry = request.get("run")
            if isinstance(entry, dict):  # a backward of a run in this batch: the id the worker gave it
                request = {**request, "run": replies[entry["$entry"]].get("run", -1)}
            self._count_kept(request, answer)
            self.prefetched.append((request, answer))

    def _count_kept(self, request: dict, reply: dict) -> None:
        """A forward the worker was asked to keep and says it keeps: it has the run for as long as it
        lives (worker.KEPT_MEMORY_SHARE). A run is counted only once its answer is read, so the grader never
        counts on one the worker has not kept."""
        run = reply.get("run")
        if request.get("op") == "forward" and request.get("keep") and reply.get("kept") is True and isinstance(run, int):
            self.kept_runs.add(run)

    def _drop_answers_ahead(self) -> None:
        while self.pending:
            self._collect()
        self.prefetched.clear()

    def _exchange(self, request: dict, reply_elements: int | None = None) -> dict:
        self._send(request)
        return self._receive(reply_elements)

    def _send(self, request: dict) -> None:
        # Called once the worker was asked for (start() or _start()): its channel and reader are set.
        assert self.channel is not None
        fd = self.channel.fileno()
        self._io(lambda: wire.send(fd, request, self.deadline), None, None)

    def _receive(self, reply_elements: int | None = None) -> dict:
        cap = self.limits.message_bytes
        if reply_elements is not None:
            cap = _reply_cap(cap, reply_elements)
        reader = self.reader
        assert reader is not None
        reply = self._io(lambda: reader.read(self.deadline, max_bytes=cap), reply_elements, cap)
        if not isinstance(reply, dict):
            raise ProtocolViolation("the worker sent a reply that is not a mapping")
        self._take_notes(reply)
        return reply

    def _io(self, action: Callable[[], Any], reply_elements: int | None, cap: int | None) -> Any:
        """A send to or a read from the worker; a timeout, or a worker that died or sent something
        malformed, ends the exercise (WorkerFailure)."""
        try:
            return action()
        except wire.Timeout:
            self.close()
            raise WorkerFailure(Status.TIMEOUT, self._timeout_message()) from None
        except wire.WireError as exc:
            pid = self._known_pid()
            status, reason = self.sandbox.exit_status(pid) if isinstance(exc, wire.ChannelClosed) and pid is not None \
                else (None, None)
            self.close()
            if isinstance(exc, wire.ChannelClosed):
                text = describe_status(status, {**asdict(self.limits), "cpu_seconds": self.limits.cpu_seconds}, reason)
            elif isinstance(exc, wire.TooLarge) and reply_elements is not None:
                text = (f"it sent a reply of more than {cap} bytes, larger than the exercise's answer "
                        f"({reply_elements} elements) can be; refused before reading it")
            else:
                text = f"it sent a malformed reply ({exc})"
            raise WorkerFailure(Status.CRASHED, f"the student's code crashed the worker process: {text}"
                                + self.output_text()) from None

    @staticmethod
    def _accept(reply: dict) -> dict:
        """A reply as a result: the error it carries raised."""
        error = reply.get("error")
        if error is not None:
            _raise_reported(error)
        return reply

    def _take_notes(self, reply: dict) -> None:
        notes = reply.get("notes")
        if isinstance(notes, list):
            self.notes.extend(str(n)[:500] for n in notes[:10] if str(n)[:500] not in self.notes)

    def _timeout_message(self) -> str:
        if self.budget_message:
            return f"time limit exceeded: {self.budget_message}" + self.output_text()
        return (f"time limit exceeded: the exercise's checks may take {self.limits.time_seconds:g} s in all "
                "(an infinite loop, or a very slow forward or backward?)" + self.output_text())

    def output_text(self) -> str:
        """The student's prints from the last worker, truncated, for the feedback."""
        if not self.outputs:
            return ""
        parts = []
        for label, fd in zip(("stdout", "stderr"), self.outputs):
            try:
                data = os.pread(fd, OUTPUT_SHOWN + 1, 0)
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


def _tensors(values, what: str, count: int, kind: str = "gradients") -> list[torch.Tensor | None]:
    if not isinstance(values, list) or len(values) != count:
        raise ProtocolViolation(f"{what}: the worker sent {type(values).__name__} instead of {count} {kind}")
    return [None if v is None else _tensor(v, what) for v in values]


@dataclass
class RemoteRun:
    run_id: int  # the worker's id of the run
    start: int  # which start of the worker made it (Worker.starts): a restarted worker has none of the earlier


class RemoteOp:
    """The student's op in a worker: StudentOp's interface, every call a request."""

    answers_ahead = True

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

    def output_elements(self, inputs: Sequence[torch.Tensor]) -> int | None:
        """How many elements the exercise's output has for these inputs (None: not known)."""
        if self.worker.reply_elements is None:
            return None
        try:
            return int(self.worker.reply_elements(inputs))
        except Exception:  # noqa: BLE001 - the reference cannot say: the session's byte cap stays
            return None

    def _forward_request(self, inputs: Sequence[torch.Tensor], keep: bool) -> dict:
        request: dict[str, Any] = {"op": "forward", "inputs": [t.detach() for t in inputs],
                                   "strided": [not t.is_contiguous() for t in inputs]}
        if keep:
            request["keep"] = True
        return self._request(request)

    def _forward_batch_request(self, fixed: Sequence[torch.Tensor], layout: list, points: torch.Tensor) -> dict:
        return self._request({"op": "forward_batch", "fixed": [t.detach() for t in fixed], "layout": layout,
                              "thetas": points.detach()})

    @staticmethod
    def _backward_request(run_id: int | dict, grad_outputs: Sequence[torch.Tensor | None]) -> dict:
        return {"op": "backward", "run": run_id, "grad_outputs": [None if g is None else g.detach() for g in grad_outputs]}

    def prefetch(self, plan: Sequence[PlannedCall]) -> None:
        """The calls a check will make on its next trials (checks.plans), sent in one round trip."""
        requests: list[dict] = []
        elements: list[int | None] = []
        for call in plan:
            op = call.op if isinstance(call.op, RemoteOp) else self
            if call.points is not None:
                requests.append(op._forward_batch_request(call.inputs, [(i, list(shape)) for i, shape in call.layout],
                                                          call.points))
                per_point = op.output_elements(call.inputs)
                elements.append(None if per_point is None else per_point * max(1, call.points.shape[0]))
            elif call.run is not None:
                assert isinstance(call.run.node, RemoteRun)
                requests.append(self._backward_request(call.run.node.run_id, call.grad_outputs))
                elements.append(sum(t.numel() for t in call.run.inputs))
            elif call.backward_of is None:
                requests.append(op._forward_request(call.inputs, call.keep))
                elements.append(op.output_elements(call.inputs))
            else:
                requests.append(self._backward_request({"$entry": call.backward_of}, call.grad_outputs))
                elements.append(sum(t.numel() for t in plan[call.backward_of].inputs))
        if requests:
            self.worker.prefetch(requests, elements)

    def forward(self, inputs: Sequence[torch.Tensor], keep: bool = False) -> ForwardRun:
        reply = self.worker.call(self._forward_request(inputs, keep), self.output_elements(inputs))
        phase = self.phase("forward")
        outputs = [_tensor(out, phase) for out in _tensors(reply.get("outputs"), phase, len(self.worker.style.outputs),
                                                            "outputs")]
        return ForwardRun(list(inputs), tuple(outputs), RemoteRun(int(reply.get("run", -1)), self.worker.starts), {},
                          self._side(reply.get("side"), phase))

    def holds(self, run: ForwardRun) -> bool:
        """A run this start of the worker said it keeps."""
        node = run.node
        return isinstance(node, RemoteRun) and node.start == self.worker.starts and node.run_id in self.worker.kept_runs

    def _side(self, sent, phase: str) -> dict[str, torch.Tensor | str]:
        """The side outputs the worker read after the forward: for each the exercise declares, a
        tensor or a short text (what was there instead); anything else is a protocol violation."""
        wanted = self.worker.style.side_outputs
        if not wanted:
            return {}
        if not isinstance(sent, dict) or set(sent) != set(wanted):
            raise ProtocolViolation(f"{phase}: the worker sent side outputs {sorted(sent) if isinstance(sent, dict) else sent!r}, "
                                    f"expected {', '.join(wanted)}")
        side: dict[str, torch.Tensor | str] = {}
        for path in wanted:
            value = sent[path]
            side[path] = value[:100] if isinstance(value, str) else _tensor(value, phase)
        return side

    def backward(self, run: ForwardRun, grad_outputs: Sequence[torch.Tensor | None]) -> list[torch.Tensor | None]:
        """One upstream gradient per output, None for a non-differentiable one (the worker's
        StudentOp gives the student what PyTorch would)."""
        assert isinstance(run.node, RemoteRun)
        reply = self.worker.call(self._backward_request(run.node.run_id, grad_outputs), sum(t.numel() for t in run.inputs))
        return _tensors(reply.get("grads"), self.phase("backward"), len(self.input_names))

    def batched_forward(self, fixed: Sequence[torch.Tensor], layout) -> "RemoteBatchedForward":
        return RemoteBatchedForward(self, list(fixed), [(i, list(shape)) for i, shape in layout])

    def second_order(self, inputs, upstream, directions) -> list[torch.Tensor]:
        reply = self.worker.call(self._request({"op": "second_order", "inputs": [t.detach() for t in inputs],
                                                "upstream": upstream.detach(),
                                                "directions": [d.detach() for d in directions]}),
                                 sum(t.numel() for t in inputs) + upstream.numel())
        count = sum(self.worker.differentiable) + 1
        phase = self.phase("backward (differentiated)")
        return [_tensor(g, phase) for g in _tensors(reply.get("grads"), phase, count)]


def _reply_cap(message_bytes: int, reply_elements: int) -> int:
    """The most bytes a reply may hold for an answer of `reply_elements` elements: float64 at most;
    the slack keeps a wrong shape's own message."""
    return min(message_bytes, 8 * (REPLY_SLACK * reply_elements + REPLY_FLOOR_ELEMENTS))


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
        per_point = self.op.output_elements(self.fixed)
        reply = self.op.worker.call(self.op._forward_batch_request(self.fixed, self.layout, batch),
                                    None if per_point is None else per_point * max(1, batch.shape[0]))
        outputs = _tensor(reply.get("outputs"), self.op.phase("forward"))
        if outputs.dim() < 1 or outputs.shape[0] != batch.shape[0]:
            raise ProtocolViolation(f"{self.op.phase('forward')}: the worker sent outputs of shape {tuple(outputs.shape)} "
                                    f"for {batch.shape[0]} points")
        return outputs

    def one(self, theta: torch.Tensor) -> torch.Tensor:
        return self(theta[None])[0].to(torch.float64)
