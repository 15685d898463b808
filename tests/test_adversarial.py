"""Attacks on the autograder, one submission each (tests/adversarial/<attack>/).

Each attack replaces one exercise's file (named by ``Target:`` in its docstring) in an otherwise
honest submission (the reference solutions). Graded in autograder mode, the attacked exercise
must score 0, the honest one beside it must score in full, grading must stay within the
exercise's time limit, and afterwards no process the student started may be left, no cgroup
folder of a worker, and nothing outside the worker's directory may have changed.

The attacks on the grader as root (forging the report after grading, undoing the confinement,
limits that were per process) also run through `gradcheck-suite grade` as root without
--isolate-user, as on Gradescope and CI: the report on disk must stay what the grader printed.
A grader without root is stood for by dropping every capability and capping the isolation level
(--isolation-ceiling): a few attacks there must end as the README's threat table says.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS, copy_solutions, exercise_result
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.sandbox.launch import WITHOUT_FILTER
from gradcheck_suite.sandbox.processes import cgroup_members
from gradcheck_suite.sandbox.staging import Submission
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

ADVERSARIAL = REPO_ROOT / "tests" / "adversarial"
ATTACKS = sorted(p for p in ADVERSARIAL.iterdir() if p.is_dir())
TIME_LIMIT = 3.0
TRIALS = 3
MARKERS = ("/tmp/gradcheck-adversarial-daemon-alive", "/tmp/gradcheck-adversarial-pickle-ran",
           "/tmp/gradcheck-adversarial-forger-alive", "/tmp/gradcheck-adversarial-remounted",
           "/tmp/gradcheck-adversarial-proc-root")


@pytest.fixture
def markers_to_ourselves():
    """The attack markers are fixed paths in the machine's /tmp, and at the lower isolation levels an
    attack may write its marker while it runs: tests that look for markers take turns (a lock shared
    by every xdist worker), so one test never sees another's attack at work."""
    lock = os.open("/tmp/gradcheck-adversarial-markers.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for marker in MARKERS:
            Path(marker).unlink(missing_ok=True)
        yield
    finally:
        os.close(lock)  # closing releases the lock


def markers_left() -> list[str]:
    return [m for m in MARKERS if Path(m).exists()]
SECRET = "GRADCHECK_ADVERSARIAL_SECRET"  # in the grader's environment, for grader_secrets_in_feedback
# The status the attacked exercise gets, where one mechanism is what stops the attack.
EXPECTED_STATUS = {
    "os_exit_at_import": "crashed",
    "os_exit_in_call": "crashed",
    "pickle_payload": "crashed",
    "infinite_loop": "timeout",
    # on 2 idle cores the spinning tree reaches the CPU limit (3 CPU-seconds) before the wall-clock
    # one (3 s); on a busy machine, the other way round: either way it ends there, with 0 points
    "fork_bomb": ("timeout", "crashed"),
    "sys_exit_at_import": "error",
    "sys_exit_in_call": "error",
    "pytest_exit_in_call": "error",
    "pytest_skip_in_call": "error",
    "pytest_xfail_in_call": "error",
    "import_reference_solution": "flagged",
    "read_exercise_configs": "flagged",
    "autograd_in_backward": "failed",
    "forbidden_reference_in_forward": "failed",
    "forge_report_after_grading": "flagged",
    "grader_secrets_in_feedback": "error",
    "squat_next_workdir": "failed",
    "disk_fill_many_files": "timeout",
    "expand_reply": "crashed",
}
# Where the worker sees only its read-only view, the solutions are not there to import: the attack
# falls back to a backward that returns (None, None, None), what a stub returns: "not implemented".
EXPECTED_WITH_VIEW = {"import_reference_solution": "error"}
# What an attack must not have achieved, beyond scoring 0: text its own feedback must not hold.
NOT_IN_FEEDBACK = {
    "forked_memory_hoard": ("ALL HELD",),
    "disk_fill_many_files": ("WROTE 400",),
    "grader_secrets_in_feedback": ("/cmdline:", "/environ:", "/mem:", SECRET),
    "inherited_descriptors": ("pidfd", "pid:[", "mnt:[", "net:[", "user:["),
}


def target_of(attack: Path) -> str:
    for path in attack.glob("*.py"):
        match = re.search(r"ATTACK: .*Target: (\w+)", path.read_text())
        if match:
            return match.group(1)
    raise ValueError(f"{attack}: no .py file with an 'ATTACK: ... Target: <exercise>' docstring")


def honest_neighbour(target: str) -> str:
    return "relu" if target != "relu" else "sigmoid"


def make_submission(attack: Path, folder: Path) -> Path:
    copy_solutions(folder)
    for path in attack.iterdir():
        shutil.copyfile(path, folder / path.name)
    return folder


def fingerprint(*roots: Path) -> dict[str, str]:
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".hypothesis" not in path.parts:
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def processes_inside(root: Path) -> list[int]:
    """Processes whose working directory lies under `root` (every worker's does)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd").startswith(str(root)):
                    found.append(int(entry))
            except OSError:
                pass
    return found


# Attacks whose only defence against changing files outside the worker's directory is the
# read-only mount namespace (CAP_SYS_ADMIN): on a machine without it they would really write.
NEEDS_READ_ONLY_FILESYSTEM = {"write_outside_workdir", "remount_writable", "proc_root_escape", "poison_next_submission"}


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(WorkerLimits(time_seconds=TIME_LIMIT))
    probe = box.worker("probe", "relu.py", (SOLUTIONS / "relu" / "relu.py").read_bytes(), "ReLU", ["x"], [True], "cpu")
    probe.start()
    box.worker_levels = probe.levels
    probe.close()
    yield box
    box.close()


def has_view(levels: list[str]) -> bool:
    return any("read-only" in level for level in levels)


def test_every_attack_is_labelled():
    assert len(ATTACKS) >= 30
    for attack in ATTACKS:
        assert (EXERCISES / target_of(attack) / "exercise.yaml").is_file(), attack.name
    assert set(EXPECTED_STATUS) <= {a.name for a in ATTACKS}


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda p: p.name)
def test_attack_scores_zero_and_the_honest_exercise_full(attack, sandbox, tmp_path):
    if attack.name in NEEDS_READ_ONLY_FILESYSTEM and not any("read-only" in level for level in sandbox.worker_levels):
        pytest.skip("this machine gives workers no read-only mount namespace (needs CAP_SYS_ADMIN); "
                    "the attack would really write outside its directory")
    for marker in MARKERS:
        Path(marker).unlink(missing_ok=True)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10
    submission = make_submission(attack, tmp_path / "submission")
    protected = fingerprint(EXERCISES, SOLUTIONS, REPO_ROOT / "gradcheck_suite")
    target = target_of(attack)
    verdicts = {}
    started = time.monotonic()
    for name in (target, honest_neighbour(target)):
        spec = load_exercise(EXERCISES / name / "exercise.yaml")
        staged = Submission.collect({spec.student_file: submission / spec.student_file}, submission)
        exercise = prepare(spec, submission, sandbox, staged)
        try:
            results = {check: run_check(exercise, check, RunOptions(trials=TRIALS)) for check in spec.checks}
        finally:
            exercise.close()
        verdicts[name] = exercise_result(spec, results)
    elapsed = time.monotonic() - started

    attacked, honest = verdicts[target], verdicts[honest_neighbour(target)]
    details = "\n".join(f"{c.check}: {c.status}: {c.message[:300]}" for c in attacked.checks)
    assert attacked.score == 0 and attacked.status != "passed", details
    expected = {**EXPECTED_STATUS, **(EXPECTED_WITH_VIEW if has_view(sandbox.worker_levels) else {})}
    if attack.name in expected:
        wanted = expected[attack.name]
        assert attacked.status in (wanted if isinstance(wanted, tuple) else (wanted,)), details
    feedback = "\n".join(c.message for c in attacked.checks)
    for text in NOT_IN_FEEDBACK.get(attack.name, ()):
        assert text not in feedback, details
    # the grader never allocates for a reply larger than the exercise's answer (expand_reply: 1 GiB)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10) - peak_before < 512 << 20
    assert honest.status == "passed" and honest.score == honest.max_score, \
        "\n".join(f"{c.check}: {c.status}: {c.message[:300]}" for c in honest.checks)
    assert elapsed < 2 * TIME_LIMIT + 10, f"grading took {elapsed:.1f} s"

    assert processes_inside(sandbox.root) == [], "a process the student started outlived grading"
    for folder in map(Path, sandbox.cgroup_folders):  # the submission's cgroups: no worker's folder, no process
        assert not cgroup_members(folder, recursive=True), f"a process is left in {folder}"
        assert not [p for p in folder.iterdir() if p.is_dir()], f"a worker's cgroup folder is left in {folder}"
    assert sandbox._zygote.poll() is None, "the zygote was killed"
    time.sleep(0.3)  # a surviving daemon would write within this time
    assert markers_left() == []
    assert fingerprint(EXERCISES, SOLUTIONS, REPO_ROOT / "gradcheck_suite") == protected


# ----------------------------------------------------------------------------- through pytest

CLI_ATTACKS = ("shipped_conftest", "fake_summary_print", "os_exit_at_import", "pytest_exit_in_call")


def test_attacks_on_the_pytest_front_end(tmp_path):
    """A real `pytest --isolate` per attack, in parallel: the grade JSON, not the student's
    output or exit code, says what was earned; a shipped conftest.py is never loaded."""
    course = tmp_path / "course"
    runs = {}
    for name in CLI_ATTACKS:
        attack = ADVERSARIAL / name
        target = target_of(attack)
        for exercise in (target, honest_neighbour(target)):
            if not (course / exercise).exists():
                shutil.copytree(EXERCISES / exercise, course / exercise, ignore=shutil.ignore_patterns("*.py"))
        submission = make_submission(attack, tmp_path / f"submission-{name}")
        report = tmp_path / f"{name}.json"
        command = [sys.executable, "-m", "pytest", str(course / target), str(course / honest_neighbour(target)),
                   "-p", "gradcheck_suite.plugin", "-p", "no:cacheprovider", "--isolate", "--submission",
                   str(submission), "--grade-json", str(report), "--trials", str(TRIALS), "--time-limit",
                   str(TIME_LIMIT), "-q", "--rootdir", str(tmp_path)]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        runs[name] = (subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True), report, target)
    for name, (process, report, target) in runs.items():
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 1, f"{name}: pytest exited {process.returncode}\n{output[-3000:]}"
        grades = json.loads(report.read_text())
        scores = {e["name"]: (e["status"], e["score"], e["max_score"]) for e in grades["exercises"]}
        status, score, _ = scores[target]
        assert score == 0 and status != "passed", f"{name}: {scores}\n{output[-3000:]}"
        _, honest_score, honest_max = scores[honest_neighbour(target)]
        assert honest_score == honest_max > 0, f"{name}: {scores}"
        assert grades["score"] == honest_max
    shipped = json.loads(runs["shipped_conftest"][1].read_text())["ignored_files"]
    reasons = {entry["name"]: entry["reason"] for entry in shipped}
    assert "never read by the grader" in reasons["conftest.py"]
    assert "never run" in reasons["sitecustomize.py"] and "never run" in reasons["evil.pth"]


# ----------------------------------------------------------------------------- the grader as root, through its CLI

REPORT_ATTACKS = ("forge_report_after_grading", "squat_next_workdir", "grader_secrets_in_feedback",
                  "proc_root_escape", "remount_writable")
SECRET_VALUE = "s3cret-token-7f3a"


def _grade_command(course: Path, target: str, submission: Path, extra: list[str], prefix: list[str] = ()) -> list[str]:
    return [*prefix, sys.executable, "-m", "gradcheck_suite.cli", "grade", str(course / target),
            str(course / honest_neighbour(target)), "--submission", str(submission), "--json", "report.json",
            "--trials", str(TRIALS), "--time-limit", str(TIME_LIMIT), *extra]


def _run_attacks(tmp_path: Path, names, extra: list[str] = (), prefix: list[str] = (), parallel: int = 3) -> dict:
    """`gradcheck-suite grade` on each attack (the target and its honest neighbour), a few at a time,
    with a secret in the grader's environment; per attack: (exit code, output, report bytes at exit,
    report bytes a second later, the folder)."""
    results, running = {}, []
    for name in list(names) + [None] * parallel:
        if name is not None:
            attack = ADVERSARIAL / name
            target = target_of(attack)
            folder = tmp_path / name
            for exercise in (target, honest_neighbour(target)):
                shutil.copytree(EXERCISES / exercise, folder / "course" / exercise, ignore=shutil.ignore_patterns("*.py"))
            submission = make_submission(attack, folder / "submission")
            os.chmod(tmp_path, 0o755)
            env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), SECRET: SECRET_VALUE}
            process = subprocess.Popen(_grade_command(folder / "course", target, submission, list(extra), prefix),
                                       cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            running.append((name, folder, process))
        while len(running) >= parallel or (name is None and running):
            done, folder, process = running.pop(0)
            output, _ = process.communicate(timeout=300)
            report = folder / "report.json"
            at_exit = report.read_bytes() if report.exists() else None
            results[done] = [process.returncode, output, at_exit, None, folder]
            if name is None:
                break
    time.sleep(1.0)  # a process that outlived its grader would rewrite the report within this time
    for entry in results.values():
        report = entry[4] / "report.json"
        entry[3] = report.read_bytes() if report.exists() else None
    return results


def _check_graded(name: str, result, level: str | None = None) -> dict:
    code, output, at_exit, later, _ = result
    assert code == 0, f"{name}: exit {code}\n{output[-3000:]}"
    digest = re.search(r"report: report\.json sha256 ([0-9a-f]{64})", output)
    assert digest, output[-2000:]
    assert later == at_exit and hashlib.sha256(later).hexdigest() == digest.group(1), \
        f"{name}: the report on disk is not the one the grader printed"
    report = json.loads(later)
    target = target_of(ADVERSARIAL / name)
    scores = {e["name"]: (e["status"], e["score"], e["max_score"]) for e in report["exercises"]}
    assert scores[target][1] == 0 and scores[target][0] != "passed", scores
    honest = scores[honest_neighbour(target)]
    assert honest[0] == "passed" and honest[1] == honest[2] > 0, f"{name}: {scores}"
    if level is not None:
        assert report["isolation"]["level"] == level, report["isolation"]
    for folder in report["isolation"]["cgroup_folders"]:
        assert not Path(folder).exists(), f"{name}: cgroup folder {folder} left"
    return report


@pytest.mark.heavy  # the CLI as root, once per report attack; .ci/run runs it after the suite
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the grader as root")
def test_attacks_on_the_report_with_the_grader_as_root(tmp_path, markers_to_ourselves):
    protected = fingerprint(EXERCISES, SOLUTIONS, REPO_ROOT / "gradcheck_suite")
    results = _run_attacks(tmp_path, REPORT_ATTACKS)
    for name, result in results.items():
        report = _check_graded(name, result, level="full")
        assert SECRET_VALUE not in json.dumps(report), f"{name}: the grader's environment reached the feedback"
        courses = fingerprint(result[4] / "course")
        assert not any("vandalised" in Path(p).read_text() for p in courses), name
    assert markers_left() == []
    assert fingerprint(EXERCISES, SOLUTIONS, REPO_ROOT / "gradcheck_suite") == protected


# ----------------------------------------------------------------------------- lower isolation levels

def _without_root(level: str) -> list[str]:
    """A command prefix for a grader that is not root. For `processes`, every capability dropped:
    root without them may not mount, change users, write to cgroups it does not own, nor (kernel
    5.12 on) map root into a user namespace. For `namespaces`, none: the ceiling alone makes the
    zygote do what it does for a grader that is not root (a user namespace where the worker is
    uid 65534 and outside the grader's own uid, no cgroups)."""
    if os.geteuid() != 0 or level == "namespaces":
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to drop the grader's capabilities")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--"]


# The README's threat table, per level, for a few representative attacks: True where the attack is
# stopped (scores 0, the report stays the grader's, nothing is left), else what it achieves.
LEVEL_ROWS = {
    "namespaces": {"forge_report_after_grading": True, "grader_secrets_in_feedback": True,
                   "disk_fill_many_files": True, "expand_reply": True},
    "processes": {"forge_report_after_grading": True, "grader_secrets_in_feedback": "reads the grader's environment",
                  "squat_next_workdir": True, "expand_reply": True},
}


@pytest.mark.heavy  # a grading session per level; .ci/run runs it after the suite
@pytest.mark.parametrize("level", sorted(LEVEL_ROWS))
def test_lower_levels_match_the_threat_table(level, tmp_path, markers_to_ourselves):
    prefix = _without_root(level)
    results = _run_attacks(tmp_path, LEVEL_ROWS[level], ["--isolation-ceiling", level], prefix)
    for name, outcome in LEVEL_ROWS[level].items():
        report = _check_graded(name, results[name], level=level)
        leaked = SECRET_VALUE in json.dumps(report)
        if outcome is True:
            assert not leaked, f"{level}: {name}"
        else:
            assert leaked, f"{level}: {name} should, by the README's table, {outcome}"
    # without a read-only view a daemon may write its marker while it runs; none may write after grading
    for marker in MARKERS:
        Path(marker).unlink(missing_ok=True)
    time.sleep(0.5)
    assert markers_left() == []


@pytest.mark.heavy  # a grading session without the filter; .ci/run runs it after the suite
def test_without_the_filter_a_forged_report_earns_full_marks(tmp_path, markers_to_ourselves, monkeypatch):
    """The defence switched off: at the `processes` level (not root, no user namespaces) and without
    the seccomp filter (a machine without libseccomp), the forger calls setsid, kills the zygote,
    outlives grading and rewrites the report with full marks, as the threat table's row 1 says. With
    the filter, test_lower_levels_match_the_threat_table shows the report stays the grader's."""
    monkeypatch.setenv(WITHOUT_FILTER, "1")
    name = "forge_report_after_grading"
    code, output, at_exit, later, _ = _run_attacks(tmp_path, [name], ["--isolation-ceiling", "processes"],
                                                   _without_root("processes"))[name]
    assert code == 0 and later is not None, output[-3000:]
    assert re.search(r"sigmoid\s+[a-z]+\s+0 / 10", output), f"the grader itself gave the attack points\n{output[-3000:]}"
    assert "missing pid namespace, mount namespace, network namespace, seccomp filter" in output
    digest = re.search(r"report: report\.json sha256 ([0-9a-f]{64})", output)
    assert digest and hashlib.sha256(later).hexdigest() != digest.group(1), "the report on disk is the grader's"
    forged = json.loads(later)
    assert forged["score"] == forged["max_score"] > 0, "the forger did not rewrite the report"
    assert all(e["status"] == "passed" for e in forged["exercises"])


@pytest.mark.parametrize("front, ceiling, required", [("grade", "namespaces", "full"), ("grade", "processes", "namespaces"),
                                                      ("pytest", "namespaces", "full")])
def test_require_isolation_refuses_below_its_level(front, ceiling, required, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(EXERCISES / "relu", folder / "course" / "relu", ignore=shutil.ignore_patterns("*.py"))
    submission = copy_solutions(folder / "submission")
    isolation = ["--isolation-ceiling", ceiling, "--require-isolation", required]
    if front == "grade":
        command = [sys.executable, "-m", "gradcheck_suite.cli", "grade", str(folder / "course"), "--submission",
                   str(submission), "--json", "report.json", *isolation]
    else:
        command = [sys.executable, "-m", "pytest", str(folder / "course"), "-p", "gradcheck_suite.plugin", "-p",
                   "no:cacheprovider", "--isolate", "--submission", str(submission), "--grade-json", "report.json",
                   "--rootdir", str(folder), *isolation]
    process = subprocess.run(command, cwd=folder, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                             capture_output=True, text=True, timeout=300)
    assert process.returncode == 2, process.stdout[-2000:] + process.stderr[-2000:]
    text = process.stdout + process.stderr
    assert f"isolation level {ceiling} reached, {required} required" in text, text[-2000:]
    assert not (folder / "report.json").exists()
