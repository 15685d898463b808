"""The zygote: imports torch once, then forks a fresh worker for each exercise on request.

Started by the grader as ``python -I zygote.py CONTROL_FD`` with a scrubbed environment, as the
grader's user; its options are the first message on the control socket. It never runs student
code itself, ends with the grader (PR_SET_PDEATHSIG: SIGTERM, and its handler kills every worker
and removes the cgroups), and is the child subreaper of everything it forks. At start it makes the
submission's cgroups (processes.py), works out what the machine allows by confining a probe worker
(confinement.py: namespaces as root, else in a user namespace, else none) and reports it. Requests
arrive on a SOCK_SEQPACKET control socket as JSON, with the worker's channel, its stdout and stderr
(memfds) and the student's file (a memfd) passed as file descriptors:

    {"op": "spawn", "config": {...}}  + fds   ->  {"spawned": pid}
    {"op": "kill", "pid": pid}                ->  {"killed": pid, "status": ..., "reason": ...}
    {"op": "settle"}                          ->  {"settled": [pids left]}  (every worker killed, the
                                                  submission's cgroups emptied, removed and made anew)

and it reports on its own ``{"exited": pid, "status": ..., "reason": ...}`` when a worker ends
(reason: "memory" when its cgroup hit the memory limit, "cpu" when the zygote killed it for the CPU
time of its whole process tree). When the grader goes away (the control socket closes), the zygote
kills every worker, removes the cgroups and exits.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import json
import os
import select
import signal
import socket
import sys
import sysconfig
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

if __name__ == "__main__":  # run as a script under -I: the package is found from this file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    # The collector stays off while torch is imported (a tenth of a second sooner ready, before the
    # grader needs the first worker); main() freezes what the imports made and turns it back on.
    gc.disable()

import torch  # noqa: E402 - after the path is set

from gradcheck_suite.sandbox import confinement, processes, seccomp, worker  # noqa: E402,F401
from gradcheck_suite.student.guards import OpTrace  # noqa: E402

POLL_SECONDS = 0.05
PACKAGE = Path(__file__).resolve().parents[1]


def _warm_up() -> None:
    """Import what every worker would otherwise import lazily, once: torch.func for vmap, what
    the first dispatch mode (the workers' operator trace) sets up, and libseccomp."""
    torch.set_num_threads(1)
    seccomp.available()
    try:
        torch.func.vmap(torch.sin)(torch.zeros(2, 2))
        with OpTrace():
            torch.sin(torch.zeros(2))
    except Exception:  # noqa: BLE001 - only a warm-up
        pass


# ----------------------------------------------------------------------------- the worker's view

SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")
ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd", "/etc/group",
       "/etc/nsswitch.conf")


def plan_view(mount_base: str, device: str = "cpu") -> dict:
    """What a worker sees: the Python installation (prefix, stdlib, site-packages), the system's
    libraries, a few files of /etc, and this package, read-only; not the folder the package sits in
    (a checkout holds the course and its solutions), nor anything else a .pth file put on sys.path."""
    wanted = set(SYSTEM + ETC) | {str(PACKAGE)}
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        wanted.add(prefix)
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        wanted.add(sysconfig.get_path(key))
    for entry in sys.path:
        if entry and entry != str(PACKAGE.parent) and any(
                _under(entry, root) for root in (sys.prefix, sys.base_prefix, "/usr")):
            wanted.add(entry)
    wanted = {os.path.abspath(p) for p in wanted if p and os.path.lexists(p)}
    links = {}
    sources = set()
    for path in wanted:
        real = os.path.realpath(path)
        if real != path:
            links[path] = real
        sources.add(real)
    mounts = sorted(p for p in sources if not any(p != q and _under(p, q) for q in sources))
    links = {link: target for link, target in links.items() if not any(_under(link, m) for m in mounts)}
    if device == "cuda":
        mounts.append("/sys")
    return {"mount_base": mount_base, "mounts": mounts, "links": links,
            "devices": [d for d in os.listdir("/dev") if d.startswith("nvidia")] if device == "cuda" else []}


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def package_masks() -> list[str]:
    """The package's reference module (and its compiled copies): never visible to a worker."""
    found = [str(PACKAGE / "references.py")]
    found += [str(p) for p in (PACKAGE / "__pycache__").glob("references.*")]
    return found


# ----------------------------------------------------------------------------- workers

@dataclass
class Live:
    cgroups: processes.WorkerCgroups
    status_fd: int
    cpu_seconds: float
    reason: str | None = None
    records: dict = field(default_factory=dict)  # what the keeper reported: b"P" init pid, b"W"/b"I" statuses

    def read(self) -> dict:
        self.records.update(_records(self.status_fd))
        return self.records

    def status(self, fallback: int | None = None) -> int | None:
        records = self.read()
        return records.get(b"W", records.get(b"I", fallback))


