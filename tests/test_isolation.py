"""Autograder mode: the same verdicts as in-process, the wire format, and the worker's life."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import (
    REPO_ROOT,
    SOLUTIONS,
    VARIANTS,
    course_points,
    example_replay_command,
    exercise_yaml,
    source_submission,
    submit,
)
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission, prepare, run_check
from gradcheck_suite.sandbox import wire
from gradcheck_suite.sandbox.staging import Submission
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

OPTIONS = RunOptions(replay_command=example_replay_command)
# Both modes run the same trials; a few per check keep this comparison quick.
COMPARED = RunOptions(replay_command=example_replay_command, trials=4)


def _representatives() -> list[Path]:
    """Every solution (a passing verdict), per exercise its first bug (a failing one, with its
    message), and every correct variant written with an honest student's habits (tests/variants/
    */correct_habit_*.py: CS231n's template, in-place dout, a self-test under __main__...): isolation
    does not depend on an exercise's math, and grading every variant twice would cost minutes."""
    files = sorted(SOLUTIONS.glob("*/*.py"))
    for folder in sorted(p for p in VARIANTS.iterdir() if p.is_dir()):
        files += sorted(folder.glob("bug_*.py"))[:1] + sorted(folder.glob("correct_habit_*.py"))
    return files


GRADED_FILES = _representatives()


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(WorkerLimits(time_seconds=30))
    yield box
    box.close()


def _grade(spec, submission, sandbox=None):
    staged = Submission.collect({spec.student_file: submission / spec.student_file}) if sandbox else None
    exercise = prepare(spec, submission, sandbox, staged)
    try:
        return {check: run_check(exercise, check, COMPARED) for check in spec.checks}
    finally:
        exercise.close()


def _exercise_of(path: Path) -> str:
    return path.parent.name


