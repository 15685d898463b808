"""Making sure every process a student's code started is gone: cgroups, namespaces, sessions.

One cgroup per submission (a grading session: ``gradcheck-<random>``) in every hierarchy this
process may write to, and under it one per worker (``w<n>-<random>``), which the worker's keeper
joins before anything else, so that every process the student's code starts is in it:

- cgroup v1 ``memory`` (``memory.limit_in_bytes``), ``pids`` (``pids.max``) and ``cpuacct`` (the
  CPU time of the whole tree, which the zygote watches), where writable (this project's machines
  have memory and pids only in v1);
- cgroup v2 where writable: ``cgroup.kill`` ends every process at once, and ``memory.max`` /
  ``pids.max`` where those controllers can be enabled below this process's own cgroup.

Killing a worker kills its keeper (whose death takes the init, and with it the PID namespace,
down), every process in its cgroups, and its session (for the mode without namespaces); then waits
until the cgroups are empty and removes them. The zygote is also a child subreaper: an orphan is
re-parented to it and found.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
V1_CONTROLLERS = ("memory", "pids", "cpuacct")


def become_subreaper() -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass
class WorkerCgroups:
    paths: list[Path] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)  # "memory", "pids": what bounds the whole tree
    memory: Path | None = None  # where to read how much memory it used, and whether it hit the limit
    cpu: Path | None = None  # where to read the tree's CPU time
    cpu_kind: str = ""  # "v1" (cpuacct.usage, ns) or "v2" (cpu.stat usage_usec)

    def cpu_seconds(self) -> float | None:
        if self.cpu is None:
            return None
        try:
            if self.cpu_kind == "v1":
                return int((self.cpu / "cpuacct.usage").read_text()) / 1e9
            if self.cpu_kind == "v2":
                for line in (self.cpu / "cpu.stat").read_text().splitlines():
                    if line.startswith("usage_usec"):
                        return int(line.split()[1]) / 1e6
        except (OSError, ValueError, TypeError):
            return None
        return None

    def out_of_memory(self) -> bool:
        if self.memory is None:
            return False
        for name, key in (("memory.oom_control", "oom_kill"), ("memory.events", "oom_kill")):
            try:
                for line in (self.memory / name).read_text().splitlines():
                    parts = line.split()
                    if parts[:1] == [key] and int(parts[1]) > 0:
                        return True
            except (OSError, ValueError, IndexError):
                continue
        return False


@dataclass
class Cgroups:
    """The submission's cgroups, in every hierarchy this process may write to."""

    v1: dict[str, Path] = field(default_factory=dict)  # controller -> the submission's folder
    v2: Path | None = None
    v2_controllers: set[str] = field(default_factory=set)
    roots: dict[str, Path] = field(default_factory=dict)  # where the submission folders are made
    counter: int = 0

    @classmethod
    def discover(cls, enabled: bool = True) -> "Cgroups":
        groups = cls()
        if not enabled:
            return groups
        try:
            mounts = Path("/proc/self/mounts").read_text().splitlines()
            memberships = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return groups
        own = {}
        for line in memberships:
            _, controllers, path = line.split(":", 2)
            own[controllers] = path
        for line in mounts:
            _, point, fstype, options = line.split()[:4]
            if fstype == "cgroup2" and "v2" not in groups.roots and "" in own:
                root = _writable(Path(point) / own[""].lstrip("/"))
                if root is not None:
                    groups.roots["v2"] = root
            elif fstype == "cgroup":
                for controller in V1_CONTROLLERS:
                    if controller in options.split(",") and controller not in groups.roots:
                        owned = next((p for c, p in own.items() if controller in c.split(",")), None)
                        root = _writable(Path(point) / owned.lstrip("/")) if owned is not None else None
                        if root is not None:
                            groups.roots[controller] = root
        for root in groups.roots.values():
            _remove_stale(root)
        groups.new_submission()
        return groups

    def new_submission(self) -> None:
        """Fresh submission folders (the old ones must have been removed)."""
        token = f"gradcheck-{os.getpid()}-{secrets.token_hex(6)}"
        self.v1, self.v2, self.v2_controllers = {}, None, set()
        for key, root in self.roots.items():
            path = root / token
            try:
                path.mkdir(mode=0o755)
            except OSError:
                continue
            if key == "v2":
                self.v2 = path
                self.v2_controllers = _enable_v2_controllers(root, path)
            else:
                self.v1[key] = path

    def folders(self) -> list[Path]:
        return list(self.v1.values()) + ([self.v2] if self.v2 is not None else [])

    def describe(self) -> dict:
        """What bounds a worker's whole process tree, for the report."""
        memory = ("cgroup v2 memory.max" if "memory" in self.v2_controllers
                  else "cgroup v1 memory.limit_in_bytes" if "memory" in self.v1 else None)
        pids = ("cgroup v2 pids.max" if "pids" in self.v2_controllers
                else "cgroup v1 pids.max" if "pids" in self.v1 else None)
        cpu = "cgroup v1 cpuacct" if "cpuacct" in self.v1 else "cgroup v2 cpu.stat" if self.v2 else None
        return {"memory": memory, "pids": pids, "cpu": cpu, "kill": "cgroup v2 cgroup.kill" if self.v2 else None,
                "folders": [str(p) for p in self.folders()]}

    def make_worker(self, memory_bytes: int, processes: int) -> WorkerCgroups:
        self.counter += 1
        name = f"w{self.counter}-{secrets.token_hex(6)}"
        made = WorkerCgroups()
        for key, parent in list(self.v1.items()) + ([("v2", self.v2)] if self.v2 is not None else []):
            path = parent / name
            try:
                path.mkdir(mode=0o755)
            except OSError:
                continue
            made.paths.append(path)
            if key == "memory" and memory_bytes and _write(path / "memory.limit_in_bytes", memory_bytes):
                _write(path / "memory.memsw.limit_in_bytes", memory_bytes)  # no swapping around the limit
                made.limits.append("memory")
                made.memory = path
            elif key == "pids" and _write(path / "pids.max", processes):
                made.limits.append("pids")
            elif key == "cpuacct":
                made.cpu, made.cpu_kind = path, "v1"
            elif key == "v2":
                if "memory" in self.v2_controllers and memory_bytes and _write(path / "memory.max", memory_bytes):
                    _write(path / "memory.swap.max", 0)
                    made.limits.append("memory")
                    made.memory = path
                if "pids" in self.v2_controllers and _write(path / "pids.max", processes):
                    made.limits.append("pids")
                if made.cpu is None:
                    made.cpu, made.cpu_kind = path, "v2"
        made.limits = sorted(set(made.limits))
        return made

    def remove_all(self) -> list[int]:
        """Kill what is left in the submission's folders, remove them; the pids that would not die."""
        left = kill_cgroups(self.folders(), recursive=True)
        for folder in self.folders():
            remove_tree(folder)
        return left


