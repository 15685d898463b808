"""What a worker does to itself, right after it is forked and before any student code runs.

Levels, each applied where the machine allows it (``describe_levels`` reports which held):

- always: its own session and process group, resource limits (CPU time, address space for CPU
  runs, file size, open files, processes, no core files), a scrubbed environment, a working
  directory holding only the student's file;
- cgroups (the grader made them; see processes.py): the worker joins them, so every process it
  starts can be killed at once and counted against a pids limit;
- a private mount and network namespace (root with CAP_SYS_ADMIN on Linux): every mount is
  read-only except the working directory, and there is no network;
- another user (``--isolate-user``, root only): the student's code cannot touch the grader's
  files or processes at all.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18


def confine(config: dict) -> list[str]:
    """Apply every level the config asks for; returns the levels that held."""
    held = []
    os.setsid()
    held.append("own session")
    if _join_cgroups(config.get("cgroups", [])):
        held.append("cgroup")
    workdir = config["workdir"]
    if config.get("namespaces") and _private_namespaces(workdir):
        held.append("read-only filesystem, no network")
    _apply_limits(config["limits"], config.get("device", "cpu"))
    held.append("resource limits")
    os.chdir(workdir)
    user = config.get("user")
    if user is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(int(user["gid"]))
        os.setuid(int(user["uid"]))
        held.append(f"user {user['name']}")
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": workdir, "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"})
    sys.argv = [config["student_file"]]
    config["held"] = held
    return held


def _join_cgroups(paths: list[str]) -> bool:
    joined = False
    for path in paths:
        try:
            Path(path, "cgroup.procs").write_text("0")
            joined = True
        except OSError:
            pass
    return joined


def _apply_limits(limits: dict, device: str) -> None:
    _limit(resource.RLIMIT_CPU, int(limits["cpu_seconds"]), int(limits["cpu_seconds"]) + 1)
    _limit(resource.RLIMIT_FSIZE, int(limits["output_bytes"]))
    _limit(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _limit(resource.RLIMIT_NPROC, int(limits["processes"]))
    _limit(resource.RLIMIT_CORE, 0)
    if limits.get("memory_bytes") and device == "cpu":  # CUDA maps far more address space than it uses
        _limit(resource.RLIMIT_AS, _address_space_in_use() + int(limits["memory_bytes"]))


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    _, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def _address_space_in_use() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _private_namespaces(workdir: str) -> bool:
    """A mount namespace where everything but `workdir` is read-only, and an empty network
    namespace. False (nothing changed) where the process lacks the privilege."""
    if not sys.platform.startswith("linux"):
        return False
    libc = _libc()
    if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
        return False
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    target = os.fsencode(workdir)
    if libc.mount(target, target, None, MS_BIND, None) != 0:
        return False
    for mount_point, flags in _mounts():
        if mount_point == workdir:
            continue
        libc.mount(None, os.fsencode(mount_point), None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, None)
    probe = Path(workdir).parent / ".write-probe"
    try:
        probe.write_text("")
    except OSError:
        return True  # outside the working directory nothing can be written
    probe.unlink()
    return False


def _mounts() -> list[tuple[str, int]]:
    """(mount point, the flags a remount must keep) for every mount, deepest last."""
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")
        options = set(fields[5].split(","))
        flags = ((MS_NOSUID if "nosuid" in options else 0) | (MS_NODEV if "nodev" in options else 0)
                 | (MS_NOEXEC if "noexec" in options else 0))
        mounts.append((point, flags))
    return mounts