@pytest.mark.parametrize("path", GRADED_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_isolated_verdicts_equal_in_process_verdicts(path, sandbox, tmp_path):
    spec = load_exercise(exercise_yaml(_exercise_of(path)))
    submission = tmp_path / "submission"
    submit(path, spec, submission)
    local = _grade(spec, submission)
    isolated = _grade(spec, submission, sandbox)
    for check in spec.checks:
        # A randomized forward draws its own mask in each process: the counts in a message's later
        # lines differ from draw to draw, its first line (what failed, for which trial) does not.
        message = (lambda r: r.message.splitlines()[:1]) if spec.random is not None else (lambda r: r.message)
        assert (isolated[check].status, message(isolated[check]), isolated[check].trial) == \
               (local[check].status, message(local[check]), local[check].trial), check
    if path.stem.startswith("correct_habit_"):
        assert {check: r.status for check, r in isolated.items()} == dict.fromkeys(spec.checks, "passed")


# ----------------------------------------------------------------------------- the wire format

def _pair():
    ours, theirs = socket.socketpair()
    return ours, theirs, wire.Reader(theirs.fileno(), max_bytes=1 << 16)


def _frame(header: dict | bytes, payload: bytes = b"") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return wire.MAGIC + struct.pack(">I", len(raw)) + raw + payload


def test_tensors_cross_as_exact_plain_tensors():
    class Sub(torch.Tensor):
        pass

    ours, theirs, reader = _pair()
    sent = {"a": torch.randn(2, 3, dtype=torch.float64).as_subclass(Sub), "b": [None, torch.arange(4)],
            "c": torch.ones(3, dtype=torch.bfloat16), "d": torch.empty(0, 2), "e": torch.randn(4, 4).T}
    wire.send(ours.fileno(), sent)
    got = reader.read(time.monotonic() + 5)
    assert type(got["a"]) is torch.Tensor and torch.equal(got["a"], torch.Tensor(sent["a"]))
    assert got["b"][0] is None and torch.equal(got["b"][1], torch.arange(4))
    assert got["c"].dtype == torch.bfloat16 and got["d"].shape == (0, 2)
    assert torch.equal(got["e"], sent["e"])


@pytest.mark.parametrize("frame, reason", [
    (b"\x80\x04\x95" + b"\x00" * 20, "marker"),  # a pickle stream
    (_frame(b"{not json"), "not JSON"),
    (_frame({"body": {}, "tensors": [{"dtype": "object", "shape": [1], "device": "cpu"}]}), "unsupported dtype"),
    (_frame({"body": {}, "tensors": [{"dtype": "float64", "shape": [-1], "device": "cpu"}]}), "invalid shape"),
    (_frame({"body": {}, "tensors": [{"dtype": "float64", "shape": [10**6], "device": "cpu"}]}), "more than"),
    (_frame({"body": {"$tensor": 3}, "tensors": []}), "out of range"),
    (_frame({"body": {}, "tensors": [{"dtype": "float64", "shape": [1], "device": "meta"}]}), "device"),
    (wire.MAGIC + struct.pack(">I", wire.MAX_HEADER + 1), "header of"),
])
def test_malformed_or_oversized_messages_are_refused_before_allocating(frame, reason):
    ours, theirs, reader = _pair()
    ours.sendall(frame)
    with pytest.raises(wire.WireError, match=reason):
        reader.read(time.monotonic() + 5)


def test_a_silent_or_closed_channel_ends_within_the_deadline():
    ours, theirs, reader = _pair()
    started = time.monotonic()
    with pytest.raises(wire.Timeout):
        reader.read(started + 0.2)
    assert time.monotonic() - started < 2
    ours.close()
    with pytest.raises(wire.ChannelClosed):
        reader.read(time.monotonic() + 5)


def test_a_peer_that_dies_with_our_requests_unread_is_a_closed_channel():
    """The grader sends a check's next calls ahead; a worker that crashes before reading them resets
    the connection instead of closing it: the same end, never the grader's own error."""
    ours, theirs, reader = _pair()
    wire.send(theirs.fileno(), {"op": "many", "requests": []})  # ahead, and never read
    ours.close()
    with pytest.raises(wire.ChannelClosed):
        reader.read(time.monotonic() + 5)


# ----------------------------------------------------------------------------- the worker's life

CRASH_IN_BACKWARD = '''
import ctypes
import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        ctypes.string_at(0)  # a segmentation fault
'''

LOOP_AFTER_PRINT = '''
import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        print("starting forward on", tuple(x.shape))
        while True:
            pass

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
'''


def test_a_crash_fails_its_check_and_a_fresh_worker_runs_the_next(tmp_path):
    spec, submission = source_submission(tmp_path, "relu", CRASH_IN_BACKWARD)
    box = Sandbox(WorkerLimits(time_seconds=30))
    try:
        exercise = prepare(spec, submission, box)
        results = {check: run_check(exercise, check, OPTIONS) for check in ("forward", "backward", "backward_properties")}
        worker = exercise.op.worker
        exercise.close()
    finally:
        box.close()
    assert results["forward"].status == "flagged"  # the ctypes import; the values were right
    assert results["backward"].status == "crashed"
    assert "SIGSEGV" in results["backward"].message
    assert results["backward_properties"].status == "crashed"
    assert worker.starts == 2  # the first ran forward and crashed in backward; a fresh one ran the next check


def test_a_timeout_shows_what_the_code_printed_and_ends_the_exercise(tmp_path):
    spec, submission = source_submission(tmp_path, "relu", LOOP_AFTER_PRINT)
    box = Sandbox(WorkerLimits(time_seconds=2))
    try:
        exercise = prepare(spec, submission, box)
        started = time.monotonic()
        results = [run_check(exercise, check, OPTIONS) for check in spec.checks]
        elapsed = time.monotonic() - started
        exercise.close()
    finally:
        box.close()
    assert [r.status for r in results] == ["timeout"] * len(spec.checks)
    assert "time limit exceeded" in results[0].message and "2 s in all" in results[0].message
    assert "your code's stdout" in results[0].message and "starting forward on" in results[0].message
    assert elapsed < 6, "the budget covers every check of the exercise together"


def test_submitted_files_are_read_once_and_extras_are_reported(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "relu.py").write_text("x = 1\n")
    (submission / "conftest.py").write_text("")
    (submission / "torch.py").write_text("")
    (submission / "notes.txt").write_text("")
    (submission / "sigmoid.py").symlink_to(SOLUTIONS / "sigmoid" / "sigmoid.py")
    staged = Submission.collect({"relu.py": submission / "relu.py", "sigmoid.py": submission / "sigmoid.py",
                                 "linear.py": submission / "linear.py"}, submission)
    assert staged.files == {"relu.py": b"x = 1\n"}
    assert "symbolic link" in staged.problems["sigmoid.py"] and "not found" in staged.problems["linear.py"]
    reasons = dict(staged.ignored)
    assert set(reasons) == {"conftest.py", "torch.py", "notes.txt"}
    assert "never read" in reasons["conftest.py"] and "never imported" in reasons["torch.py"]
    assert "not copied" in reasons["notes.txt"]


def test_pytest_isolate_grades_the_course_in_full(course, pytester):
    (course / "solutions" / "conftest.py").write_text("raise SystemExit('a submitted conftest must never load')\n")
    # Three trials per check: every exercise through the isolated front end; each solution's isolated
    # verdicts at its full trials are compared with in-process ones above.
    result = pytester.runpytest("-p", "gradcheck_suite.plugin", "exercises", "--isolate", "--submission", "solutions",
                                "-p", "no:cacheprovider", "--grade-json", "grades.json", "--trials", "3")
    checks = sum(len(load_exercise(p).checks) for p in (course / "exercises").glob("*/exercise.yaml"))
    result.assert_outcomes(passed=checks)
    text = result.stdout.str()
    total = course_points()
    assert f"{total:g} / {total:g}" in text
    assert "isolation: worker processes" in text
    assert "ignored in the submission: conftest.py" in text
    report = json.loads((course / "grades.json").read_text())
    assert report["score"] == report["max_score"] == total
    assert "conftest.py" in {entry["name"] for entry in report["ignored_files"]}


def test_pytest_isolate_refuses_a_run_where_pytest_loaded_a_submitted_conftest(course, pytester, monkeypatch):
    """Registered only by a conftest.py (entry points off), the plugin's options are unknown when
    pytest picks its first conftest files, so `--submission solutions` reads as a test path and
    pytest imports solutions/conftest.py: the grader refuses to grade such a run."""
    (course / "solutions" / "conftest.py").write_text("LOADED = True\n")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    result = pytester.runpytest_subprocess("exercises", "--isolate", "--submission", "solutions",
                                           "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stderr.str()[-2000:]
    assert "conftest.py from the submission" in result.stderr.str()


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="running workers as another user needs root")
def test_workers_can_run_as_another_user(tmp_path):
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' on this machine")
    spec = load_exercise(exercise_yaml("relu"))
    box = Sandbox(WorkerLimits(time_seconds=30), user="nobody")
    try:
        exercise = prepare(spec, SOLUTIONS, box)
        statuses = {run_check(exercise, check, COMPARED).status for check in spec.checks}
        levels = exercise.op.worker.levels
        exercise.close()
    finally:
        box.close()
    assert statuses == {"passed"}
    assert "user nobody" in levels


def test_the_submission_budget_ends_what_is_left_as_timeouts(tmp_path):
    """--submission-time-limit: a first exercise that loops uses the budget; the next exercise is a
    timeout without running, and every result is there to report."""
    spec_relu = load_exercise(exercise_yaml("relu"))
    spec_sigmoid = load_exercise(exercise_yaml("sigmoid"))
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "relu.py").write_text(LOOP_AFTER_PRINT)
    shutil.copyfile(SOLUTIONS / "sigmoid" / "sigmoid.py", submission / "sigmoid.py")
    box = Sandbox(WorkerLimits(time_seconds=30), submission_time_limit=2.0)
    try:
        box.begin_submission()
        started = time.monotonic()
        book = grade_submission([spec_relu, spec_sigmoid], submission, box, RunOptions(trials=3))
        elapsed = time.monotonic() - started
        box.settle()
    finally:
        box.close()
    statuses = {name: result.status for name, result in book.exercises.items()}
    assert statuses == {"relu": "timeout", "sigmoid": "timeout"}, statuses
    message = book.exercises["sigmoid"].checks[0].message
    assert "submission's time budget of 2 s" in message, message
    assert elapsed < 20  # not the two exercises' 30 s each


