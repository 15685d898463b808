"""The worker's system-call filter, built with libseccomp (the library behind systemd's, Docker's and
Chromium's filters) through ctypes.

A deny list, not an allow list: every call a gradient never needs fails with EPERM (mounting,
tracing, other processes' memory, namespaces, BPF, keyrings, modules, kexec, reboot, perf,
io_uring, userfaultfd, ...), new namespaces through clone flags, sockets other than Unix ones (the
network), leaving the worker's session or process group, and signals to any process but the worker
itself. An allow list would have to name every call torch's and NumPy's CPU kernels, OpenMP and the
allocator make, which changes from release to release: the first torch upgrade that used one more
call would kill correct solutions, and honest code must never lose points.

``install(pid)`` loads the filter into the calling process (inherited by every process it starts;
no process can remove it). It needs PR_SET_NO_NEW_PRIVS set first (see confinement.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE, SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ = 1, 4, 7


def SCMP_ACT_ERRNO(code: int) -> int:  # noqa: N802 - libseccomp's name
    return 0x00050000 | (code & 0xFFFF)


# Every call here fails with EPERM, whatever its arguments.
DENIED = (
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig",
    "fspick", "mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "setns", "unshare", "bpf", "keyctl", "add_key",
    "request_key", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "swapon", "swapoff",
    "acct", "quotactl", "quotactl_fd", "name_to_handle_at", "open_by_handle_at", "syslog", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm", "vhangup",
    "lookup_dcookie", "uselib", "fanotify_init", "setsid", "setpgid", "tkill", "setuid", "setgid", "setreuid",
    "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "capset", "personality",
)
# clone(2) with any of these flags (a new namespace) fails with EPERM; clone3, whose flags sit in
# memory where a filter cannot read them, answers ENOSYS, so that the C library falls back to clone.
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
                         0x00000080)
AF_UNIX = 1


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


@functools.lru_cache(maxsize=1)
def _library():
    """libseccomp, loaded once: the zygote loads it (available()) and every worker it forks has it,
    instead of each running `ldconfig -p` again (find_library) to find it."""
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def available() -> bool:
    return _library() is not None


class SeccompError(OSError):
    pass


def install(pid: int, extra_denied: tuple[str, ...] = ()) -> list[str]:
    """Load the filter into this process; `pid` is the process signals may still go to (itself).
    Returns the names of calls this kernel and libseccomp do not know (skipped). SeccompError when
    libseccomp is missing or the filter cannot be loaded."""
    lib = _library()
    if lib is None:
        raise SeccompError("libseccomp (Debian/Ubuntu package libseccomp2) was not found")
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise SeccompError("seccomp_init failed")
    unknown = []
    eperm = SCMP_ACT_ERRNO(errno.EPERM)

    def rule(action: int, name: str, *comparisons: tuple[int, int, int, int]) -> None:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            unknown.append(name)
            return
        array = (_ArgCmp * max(1, len(comparisons)))(*[_ArgCmp(*c) for c in comparisons])
        result = lib.seccomp_rule_add_array(ctx, action, number, len(comparisons), array)
        if result != 0:
            raise SeccompError(f"seccomp_rule_add({name}) failed: {-result}")

    try:
        for name in DENIED + tuple(extra_denied):
            rule(eperm, name)
        for flag in CLONE_NAMESPACE_FLAGS:
            rule(eperm, "clone", (0, SCMP_CMP_MASKED_EQ, flag, flag))
        rule(SCMP_ACT_ERRNO(errno.ENOSYS), "clone3")
        rule(eperm, "socket", (0, SCMP_CMP_NE, AF_UNIX, 0))
        for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
            rule(eperm, name, (0, SCMP_CMP_NE, pid, 0))
        result = lib.seccomp_load(ctx)
        if result != 0:
            raise SeccompError(f"seccomp_load failed: {-result}")
    finally:
        lib.seccomp_release(ctx)
    return unknown