def _remove_stale(root: Path) -> None:
    """Submission folders whose zygote is dead (it was SIGKILLed and could not clean up): whatever
    is left in them is killed, and they are removed."""
    for folder in root.glob("gradcheck-*"):
        parts = folder.name.split("-")
        if len(parts) != 3 or not parts[1].isdigit() or not folder.is_dir():
            continue
        if Path("/proc", parts[1]).exists():
            continue
        kill_cgroups([folder], recursive=True, seconds=1.0)
        remove_tree(folder)


def _enable_v2_controllers(root: Path, folder: Path) -> set[str]:
    """memory and pids for the workers below `folder`, where the cgroup v2 tree lets them be enabled
    (a cgroup with processes in it cannot hand controllers down: often only a delegated subtree can)."""
    try:
        available = set((root / "cgroup.controllers").read_text().split())
    except OSError:
        return set()
    wanted = available & {"memory", "pids"}
    if not wanted:
        return set()
    _write(root / "cgroup.subtree_control", " ".join(f"+{c}" for c in sorted(wanted)))
    enabled = set()
    for controller in sorted(wanted):
        if _write(folder / "cgroup.subtree_control", f"+{controller}"):
            enabled.add(controller)
    return enabled


def _write(path: Path, value) -> bool:
    try:
        path.write_text(str(value))
        return True
    except OSError:
        return False


def _writable(path: Path) -> Path | None:
    probe = path / f"gradcheck-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        probe.mkdir()
        probe.rmdir()
        return path
    except OSError:
        return None


def cgroup_members(path: Path, recursive: bool = False) -> set[int]:
    found = set()
    folders = [path] + ([p for p in path.rglob("*") if p.is_dir()] if recursive else [])
    for folder in folders:
        try:
            found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
        except (OSError, ValueError):
            pass
    return found


def kill_cgroups(paths: list[Path], recursive: bool = False, seconds: float = 5.0) -> list[int]:
    """SIGKILL every process in the cgroups until none is left; the pids still there at the deadline."""
    for path in paths:
        _write(path / "cgroup.kill", 1)
    deadline = time.monotonic() + seconds
    while True:
        members = set()
        for path in paths:
            members |= cgroup_members(path, recursive)
        members.discard(os.getpid())
        if not members or time.monotonic() > deadline:
            return sorted(members)
        _signal_all(members, signal.SIGKILL)
        reap()
        time.sleep(0.005)