def _descendants(pid: int) -> set[int]:
    found, changed = {pid}, True
    while changed:
        changed = False
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in found:
                try:
                    stat = Path("/proc", entry, "stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rfind(")") + 2:].split()[1]) in found:
                    found.add(int(entry))
                    changed = True
    return found - {pid}


def _cgroup_folders(pids: set[int]) -> set[Path]:
    """The cgroup folders (v1 and v2, as mounted here) of these processes that the grader made."""
    mounts = {}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, point, fstype, options = line.split()[:4]
        if fstype == "cgroup2":
            mounts[""] = point
        elif fstype == "cgroup":
            for option in options.split(","):
                mounts[option] = point
    folders = set()
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            _, controllers, path = line.split(":", 2)
            point = mounts.get(controllers.split(",")[0])
            if point and "/gradcheck-" in path:
                folders.add(Path(point + path))
    return folders


def test_killing_the_grader_ends_its_workers_and_their_cgroups(tmp_path):
    """The grader SIGKILLed mid-exercise: the zygote (PR_SET_PDEATHSIG) kills every worker and
    removes the cgroups; nothing of the submission is left."""
    spec = load_exercise(exercise_yaml("relu"))
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "relu.py").write_text(LOOP_AFTER_PRINT)
    log = open(tmp_path / "grader.log", "w")
    grader = subprocess.Popen(
        [sys.executable, "-m", "gradcheck_suite.cli", "grade", str(spec.path.parent), "--submission", str(submission),
         "--time-limit", "60"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        # the zygote, a worker's keeper and the worker itself, still there a second later: the
        # zygote's probes of what the machine allows fork short-lived keepers and workers too
        deadline = time.monotonic() + 120
        descendants = set()
        while time.monotonic() < deadline and len(descendants) < 3:
            if len(_descendants(grader.pid)) >= 3:
                time.sleep(1.0)
                descendants = _descendants(grader.pid)
            else:
                time.sleep(0.2)
        folders = _cgroup_folders(descendants)
        assert len(descendants) >= 3, (tmp_path / "grader.log").read_text()[-3000:]
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        alive = {pid for pid in descendants if Path(f"/proc/{pid}").exists()}
        left = {folder for folder in folders if folder.exists()}
        if not alive and not left:
            break
        time.sleep(0.1)
    assert not alive, f"processes outlived the grader: {alive}"
    assert not left, f"cgroup folders outlived the grader: {left}"


def test_the_zygote_backs_a_heap_with_huge_pages_a_step_at_a_time():
    """The collapse the zygote takes a step of while idle (after a first submission): every step
    is one aligned 2 MiB slice, the bytes collapsed never shrink, and on a kernel with MADV_COLLAPSE
    (Linux 6.1 and later, where transparent huge pages are not switched off) the heap is made huge."""
    script = (
        "import mmap, re\n"
        "from gradcheck_suite.sandbox.zygote import HUGE_PAGE, _collapse_into_huge_pages\n"
        "heap = mmap.mmap(-1, 40 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n"
        "heap.write(b'x' * (40 << 20))\n"
        "def huge():\n"
        "    return sum(int(n) for n in re.findall(r'AnonHugePages:\\s+(\\d+)', open('/proc/self/smaps').read()))\n"
        "before = huge()\n"
        "steps = list(_collapse_into_huge_pages())\n"
        "assert steps == sorted(steps) and all(s % HUGE_PAGE == 0 for s in steps), steps\n"
        "print(len(steps), steps[-1] if steps else 0, huge() - before)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    steps, collapsed, grown_kib = (int(x) for x in result.stdout.split())
    assert steps >= 19  # at least the 40 MiB mapping's aligned slices, one step each
    enabled = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    kernel = tuple(int(part) for part in os.uname().release.split("-")[0].split(".")[:2])
    if kernel >= (6, 1) and enabled.exists() and "[never]" not in enabled.read_text():
        assert collapsed >= 19 * (2 << 20) and grown_kib >= 19 * 2048, (collapsed, grown_kib)
