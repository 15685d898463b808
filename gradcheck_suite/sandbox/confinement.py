"""What happens between the zygote's fork and the student's first line: three processes per worker
(two as root).

    zygote (the grader's user; never runs student code)
      └─ keeper   joins the exercise's cgroups, starts a session, dies with the zygote
                  (PR_SET_PDEATHSIG), creates the worker's namespaces, waits, reports how the worker ended;
                  as root there is none: the zygote forks the init straight into a new PID namespace
                  (fork_as_init), and the init does this much itself (namespace_init)
           └─ init    PID 1 of a new PID namespace: builds the worker's view of the filesystem (a
                      private root: read-only binds of the Python installation, site-packages and this
                      package with the reference modules masked, /dev's harmless devices, its own
                      /proc, a size-limited tmpfs working directory holding only the student's file),
                      drops to the worker's user with no capabilities and no_new_privs, forks the
                      worker, reaps every process, and exits when the worker does: the kernel then kills
                      whatever is left in the namespace
                └─ worker   resource limits, then the seccomp filter (seccomp.py), then the student's code

Modes, chosen once per session by the zygote (whichever the machine allows, unless a ceiling is set):

- ``root``: the grader has CAP_SYS_ADMIN and CAP_SETUID: new PID, mount, network, IPC and UTS
  namespaces, and the worker runs as another user (``--isolate-user``, default nobody);
- ``userns``: the grader is not root but the kernel allows user namespaces: the same namespaces,
  owned by a user namespace where the worker is that user (uid 65534 inside), which outside is the
  grader's own uid;
- ``processes``: neither: no namespaces; the keeper is also the init; the worker runs in a fresh
  directory the grader made (``mkdtemp``), with the same limits, no_new_privs and seccomp filter,
  which also keeps it from leaving its session (setsid/setpgid) or signalling anything but itself.

Every step that held is named in ``held`` (see levels.py), which the worker reports to the grader.
"""

from __future__ import annotations

import ctypes
import errno
import io
import os
import resource
import select
import signal
import socket
import struct
import sys
from pathlib import Path

from . import seccomp

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 39, 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
DEVICES = ("null", "zero", "full", "random", "urandom")
WORKDIR = "/home/student"  # the working directory's path inside a worker's namespace
# the namespaces the init makes for itself once it is PID 1 of its own (all but the PID and user ones),
# and what a worker's levels say of the PID and network ones
OTHER_NAMESPACES = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
NAMESPACES_HELD = ["pid namespace", "network namespace (no network)"]
STATUS = struct.Struct("<ci")  # b"W" + the worker's wait status, b"I" + the init's, b"P" + the init's pid


class ConfinementError(OSError):
    pass


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return libc


_LIBC = None


def libc():
    global _LIBC
    if _LIBC is None:
        _LIBC = _libc()
    return _LIBC


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise ConfinementError(code, f"{what}: {os.strerror(code)}")