def remove_tree(path: Path) -> None:
    """rmdir a cgroup folder and its children, deepest first, retrying while the kernel lets go."""
    if not path.exists():
        return
    folders = sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
    for folder in folders + [path]:
        for attempt in range(400):
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.001 if attempt < 100 else 0.01)


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) for every process this one can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), int(fields[3]))
    return table


def _descendants(roots: set[int], table: dict[int, tuple[int, int]]) -> set[int]:
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, (parent, _) in table.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return found & set(table)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _signal_all(pids, sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def sessions_members(sessions: set[int]) -> set[int]:
    """Processes in any of these sessions (a worker's keeper leads its session; without namespaces
    the seccomp filter keeps the student's processes in it)."""
    return {pid for pid, (_, sid) in process_table().items() if sid in sessions} - {os.getpid()}


def kill_tree(keeper: int, cgroups: WorkerCgroups, live_workers: set[int], namespaced: bool = False,
              init: int | None = None) -> dict[int, int]:
    """Kill a worker and everything it started: its keeper (the namespace goes with the init), its
    cgroups, its session and its descendants (also orphans re-parented to this process); wait
    until none is left and remove its cgroups. Returns the wait statuses of the children reaped.

    With a PID namespace or cgroups, what is left is known without reading every process's
    /proc entry (no process leaves either); otherwise the process table is walked. With the
    namespace's `init`, that is killed first: the kernel kills every process in the namespace and
    the init's exit waits for them, so once the keeper has reaped it the namespace is empty."""
    statuses: dict[int, int] = {}
    for path in cgroups.paths:
        _write(path / "cgroup.kill", 1)
    if init is not None:
        _signal_all([init], signal.SIGKILL)
        waited = time.monotonic() + 5.0
        while time.monotonic() < waited:
            statuses.update(reap())
            if keeper in statuses or not _exists(keeper):
                break
            time.sleep(0.001)
    _signal_all([keeper], signal.SIGKILL)
    try:
        os.killpg(keeper, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    me = os.getpid()
    contained = namespaced or bool(cgroups.paths)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        statuses.update(reap())
        doomed = {keeper} if keeper not in statuses and _exists(keeper) else set()
        for path in cgroups.paths:
            doomed |= cgroup_members(path)
        if not contained:
            table = process_table()
            orphans = {pid for pid, (parent, _) in table.items() if parent == me and pid not in live_workers}
            doomed |= _descendants({keeper} | orphans, table) | {p for p, (_, sid) in table.items() if sid == keeper}
        doomed.discard(me)
        doomed -= set(statuses)
        if not doomed:
            break
        _signal_all(doomed, signal.SIGKILL)
        time.sleep(0.001)
    for path in cgroups.paths:
        remove_tree(path)
    statuses.update(reap())
    return statuses


def reap() -> dict[int, int]:
    """Collect every exited child without blocking: pid -> wait status."""
    statuses = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        statuses[pid] = status
    return statuses


def describe_status(status: int | None, limits: dict, reason: str | None = None) -> str:
    """Why a worker ended, in words; `reason` is what the zygote saw ("memory", "cpu")."""
    if reason == "memory":
        return (f"it used more than its memory limit of {int(limits.get('memory_bytes', 0)) >> 20} MiB "
                "(every process it started counts)")
    if reason == "cpu":
        return (f"it used more than its CPU time limit of {limits.get('cpu_seconds')} s "
                "(every process it started counts)")
    if status is None:
        return "the worker process ended"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        reasons = {
            signal.SIGXCPU: f"it used more than its CPU time limit of {limits.get('cpu_seconds')} s",
            signal.SIGXFSZ: f"it wrote more than {int(limits.get('output_bytes', 0)) // 1024} KiB of output",
            signal.SIGSEGV: "a segmentation fault",
            signal.SIGKILL: "it was killed (out of memory, or by a limit)",
            signal.SIGABRT: "it aborted",
            signal.SIGBUS: "a bus error",
            signal.SIGSYS: "a forbidden system call",
        }
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"killed by {name}: {reasons.get(signal.Signals(sig), 'a signal') if name != str(sig) else 'a signal'}"
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        return f"the process exited with code {code} (sys.exit or os._exit called from the student's code?)"
    return "the worker process ended"
