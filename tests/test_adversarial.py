"""Attacks on the autograder, one submission each (tests/adversarial/<attack>/).

Each attack replaces one exercise's file (named by ``Target:`` in its docstring) in an otherwise
honest submission (the reference solutions). Graded in autograder mode, the attacked exercise
must score 0, the honest one beside it must score in full, grading must stay within the
exercise's time limit, and afterwards no process the student started may be left and nothing
outside the worker's directory may have changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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
from gradcheck_suite.sandbox.staging import Submission
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

ADVERSARIAL = REPO_ROOT / "tests" / "adversarial"
ATTACKS = sorted(p for p in ADVERSARIAL.iterdir() if p.is_dir())
TIME_LIMIT = 3.0
TRIALS = 3
MARKERS = ("/tmp/gradcheck-adversarial-daemon-alive", "/tmp/gradcheck-adversarial-pickle-ran")
# The status the attacked exercise gets, where one mechanism is what stops the attack.
EXPECTED_STATUS = {
    "os_exit_at_import": "crashed",
    "os_exit_in_call": "crashed",
    "pickle_payload": "crashed",
    "infinite_loop": "timeout",
    "fork_bomb": "timeout",
    "sys_exit_at_import": "error",
    "sys_exit_in_call": "error",
    "pytest_exit_in_call": "error",
    "pytest_skip_in_call": "error",
    "pytest_xfail_in_call": "error",
    "import_reference_solution": "flagged",
    "read_exercise_configs": "flagged",
    "autograd_in_backward": "failed",
    "forbidden_reference_in_forward": "failed",
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
NEEDS_READ_ONLY_FILESYSTEM = {"write_outside_workdir"}


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(WorkerLimits(time_seconds=TIME_LIMIT))
    probe = box.worker("probe", "relu.py", (SOLUTIONS / "relu" / "relu.py").read_bytes(), "ReLU", ["x"], [True], "cpu")
    probe.start()
    box.worker_levels = probe.levels
    probe.close()
    yield box
    box.close()


def test_every_attack_is_labelled():
    assert len(ATTACKS) >= 20
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
    if attack.name in EXPECTED_STATUS:
        assert attacked.status == EXPECTED_STATUS[attack.name], details
    assert honest.status == "passed" and honest.score == honest.max_score, \
        "\n".join(f"{c.check}: {c.status}: {c.message[:300]}" for c in honest.checks)
    assert elapsed < 2 * TIME_LIMIT + 10, f"grading took {elapsed:.1f} s"

    assert processes_inside(sandbox.root) == [], "a process the student started outlived grading"
    time.sleep(0.3)  # a surviving daemon would write within this time
    assert not any(Path(m).exists() for m in MARKERS)
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