def prctl(option: int, value: int = 0) -> None:
    _check(libc().prctl(option, value, 0, 0, 0), f"prctl({option})")


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> None:
    """`sig` when the parent dies; if it already died, exit now."""
    prctl(PR_SET_PDEATHSIG, sig)
    if parent is not None and os.getppid() != parent:
        os._exit(71)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: None if s is None else os.fsencode(s))
    _check(libc().mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


# ----------------------------------------------------------------------------- the keeper

_OWN_PID_NAMESPACE: int | None = None  # the zygote's own PID namespace (an fd), to go back to after each unshare


def fork_as_init() -> int:
    """fork(), the child being the init (PID 1) of a new PID namespace: namespaces "plain" (root)
    needs no keeper to hold the namespace, one copy of the zygote's page tables fewer per worker
    (about 8 ms of kernel time each). unshare(CLONE_NEWPID) here places only the next child in the
    new namespace: the zygote's later children go to its own again (setns, in the parent), so
    that every worker gets a namespace of its own."""
    global _OWN_PID_NAMESPACE
    if _OWN_PID_NAMESPACE is None:
        _OWN_PID_NAMESPACE = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    _check(libc().unshare(CLONE_NEWPID), "unshare (PID namespace)")
    try:
        pid = os.fork()
    except BaseException:
        _back_to_own_pid_namespace()
        raise
    if pid == 0:
        close_own_pid_namespace()  # nothing in the worker's tree may hold the zygote's namespace
        return 0
    try:
        _back_to_own_pid_namespace()
    except ConfinementError:  # the child cannot be accounted for: it goes, and so does this mode
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    return pid


def close_own_pid_namespace() -> None:
    """In a keeper: forget the zygote's namespace fd (fork_as_init's, when a probe opened it)."""
    global _OWN_PID_NAMESPACE
    if _OWN_PID_NAMESPACE is not None:
        os.close(_OWN_PID_NAMESPACE)
        _OWN_PID_NAMESPACE = None


def _back_to_own_pid_namespace() -> None:
    assert _OWN_PID_NAMESPACE is not None
    _check(libc().setns(_OWN_PID_NAMESPACE, CLONE_NEWPID), "setns (the zygote's own PID namespace)")


def namespace_init(config: dict, fds: dict, status_fd: int, lifeline: int, probe: bool = False) -> None:
    """The zygote's child made by fork_as_init (never returns): what the keeper would do (the death
    signal, the cgroups, a session, the other namespaces), then the init's work. `lifeline`: a
    pidfd of the zygote, readable once it has exited (getppid() here says 0: the zygote is outside
    this PID namespace), checked after the death signal is set, as die_with_parent does."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    gone = select.select([lifeline], [], [], 0)[0]
    os.close(lifeline)
    if gone:
        os._exit(71)
    held = list(_join_cgroups(config.get("cgroups", [])))
    os.setsid()
    _check(libc().unshare(OTHER_NAMESPACES), "unshare")
    _init(config, fds, status_fd, held + NAMESPACES_HELD, namespaced=True, probe=probe)
    os._exit(72)


def keeper(config: dict, fds: dict, status_fd: int, zygote: int, probe: bool = False) -> None:
    """The zygote's child (never returns)."""
    die_with_parent(zygote)
    held = list(_join_cgroups(config.get("cgroups", [])))
    os.setsid()
    namespaces = config["namespaces"]
    if namespaces is None:
        _init(config, fds, status_fd, held, namespaced=False, probe=probe)
    user = config["user"]
    if namespaces == "userns":
        uid, gid = os.getuid(), os.getgid()
        _check(libc().unshare(CLONE_NEWUSER | CLONE_NEWPID | OTHER_NAMESPACES), "unshare (user namespace)")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{user['uid']} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{user['gid']} {gid} 1")
        held.append(f"user namespace (uid {user['uid']} inside, the grader's uid outside)")
    else:
        _check(libc().unshare(CLONE_NEWPID | OTHER_NAMESPACES), "unshare")
    child = os.fork()
    if child == 0:
        try:
            die_with_parent()
            _init(config, fds, status_fd, held + NAMESPACES_HELD, namespaced=True, probe=probe)
        finally:
            os._exit(72)
    os.write(status_fd, STATUS.pack(b"P", child))  # the init: killing it empties the namespace
    for fd in fds.values():
        os.close(fd)
    _, status = os.waitpid(child, 0)
    os.write(status_fd, STATUS.pack(b"I", status))
    os._exit(0)


def _join_cgroups(paths: list[str]):
    joined = []
    for path in paths:
        try:
            Path(path, "cgroup.procs").write_text("0")
            joined.append("v2" if "unified" in path or "cgroup2" in path else Path(path).parent.parent.name)
        except OSError:
            pass
    if joined:
        yield f"cgroups of its own ({len(joined)} hierarchies)"


# ----------------------------------------------------------------------------- the init

def _init(config: dict, fds: dict, status_fd: int, held: list[str], namespaced: bool, probe: bool) -> None:
    if namespaced:
        held += build_view(config, fds.get("file"))
    held += drop_privileges(config)
    child = os.fork()
    if child == 0:
        try:
            os.close(status_fd)
            _worker(config, fds, held, probe)
        finally:
            os._exit(73)
    for fd in fds.values():
        os.close(fd)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            status = 0
            break
        if pid == child:
            break
    os.write(status_fd, STATUS.pack(b"W", status))
    if not namespaced:  # the worker's session: everything it started (the filter keeps them in it)
        os.killpg(0, signal.SIGKILL)
    os._exit(0)


def _worker(config: dict, fds: dict, held: list[str], probe: bool) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(fds["stdout"], 1)
    os.dup2(fds["stderr"], 2)
    for fd in (devnull, fds["stdout"], fds["stderr"], *([fds["file"]] if "file" in fds else [])):
        os.close(fd)
    die_with_parent()
    prctl(PR_SET_DUMPABLE, 1)  # its own /proc/self, as any process has; the init stays undumpable
    held += apply_limits(config["limits"], config.get("device", "cpu"), config.get("cgroup_limits", []))
    workdir = config["workdir"]
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "OMP_NUM_THREADS": "1",
                       "LANG": "C.UTF-8"})
    sys.argv = [config["student_file"]]
    sys.dont_write_bytecode = True
    try:
        if not config.get("seccomp", True):
            raise OSError("switched off by the grader's environment")
        unknown = seccomp.install(os.getpid())
        held.append("seccomp filter" + (f" ({len(unknown)} calls unknown here)" if unknown else ""))
    except OSError as exc:
        print(f"gradcheck-suite: no seccomp filter: {exc}", file=sys.stderr)
    config["held"] = held
    if probe:
        sys.stdout.write("\n".join(held))
        sys.stdout.flush()
        os._exit(0)
    from . import worker  # already imported by the zygote

    assert isinstance(sys.stdout, io.TextIOWrapper) and isinstance(sys.stderr, io.TextIOWrapper)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    worker.serve(socket.socket(fileno=fds["channel"]), config)