class Zygote:
    def __init__(self, control: socket.socket, options: dict):
        self.control = control
        self.options = options
        self.grader = int(options["grader"])
        self.ceiling = options.get("ceiling") or "full"
        self.user = options["user"]
        # a lower ceiling stands for a grader without root: no cgroups it could write to
        self.cgroups = processes.Cgroups.discover(enabled=self.ceiling == "full")
        self.workers: dict[int, Live] = {}
        self.lifeline = _pidfd_of_self()  # (confinement.namespace_init) readable once this process exits
        self.statuses: dict[int, tuple[int | None, str | None]] = {}
        self.namespaces: str | None = None
        self.switch_user = False
        self.probe_held: list[str] = []
        self.probe_problems: list[str] = []

    def send(self, message: dict) -> None:
        self.control.send(json.dumps(message).encode())

    # -------------------------------------------------------------- what the machine allows
    def choose_mode(self) -> None:
        root = os.geteuid() == 0 and self.ceiling == "full"
        candidates: list[str | None] = []
        if self.ceiling == "full":
            candidates += ["plain"] if os.geteuid() == 0 else []
        if self.ceiling in ("full", "namespaces"):
            candidates.append("userns")
        candidates.append(None)
        for namespaces in candidates:
            switch_user = root and namespaces != "userns"
            held, problem = self._probe(namespaces, switch_user)
            if held is not None:
                self.namespaces, self.switch_user, self.probe_held = namespaces, switch_user, held
                return
            self.probe_problems.append(f"{namespaces or 'no namespaces'}: {problem}")
            if switch_user:  # e.g. a user namespace where setuid is refused: try again as the same user
                held, problem = self._probe(namespaces, False)
                if held is not None:
                    self.namespaces, self.switch_user, self.probe_held = namespaces, False, held
                    return
        self.namespaces, self.switch_user = None, False

    def _probe(self, namespaces: str | None, switch_user: bool) -> tuple[list[str] | None, str]:
        limits = {"cpu_seconds": 10, "output_bytes": 1 << 16, "open_files": 64, "processes": 8,
                  "memory_bytes": 1 << 30}
        cgroups = self.cgroups.make_worker(1 << 30, 8)
        config = self._config({"limits": limits, "student_file": "probe.py", "exercise": "probe",
                               "workdir": self.options["mount_base"]}, namespaces, switch_user, cgroups)
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        devnull = os.open(os.devnull, os.O_WRONLY)
        zygote = os.getpid()
        try:
            pid = self._fork_tree(namespaces)
        except OSError as exc:
            return None, f"the probe worker could not be started: {exc}"
        if pid == 0:
            try:
                os.close(out_r)
                os.close(status_r)
                self.control.close()
                self._tree(namespaces, config, {"stdout": out_w, "stderr": devnull}, status_w, zygote, probe=True)
            except BaseException:  # noqa: BLE001
                os.write(devnull, b"")
            finally:
                os._exit(70)
        for fd in (out_w, status_w, devnull):
            os.close(fd)
        output = b""
        while chunk := os.read(out_r, 1 << 16):
            output += chunk
        os.close(out_r)
        _, own = os.waitpid(pid, 0)
        status = _read_status(status_r, fallback=own if self._init_directly(namespaces) else None)
        processes.kill_cgroups(cgroups.paths)
        for path in cgroups.paths:
            processes.remove_tree(path)
        if status is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None, f"the probe worker ended with status {status}"
        return output.decode(errors="replace").splitlines(), ""

    def _config(self, config: dict, namespaces: str | None, switch_user: bool,
                cgroups: processes.WorkerCgroups) -> dict:
        config = dict(config)
        config.update(namespaces=namespaces, switch_user=switch_user, user=self.user, seccomp=self.options.get("seccomp", True),
                      cgroups=[str(p) for p in cgroups.paths], cgroup_limits=cgroups.limits)
        if namespaces is not None:
            config["view"] = plan_view(self.options["mount_base"], config.get("device", "cpu"))
            config["masks"] = sorted(set(config.get("masks", [])) | set(package_masks()))
        return config

    # -------------------------------------------------------------- requests
    def spawn(self, config: dict, fds: list[int]) -> int:
        channel_fd, out_fd, err_fd, file_fd = fds
        limits = config["limits"]
        cgroups = self.cgroups.make_worker(int(limits.get("memory_bytes") or 0), int(limits["processes"]))
        config = self._config(config, self.namespaces, self.switch_user, cgroups)
        status_r, status_w = os.pipe()
        zygote = os.getpid()
        pid = self._fork_tree(self.namespaces)
        if pid == 0:  # the keeper, or the init itself (_fork_tree)
            try:
                self.control.close()
                os.close(status_r)
                for other in list(self.workers.values()):
                    os.close(other.status_fd)
                passed = {"channel": channel_fd, "stdout": out_fd, "stderr": err_fd, "file": file_fd}
                self._tree(self.namespaces, config, passed, status_w, zygote)
            except BaseException:  # noqa: BLE001 - the keeper must never return into the zygote's loop
                try:
                    os.write(err_fd, traceback.format_exc().encode())
                finally:
                    os._exit(70)
            os._exit(70)
        os.close(status_w)
        for fd in fds:
            os.close(fd)
        self.workers[pid] = Live(cgroups, status_r, float(limits["cpu_seconds"]),
                                 records={b"P": pid} if self._init_directly(self.namespaces) else {})
        return pid

    def _init_directly(self, namespaces: str | None) -> bool:
        """Whether a worker's tree begins with its init, forked straight into a new PID namespace
        (namespaces "plain", where this process has a pidfd for the init to watch), not with a keeper."""
        return namespaces == "plain" and self.lifeline is not None

    def _fork_tree(self, namespaces: str | None) -> int:
        """fork() the first process of a worker's tree: the init itself (confinement.fork_as_init)
        where _init_directly, otherwise its keeper."""
        return confinement.fork_as_init() if self._init_directly(namespaces) else os.fork()

    def _tree(self, namespaces: str | None, config: dict, fds: dict, status_fd: int, zygote: int,
              probe: bool = False) -> None:
        """In the child of _fork_tree: the init (_init_directly) or the keeper (never returns)."""
        if self._init_directly(namespaces):
            assert self.lifeline is not None  # (_init_directly says so)
            confinement.namespace_init(config, fds, status_fd, self.lifeline, probe=probe)
        if self.lifeline is not None:
            os.close(self.lifeline)  # a worker may hold nothing that reaches the zygote
        confinement.close_own_pid_namespace()
        confinement.keeper(config, fds, status_fd, zygote, probe=probe)

    def kill(self, pid: int) -> tuple[int | None, str | None]:
        live = self.workers.pop(pid, None)
        if live is None:
            return self.statuses.pop(pid, (None, None))
        reason = live.reason or ("memory" if live.cgroups.out_of_memory() else None)
        init = live.read().get(b"P") if self.namespaces is not None else None
        reaped = processes.kill_tree(pid, live.cgroups, set(self.workers), self.namespaces is not None, init)
        status = live.status(reaped.pop(pid, None))
        os.close(live.status_fd)
        self._exited(reaped)
        if pid in self.statuses:
            status, reason = self.statuses.pop(pid)
        return status, reason

    def _exited(self, reaped: dict[int, int]) -> None:
        """Report the workers among `reaped` (reaped while killing another one)."""
        for other, raw in reaped.items():
            live = self.workers.get(other)
            if live is not None and other not in self.statuses:
                reason = live.reason or ("memory" if live.cgroups.out_of_memory() else None)
                self.statuses[other] = (live.status(raw), reason)
                self.send({"exited": other, "status": self.statuses[other][0], "reason": reason})

    def settle(self) -> list[int]:
        for pid in list(self.workers):
            self.kill(pid)
        left = self.cgroups.remove_all()
        self.cgroups.new_submission()
        return left

    def watch(self) -> None:
        """Reap exited keepers (and orphans); stop a worker tree over its CPU time."""
        reaped = processes.reap()
        for pid, live in list(self.workers.items()):
            if live.reason == "cpu" and pid not in reaped and pid not in self.statuses:
                init = live.read().get(b"P") if self.namespaces is not None else None
                reaped.update(processes.kill_tree(pid, processes.WorkerCgroups(), set(self.workers) - {pid},
                                                  self.namespaces is not None, init))
            elif live.reason is None and pid not in reaped and pid not in self.statuses:
                used = live.cgroups.cpu_seconds()
                if used is not None and used > live.cpu_seconds:
                    live.reason = "cpu"  # killed on the next round
        self._exited(reaped)

    def run(self) -> None:
        # Backing the heap with huge pages costs 0.1 to 0.3 s of machine time and saves about 5 ms
        # per worker: worth it from a second submission on (a batch's job), not for one course.
        idle_work: Iterator[int] | None = None  # done a step at a time, while no request waits
        collapsed = False
        watched = 0.0
        try:
            while True:
                ready, _, _ = select.select([self.control], [], [], 0 if idle_work else POLL_SECONDS)
                if not ready and idle_work is not None and next(idle_work, None) is None:
                    idle_work = None
                if ready:
                    data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, 4)
                    if not data:
                        break
                    request = json.loads(data)
                    if request["op"] == "spawn":
                        self.send({"spawned": self.spawn(request["config"], fds), "ticket": request.get("ticket")})
                    elif request["op"] == "kill":
                        status, reason = self.kill(request["pid"])
                        self.send({"killed": request["pid"], "status": status, "reason": reason})
                    elif request["op"] == "settle":
                        self.send({"settled": self.settle(), "cgroups": self.cgroups.describe()})
                        if not collapsed:
                            idle_work, collapsed = _collapse_into_huge_pages(), True
                if ready or idle_work is None or time.monotonic() - watched >= POLL_SECONDS:
                    self.watch()
                    watched = time.monotonic()
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the cleanup is not to be cut short
            try:
                for pid in list(self.workers):
                    self.kill(pid)
            finally:
                left = self.cgroups.remove_all()
                print(f"zygote: every worker gone; processes left in its cgroups: {left}", file=sys.stderr, flush=True)


