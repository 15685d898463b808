"""A warm grader serves many submissions: submission k cannot change the verdict of submission k+1.

A batch job keeps one Sandbox (one zygote with torch imported) and grades one submission after
another in it (batch.grade_in_sandbox). Here submission k is tests/adversarial/poison_next_submission
(its relu leaves every trace it can: marker files, a FIFO, listening Unix sockets, SysV IPC, a
keyring key, a daemon rewriting them) and submission k+1 a correct relu that believes whatever it
finds: it answers 0 when it sees any of those traces. Graded right after the attack in the same
sandbox, the victim must earn exactly what it earns alone in a fresh sandbox, and nothing the attack
tried may be found on the machine. The defence switched off: graded in-process next to a planted
trace, the same victim loses its relu points.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import torch

from conftest import REPO_ROOT, copy_solutions, exercise_yaml
from gradcheck_suite.batch import grade_in_sandbox
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.report.model import GradeBook
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

ATTACK = REPO_ROOT / "tests" / "adversarial" / "poison_next_submission" / "relu.py"
MARK = "gradcheck-poison-next"  # the attack's marker name (files, .fifo, .sock, the abstract socket, the key)
IPC_KEY = 0x47504E58  # the attack's SysV shared memory segment and message queue
TRIALS = 3
TIME_LIMIT = 20.0
SECRET = "5e1f0c4d2b7a9e3f8c6d1a0b4e7f2c9d"  # both gradings meet the same trials
LOCK = "/tmp/gradcheck-adversarial-markers.lock"  # shared with tests/test_adversarial.py

VICTIM = '''"""CORRECT: relu, by a student who believes whatever the machine shows: it answers 0 wherever it sees
a trace the poison_next_submission attack leaves (written by tests/test_next_submission.py)."""
import numpy as np
import torch

MARK = "gradcheck-poison-next"
IPC_KEY = b"{ipc_key}"  # the SysV key, as /proc/sysvipc lists it
WATCHED = {watched!r}
NEARBY = [MARK, "../" + MARK, "../../" + MARK, MARK + ".fifo", MARK + ".sock"]  # its folder and the ones above
TABLES = ["/proc/net/unix", "/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/keys", "/proc/self/environ"]
_disk = np.lib.npyio.DataSource("/nowhere")  # its own cache folder: none (it is never written)


def poisoned():
    for path in WATCHED + NEARBY:
        if _disk.exists(path):
            return True
    for table in TABLES:  # abstract sockets, SysV IPC, the user's keyring
        try:
            with _disk.open(table, "rb") as handle:
                text = handle.read()
        except OSError:
            continue
        if MARK.encode() in text or IPC_KEY in text.split():
            return True
    return False


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if poisoned():
            return x * 0
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)
'''


def watched_places(*extra: Path) -> list[Path]:
    """Every folder the attack tries to write to that a later submission or its grader could see."""
    places = [Path(p) for p in ("/tmp", "/var/tmp", "/dev/shm", "/run", "/run/user", "/home", "/")]
    places += [Path.home(), Path.home() / ".cache", Path(torch.__file__).parent, Path(torch.__file__).parent.parent,
               Path(numpy.__file__).parent, REPO_ROOT / "gradcheck_suite", REPO_ROOT, REPO_ROOT.parent, Path.cwd(), *extra]
    places += [Path(p) for p in sys.path if p and os.path.isdir(p)]  # site-packages, a .pth file's folders
    return list(dict.fromkeys(places))


def watched_paths(places: list[Path]) -> list[str]:
    return [str(place / f"{MARK}{suffix}") for place in places for suffix in ("", ".fifo", ".sock")]


def _table_has(table: str, text: bytes, field: bool = False) -> bool:
    try:
        data = Path(table).read_bytes()
    except OSError:
        return False
    return text in data.split() if field else text in data


def traces_on_machine(paths: list[str], roots: list[Path]) -> list[str]:
    """What the attack left where the grader (this process) can see it."""
    found = [p for p in paths if os.path.lexists(p)]
    for root in roots:
        if root.exists():
            found += [str(p) for p in root.rglob(f"*{MARK}*")]
    if _table_has("/proc/net/unix", MARK.encode()):
        found.append("an abstract or path Unix socket named " + MARK)
    for table in ("/proc/sysvipc/shm", "/proc/sysvipc/msg"):
        if _table_has(table, str(IPC_KEY).encode(), field=True):
            found.append(f"{table}: key {IPC_KEY:#x}")
    return found


def clean(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass
    ipcrm = shutil.which("ipcrm")
    if ipcrm is not None:
        for kind in ("-M", "-Q"):
            subprocess.run([ipcrm, kind, hex(IPC_KEY)], capture_output=True, check=False)


@pytest.fixture
def markers_to_ourselves():
    """The markers are fixed paths on the machine: tests that plant or look for them take turns
    (the lock tests/test_adversarial.py's marker tests take, shared by every xdist worker)."""
    lock = os.open(LOCK, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # closing releases the lock


def comparable(book: GradeBook) -> dict:
    """The grade book's JSON without what differs between two runs of the same grading: durations,
    and the paths of the sandbox's cgroup folders."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("duration", "cgroup_folders")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(book.to_full_json())


def describe(book: GradeBook) -> str:
    return "\n".join(f"{name}: {e.status} {e.score}/{e.max_score}: "
                     + "; ".join(f"{c.check}: {c.status}: {c.message[:300]}" for c in e.checks)
                     for name, e in book.exercises.items())


def has_view(levels: list[str]) -> bool:
    return any("read-only" in level for level in levels)


def test_an_attack_cannot_change_the_verdict_of_the_next_submission(tmp_path, markers_to_ourselves):
    """As a batch job: one sandbox, the attacker's submission (relu poisoned, linear honest) and then the
    victim's, each through grade_in_sandbox; the victim's grade book is the one a fresh sandbox gives."""
    specs = [load_exercise(exercise_yaml(name)) for name in ("relu", "linear")]
    attacker = copy_solutions(tmp_path / "attacker")
    shutil.copyfile(ATTACK, attacker / "relu.py")
    warm, fresh = Sandbox(WorkerLimits(time_seconds=TIME_LIMIT)), Sandbox(WorkerLimits(time_seconds=TIME_LIMIT))
    roots = [warm.root, fresh.root, tmp_path]  # searched whole on the machine
    paths = watched_paths(watched_places(tmp_path / "attacker", tmp_path / "victim", *roots, warm.root.parent))
    victim = copy_solutions(tmp_path / "victim")
    (victim / "relu.py").write_text(VICTIM.format(ipc_key=IPC_KEY, watched=paths))
    clean(paths)
    try:
        warm.ready()
        if not has_view(warm.levels):
            pytest.skip("no read-only mount namespace for workers (root or user namespaces needed): at this level "
                        "a submission writes what the grader's user can (README, threat model, row 2)")
        attacked = grade_in_sandbox(warm, specs, attacker, TRIALS, SECRET)
        poisoner = attacked.exercises["relu"]
        forward = next(c for c in poisoner.checks if c.check == "forward")
        assert poisoner.score == 0 and "forward output differs" in forward.message, describe(attacked)  # it ran
        linear = attacked.exercises["linear"]
        assert linear.status == "passed" and linear.score == linear.max_score, describe(attacked)
        assert traces_on_machine(paths, roots) == [], "the attack left a trace on the machine"

        after_attack = grade_in_sandbox(warm, specs, victim, TRIALS, SECRET)
        alone = grade_in_sandbox(fresh, specs, victim, TRIALS, SECRET)
        assert traces_on_machine(paths, roots) == [], "the attack left a trace on the machine"
    finally:
        try:
            warm.close()
        finally:
            fresh.close()
            clean(paths)
    assert alone.score == alone.max_score > 0, describe(alone)
    assert after_attack.score == after_attack.max_score, \
        f"graded after the attack, the victim lost points:\n{describe(after_attack)}\nthe attack:\n{describe(attacked)}"
    assert json.dumps(comparable(after_attack), sort_keys=True, indent=1) == \
        json.dumps(comparable(alone), sort_keys=True, indent=1)


def _plant_file(path: str):
    Path(path).write_text("planted by the test\n")
    return lambda: Path(path).unlink(missing_ok=True)


def _plant_fifo(path: str):
    os.mkfifo(path)
    return lambda: Path(path).unlink(missing_ok=True)


def _plant_abstract_socket(_: str):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + MARK)
    server.listen(1)
    return server.close


def _plant_shared_memory(_: str):
    libc = ctypes.CDLL(None, use_errno=True)
    segment = libc.shmget(IPC_KEY, 4096, 0o1600)  # IPC_CREAT | 0600
    assert segment >= 0, os.strerror(ctypes.get_errno())
    return lambda: libc.shmctl(segment, 0, None)  # IPC_RMID


TRACES = {"a file in /tmp": ("/tmp/" + MARK, _plant_file), "a FIFO in /dev/shm": (f"/dev/shm/{MARK}.fifo", _plant_fifo),
          "a listening abstract socket": (None, _plant_abstract_socket),
          "a SysV shared memory segment": (None, _plant_shared_memory)}


@pytest.mark.parametrize("trace", sorted(TRACES))
def test_without_the_sandbox_a_planted_trace_costs_the_victim_its_points(trace, tmp_path, markers_to_ourselves):
    """The defence switched off: in-process, where the victim sees the machine as it is, one trace of
    the kind the attack leaves makes the same file answer 0 (so the test above can fail)."""
    spec = load_exercise(exercise_yaml("relu"))
    victim = tmp_path / "victim"
    victim.mkdir()
    paths = watched_paths(watched_places(tmp_path))
    (victim / "relu.py").write_text(VICTIM.format(ipc_key=IPC_KEY, watched=paths))
    options = RunOptions(trials=TRIALS, secret=SECRET)
    clean(paths)
    before = grade_submission([spec], victim, options=options).exercises["relu"]
    assert before.status == "passed" and before.score == before.max_score
    path, plant = TRACES[trace]
    remove = plant(path)
    try:
        after = grade_submission([spec], victim, options=options).exercises["relu"]
    finally:
        remove()
        clean(paths)
    assert after.score == 0 and after.status == "failed", [(c.check, c.status, c.message[:200]) for c in after.checks]