# ----------------------------------------------------------------------------- the filesystem view

def build_view(config: dict, file_fd: int | None) -> list[str]:
    """A private root: read-only binds of what the worker needs, the masks over the reference
    modules, a fresh /proc for the PID namespace, and the tmpfs working directory; pivot_root into it."""
    view = config["view"]
    base = view["mount_base"]
    user = config["user"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,nr_inodes=16384,mode=0755")
    empty_file, empty_dir = os.path.join(base, ".empty"), os.path.join(base, ".empty.d")
    Path(empty_file).touch(0o444)
    os.mkdir(empty_dir, 0o555)
    for path in view["mounts"]:
        target = base + path
        if os.path.isdir(path):
            os.makedirs(target, 0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
            Path(target).touch()
        mount(path, target, None, MS_BIND | MS_REC)
    for path in config.get("masks", []):
        target = base + path
        if os.path.lexists(target):
            mount(empty_dir if os.path.isdir(target) else empty_file, target, None, MS_BIND)
    _read_only_below(base, keep=set())
    os.makedirs(base + "/dev", 0o755, exist_ok=True)
    for name in DEVICES + tuple(view.get("devices", ())):
        if os.path.exists(f"/dev/{name}"):
            Path(base, "dev", name).touch()
            mount(f"/dev/{name}", f"{base}/dev/{name}", None, MS_BIND)
    for link, target in view["links"].items():
        try:
            os.makedirs(os.path.dirname(base + link), 0o755, exist_ok=True)
            os.symlink(target, base + link)
        except OSError:
            pass
    held = ["mount namespace (read-only view: only the Python installation, site-packages and the grader's "
            "worker modules; references masked)"]
    os.makedirs(base + "/proc", 0o555, exist_ok=True)
    try:
        mount("proc", base + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        held.append("own /proc")
    except OSError:
        pass  # a container whose /proc is partly masked: the worker goes without one
    workdir = base + WORKDIR
    os.makedirs(workdir, 0o755, exist_ok=True)
    size = int(config["limits"]["output_bytes"]) + int(config.get("student_file_bytes", 0)) + 65536
    mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          f"size={size},nr_inodes=1024,mode=0700,uid={user['uid']},gid={user['gid']}")
    if file_fd is not None:
        target = os.path.join(workdir, config["student_file"])
        with open(target, "wb") as handle:
            while chunk := os.read(file_fd, 1 << 16):
                handle.write(chunk)
        os.chown(target, user["uid"], user["gid"])
    held.append(f"private tmpfs working directory ({size >> 10} KiB in all)")
    os.chdir(base)
    os.mkdir(".old")
    _check(libc().syscall(155 if _x86_64() else 41, b".", b".old"), "pivot_root")
    os.chdir("/")
    _check(libc().umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    config["workdir"] = WORKDIR
    return held


def _x86_64() -> bool:
    return os.uname().machine in ("x86_64", "amd64")


def _read_only_below(base: str, keep: set[str]) -> None:
    """Remount every mount under `base` read-only, keeping the flags a user namespace locks."""
    for point, options in _mounts():
        if not point.startswith(base + "/") or point in keep:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        flags |= MS_NOEXEC if "noexec" in options else 0
        flags |= MS_NOATIME if "noatime" in options else 0
        flags |= MS_NODIRATIME if "nodiratime" in options else 0
        flags |= MS_RELATIME if "relatime" in options else 0
        mount(None, point, None, flags)


def _mounts() -> list[tuple[str, set[str]]]:
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")
        mounts.append((point, set(fields[5].split(","))))
    return mounts


# ----------------------------------------------------------------------------- privileges and limits

class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _capabilities() -> tuple[int, int]:
    """(effective, bounding) capability masks of this process."""
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(libc().capget(ctypes.byref(header), data), "capget")
    effective = data[0].effective | (data[1].effective << 32)
    bounding = 0
    for cap in range(64):
        result = libc().prctl(23, cap, 0, 0, 0)  # PR_CAPBSET_READ
        if result < 0:
            break
        bounding |= result << cap
    return effective, bounding


def drop_privileges(config: dict) -> list[str]:
    """The worker's user (where the mode changes users), no capabilities in any set, the bounding
    set emptied, no_new_privs. Raises when a step that must hold does not."""
    held = []
    for cap in range(64):
        if libc().prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    user = config["user"]
    if config.get("switch_user"):
        os.setgroups([])
        os.setresgid(user["gid"], user["gid"], user["gid"])
        os.setresuid(user["uid"], user["uid"], user["uid"])
        held.append(f"user {user['name']}")
    libc().prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(libc().capset(ctypes.byref(header), data), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    effective, bounding = _capabilities()
    if effective:
        raise ConfinementError(errno.EPERM, f"capabilities left after dropping them: {effective:#x}")
    held.append("no capabilities" + (" (bounding set empty)" if not bounding else ""))
    if libc().prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1:
        held.append("no_new_privs")
    return held


def apply_limits(limits: dict, device: str, cgroup_limits: list[str]) -> list[str]:
    """Per-process resource limits; the address space and process count only where no cgroup
    bounds the whole process tree."""
    held = []
    _limit(resource.RLIMIT_CPU, int(limits["cpu_seconds"]), int(limits["cpu_seconds"]) + 1)
    _limit(resource.RLIMIT_FSIZE, int(limits["output_bytes"]))
    _limit(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _limit(resource.RLIMIT_CORE, 0)
    if "pids" not in cgroup_limits:
        _limit(resource.RLIMIT_NPROC, int(limits["processes"]))
        held.append(f"RLIMIT_NPROC {limits['processes']}")
    if "memory" not in cgroup_limits and limits.get("memory_bytes") and device == "cpu":
        # CUDA maps far more address space than it uses: no address-space limit on a GPU
        _limit(resource.RLIMIT_AS, _address_space_in_use() + int(limits["memory_bytes"]))
        held.append("RLIMIT_AS per process")
    return held


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