MADV_COLLAPSE = 25
HUGE_PAGE = 2 << 20


def _collapse_into_huge_pages() -> Iterator[int]:
    """Back this process's large anonymous mappings (the heap torch and Python made) with huge
    pages (MADV_COLLAPSE, Linux 6.1 and later; elsewhere nothing changes), 2 MiB per step: the
    zygote takes a step whenever no request waits, so the grader never waits for it (a whole heap
    takes 0.1 to 0.3 s of machine time, as memory is fragmented). Each worker forked afterwards
    copies one page-table entry per 2 MiB instead of 512, and its exit frees as few: a fork and
    exit of the zygote took 9.5 ms of machine time before, 4.5 ms after, measured here. The
    mappings keep their flags, so what a worker allocates later is not made huge (its memory
    limit counts what it touches, as before). Yields the bytes collapsed so far."""
    madvise = confinement.libc().madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    collapsed = 0
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return
    for line in maps:
        fields = line.split()
        name = fields[5] if len(fields) > 5 else ""
        if "w" not in fields[1] or name not in ("", "[heap]"):  # a file, [stack], [vvar]...: not the heap
            continue
        low, high = (int(x, 16) for x in fields[0].split("-"))
        for start in range(-(-low // HUGE_PAGE) * HUGE_PAGE, high - HUGE_PAGE + 1, HUGE_PAGE):
            if madvise(start, HUGE_PAGE, MADV_COLLAPSE) == 0:
                collapsed += HUGE_PAGE
            elif ctypes.get_errno() == errno.EINVAL:  # a kernel without MADV_COLLAPSE, a mapping it refuses
                break
            yield collapsed


def _pidfd_of_self() -> int | None:
    """A pidfd of this process (Linux 5.3 and later); None where there is none: the keeper then
    holds each worker's PID namespace."""
    try:
        return os.pidfd_open(os.getpid())
    except (AttributeError, OSError):
        return None


def _records(fd: int) -> dict:
    """Whatever the keeper wrote to its status pipe so far (non-blocking)."""
    data = b""
    os.set_blocking(fd, False)
    try:
        while chunk := os.read(fd, 4096):
            data += chunk
    except (BlockingIOError, OSError):
        pass
    records = {}
    size = confinement.STATUS.size
    for offset in range(0, len(data) - size + 1, size):
        kind, value = confinement.STATUS.unpack_from(data, offset)
        records[kind] = value
    return records


def _read_status(fd: int, fallback: int | None = None) -> int | None:
    """The worker's wait status as its init reported it, else the init's, else `fallback`; closes fd."""
    records = _records(fd)
    os.close(fd)
    return records.get(b"W", records.get(b"I", fallback))


def _terminate(signum, frame) -> None:
    raise SystemExit(0)  # through Zygote.run's cleanup: every worker killed, the cgroups removed


def main(control_fd: int) -> None:
    control = socket.socket(fileno=control_fd)
    options = json.loads(control.recv(1 << 16))  # not on the command line, which every process may read
    signal.signal(signal.SIGTERM, _terminate)
    confinement.die_with_parent(int(options["grader"]), signal.SIGTERM)  # the grader killed: clean up, exit
    subreaper = processes.become_subreaper()
    _warm_up()
    # Every worker is forked from here and shares these pages until it writes to them. Frozen, the
    # objects torch and the grader made are never scanned by a worker's garbage collector, whose
    # first full pass would otherwise touch (and so copy) most of the inherited heap in each worker.
    # (No collection first: the few thousand objects the imports left unreachable stay, frozen.)
    gc.freeze()
    gc.enable()
    zygote = Zygote(control, options)
    zygote.choose_mode()
    zygote.send({"ready": os.getpid(), "namespaces": zygote.namespaces, "switch_user": zygote.switch_user,
                 "held": zygote.probe_held + (["orphans re-parented to the zygote"] if subreaper else []),
                 "problems": zygote.probe_problems, "cgroups": zygote.cgroups.describe(),
                 "seccomp": seccomp.available()})
    zygote.run()


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]))
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - reported in the zygote's log, as the interpreter would
        import traceback

        traceback.print_exc()
        status = 1
    else:
        status = 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # the cleanup is done: skip tearing torch down, most of a second under load
