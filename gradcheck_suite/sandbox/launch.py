"""Starting a session's zygote, without torch.

The zygote imports torch once per session (seconds). This module imports nothing heavy, so that a
grader can start the zygote before it imports torch itself (`start_early`): both imports then run
at once, on two cores, and the Sandbox made later adopts the zygote already on its way.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import IsolationUnavailable

ZYGOTE = Path(__file__).with_name("zygote.py")
DEFAULT_USER = "nobody"  # the workers' user when the grader is root (uid 65534 where no such user exists)
# Set to 1 in the grader's environment, the workers go without the seccomp filter: a machine without
# libseccomp, for the tests that show what the filter stops (the threat table's `processes` row).
# What held is reported as always, so --require-isolation above `processes` refuses such a run.
WITHOUT_FILTER = "GRADCHECK_SUITE_WITHOUT_SECCOMP_FILTER"


@dataclass
class Launched:
    """A zygote on its way: its process, the grader's end of its control socket, its mount base."""

    root: Path
    process: subprocess.Popen
    control: socket.socket
    key: tuple[str, str]  # (user, ceiling): what a Sandbox must ask for to adopt it


_EARLY: list[Launched] = []


def scrubbed_environment() -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
            if k in os.environ}
    # one thread for every math library: numpy's OpenBLAS otherwise starts a pool in each worker
    # whose threads spin after every call, on the cores the grader and the next worker need
    return {**keep, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0"}


def resolve_user(name: str | None) -> dict:
    """uid and gid of `name` (a user name or a number; None: the default, which may be missing:
    uid 65534)."""
    import pwd  # POSIX only; the package itself imports on any platform

    explicit, name = name is not None, name or DEFAULT_USER
    if name.isdigit():
        uid = int(name)
        try:
            entry = pwd.getpwuid(uid)
            return {"name": entry.pw_name, "uid": uid, "gid": entry.pw_gid}
        except KeyError:
            return {"name": name, "uid": uid, "gid": uid}
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if explicit:
            raise IsolationUnavailable(f"no user named {name!r} on this machine") from None
        return {"name": "uid 65534", "uid": 65534, "gid": 65534}
    if entry.pw_uid == 0:
        raise IsolationUnavailable(f"--isolate-user {name}: the workers' user must not be root")
    return {"name": name, "uid": entry.pw_uid, "gid": entry.pw_gid}


def new_root() -> Path:
    """The session's folder: the zygote's log, the workers' mount points and working directories."""
    root = Path(tempfile.mkdtemp(prefix="gradcheck-sandbox-"))
    os.chmod(root, 0o711)
    return root


def launch(root: Path, user: dict, ceiling: str) -> tuple[subprocess.Popen, socket.socket]:
    """The zygote started (not yet ready), and the grader's end of its control socket."""
    options = {"grader": os.getpid(), "user": user, "ceiling": ceiling, "mount_base": str(root),
               "seccomp": os.environ.get(WITHOUT_FILTER) != "1"}
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    log = open(root / "zygote.log", "wb")
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", str(ZYGOTE), str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), env=scrubbed_environment(), stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, start_new_session=True, cwd="/")
    finally:
        theirs.close()
        log.close()
    ours.send(json.dumps(options).encode())  # not on the command line, which every process may read
    return process, ours


def _key(user: dict, ceiling: str) -> tuple[str, str]:
    return json.dumps(user, sort_keys=True), ceiling


def start_early(user: str | None, ceiling: str | None) -> None:
    """Start the zygote a Sandbox(user=user, ceiling=ceiling) made later in this process will
    adopt. Quietly nothing where it cannot start: the Sandbox then says why."""
    if not sys.platform.startswith("linux"):
        return
    try:
        resolved = resolve_user(user)
    except IsolationUnavailable:
        return
    root = new_root()
    process, control = launch(root, resolved, ceiling or "full")
    _EARLY.append(Launched(root, process, control, _key(resolved, ceiling or "full")))


def adopt(user: dict, ceiling: str) -> Launched | None:
    """The zygote start_early started for this user and ceiling, if it is still alive."""
    for index, early in enumerate(_EARLY):
        if early.key == _key(user, ceiling) and early.process.poll() is None:
            return _EARLY.pop(index)
    return None


@atexit.register
def _stop_unadopted() -> None:
    """A zygote started early that no Sandbox adopted (the run stopped before grading) ends with
    its control socket closed; its folder goes with it."""
    while _EARLY:
        early = _EARLY.pop()
        early.control.close()
        try:
            early.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            early.process.kill()
        shutil.rmtree(early.root, ignore_errors=True)
