"""Making sure every process a student's code started is gone: cgroups, process groups, orphans.

Run by the zygote, which forks every worker and is their "child subreaper": a process that
escapes its worker's session (``setsid`` and a double fork) is re-parented to the zygote rather
than to init, so it can still be found. Per worker, where the machine allows it, a cgroup v2
directory (``cgroup.kill`` ends every process in it at once) and a pids cgroup (v2 controller or
v1 hierarchy) that bounds how many processes a fork bomb reaches.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass
class CgroupRoots:
    """Where this process may make per-worker cgroups (None where it may not)."""

    v2: Path | None = None
    pids: Path | None = None  # a v1 pids hierarchy, when the v2 tree has no pids controller
    counter: int = 0
    made: list[Path] = field(default_factory=list)

    @classmethod
    def discover(cls) -> "CgroupRoots":
        roots = cls()
        try:
            mounts = Path("/proc/self/mounts").read_text().splitlines()
            memberships = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return roots
        own = {}
        for line in memberships:
            number, controllers, path = line.split(":", 2)
            own[controllers] = path
        for line in mounts:
            _, point, fstype, options = line.split()[:4]
            if fstype == "cgroup2" and roots.v2 is None and "" in own:
                roots.v2 = _writable(Path(point) / own[""].lstrip("/"))
            elif fstype == "cgroup" and "pids" in options.split(",") and roots.pids is None:
                pids_path = next((p for c, p in own.items() if "pids" in c.split(",")), None)
                if pids_path is not None:
                    roots.pids = _writable(Path(point) / pids_path.lstrip("/"))
        return roots

    def make(self, name: str, max_processes: int) -> list[Path]:
        """Fresh cgroups for one worker; it joins them itself before running student code."""
        self.counter += 1
        made = []
        for root in (self.v2, self.pids):
            if root is None:
                continue
            path = root / f"gradcheck-{os.getpid()}-{self.counter}-{name}"
            try:
                path.mkdir()
            except OSError:
                continue
            limit = path / "pids.max"
            if limit.exists():
                try:
                    limit.write_text(str(max_processes))
                except OSError:
                    pass
            made.append(path)
        return made

    def levels(self) -> list[str]:
        levels = []
        if self.v2 is not None:
            levels.append("cgroup v2 (kill every process at once)")
        if self.pids is not None or (self.v2 is not None and (self.v2 / "pids.max").exists()):
            levels.append("pids cgroup (bounds a fork bomb)")
        return levels


def _writable(path: Path) -> Path | None:
    probe = path / f"gradcheck-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
        return path
    except OSError:
        return None


def _process_table() -> dict[int, int]:
    """pid -> parent pid for every process this one can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        table[int(entry)] = int(fields[1])
    return table


def _descendants(roots: set[int], table: dict[int, int]) -> set[int]:
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, parent in table.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return found & set(table)


def _signal_all(pids, sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tree(worker_pid: int, cgroups: list[Path], live_workers: set[int]) -> dict[int, int]:
    """Kill the worker and everything it started: by cgroup, by process group, and by walking the
    process tree (the worker's descendants and orphans re-parented to this process); then wait
    until none is left and remove the cgroups. Returns the wait statuses of the children reaped."""
    statuses: dict[int, int] = {}
    for path in cgroups:
        kill_file = path / "cgroup.kill"
        if kill_file.exists():
            try:
                kill_file.write_text("1")
            except OSError:
                pass
    try:
        os.killpg(worker_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    me = os.getpid()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        table = _process_table()
        orphans = {pid for pid, parent in table.items() if parent == me and pid not in live_workers}
        doomed = _descendants({worker_pid} | orphans, table)
        for path in cgroups:
            doomed |= _cgroup_members(path)
        doomed.discard(me)
        if not doomed:
            break
        _signal_all(doomed, signal.SIGSTOP)  # stopped processes cannot fork while we collect them
        _signal_all(doomed, signal.SIGKILL)
        statuses.update(reap())
        time.sleep(0.01)
    for path in cgroups:
        for _ in range(200):
            try:
                path.rmdir()
                break
            except OSError:
                time.sleep(0.01)
    statuses.update(reap())
    return statuses


def _cgroup_members(path: Path) -> set[int]:
    try:
        return {int(p) for p in (path / "cgroup.procs").read_text().split()}
    except (OSError, ValueError):
        return set()


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


def describe_status(status: int | None, limits: dict) -> str:
    """Why a worker ended, in words."""
    if status is None:
        return "the worker process ended"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        reasons: dict[int, str] = {
            signal.SIGXCPU: f"it used more than its CPU time limit of {limits.get('cpu_seconds')} s",
            signal.SIGXFSZ: f"it wrote more than {int(limits.get('output_bytes', 0)) // 1024} KiB of output",
            signal.SIGSEGV: "a segmentation fault",
            signal.SIGKILL: "it was killed (out of memory, or by a limit)",
            signal.SIGABRT: "it aborted",
            signal.SIGBUS: "a bus error",
        }
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"killed by {name}: {reasons.get(sig, 'a signal')}"
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        return f"the process exited with code {code} (sys.exit or os._exit called from the student's code?)"
    return "the worker process ended"
