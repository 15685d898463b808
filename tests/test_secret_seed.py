"""The autograder's trials: drawn from a secret, not the public seed students run locally, and every
backward check includes the all-ones upstream gradient that `loss.backward()` passes.

The attacks are built here from what a student can see: their own local run of the public trials.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.grading.seeds import derive, read_secret, run_seed
from gradcheck_suite.inputs.trial import Trial

SPEC = load_exercise(EXERCISES / "relu" / "exercise.yaml")


def test_each_exercise_seed_is_derived_one_way_from_the_secret():
    assert derive("s3cret", "relu") == derive("s3cret", "relu")
    assert len({derive("s3cret", "relu"), derive("s3cret", "linear"), derive("other", "relu")}) == 3
    assert run_seed(SPEC, RunOptions()) == SPEC.seed == 303  # locally: the public seed
    assert run_seed(SPEC, RunOptions(secret="s3cret")) == derive("s3cret", "relu") != SPEC.seed
    assert run_seed(SPEC, RunOptions(seed=7, secret="s3cret")) == 7  # an explicit seed wins


def test_a_secret_seed_file_is_read_and_a_bad_one_named(tmp_path):
    (tmp_path / "seed").write_text("  abc123\n")
    assert read_secret(tmp_path / "seed") == "abc123"
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(Exception, match="the secret seed file is empty"):
        read_secret(tmp_path / "empty")
    with pytest.raises(Exception, match="cannot read the secret seed"):
        read_secret(tmp_path / "missing")


# ----------------------------------------------------------------------------- memorizing the public trials

RECORDER = '''
import json
import torch

TABLE = {}


def key(*tensors):
    return repr([t.detach().double().reshape(-1).tolist() for t in tensors])


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        grad = grad_output * (x > 0)
        TABLE[key(x, grad_output)] = grad.double().reshape(-1).tolist()
        with open(%r, "w") as handle:
            json.dump(TABLE, handle)
        return grad
'''

MEMORIZED = '''"""ATTACK: a backward that answers from a table of the public trials (recorded in the student's own
local run) and returns nonsense anywhere else; nothing but torch imported, nothing flagged. Target: relu"""
import torch

TABLE = %r


def key(*tensors):
    return repr([t.detach().double().reshape(-1).tolist() for t in tensors])


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        known = TABLE.get(key(x, grad_output))
        if known is None:
            return grad_output  # wrong wherever x <= 0
        return torch.tensor(known, dtype=torch.float64).reshape(x.shape).to(x.dtype)
'''


def _memorizing_attack(folder: Path) -> Path:
    """The student records every backward call of their local run (the public trials), then hands
    in a backward that only looks the answers up."""
    table_path = folder / "table.json"
    recorder = folder / "record"
    recorder.mkdir(parents=True)
    (recorder / "relu.py").write_text(RECORDER % str(table_path))
    exercise = prepare(SPEC, recorder)
    for check in SPEC.checks:  # flagged (it imports atexit), but it ran every public trial
        run_check(exercise, check)
    table = json.loads(table_path.read_text())
    assert len(table) > 20
    attack = folder / "attack"
    attack.mkdir()
    (attack / "relu.py").write_text(MEMORIZED % table)
    return attack


def test_answers_memorized_from_the_public_trials_earn_nothing_on_the_autograder(tmp_path):
    attack = _memorizing_attack(tmp_path)
    public = prepare(SPEC, attack)
    assert {c: run_check(public, c).status for c in SPEC.checks} == dict.fromkeys(SPEC.checks, "passed"), \
        "on the public trials the table answers every call: a grader that reused them would give full marks"
    secret = prepare(SPEC, attack)
    statuses = {c: run_check(secret, c, RunOptions(secret="the build's secret")).status for c in SPEC.checks}
    assert statuses["backward"] == "failed", statuses


# ----------------------------------------------------------------------------- the all-ones upstream gradient

WRONG_FOR_ONES = (REPO_ROOT / "tests" / "adversarial" / "wrong_for_ones_upstream" / "relu.py").read_text()


def test_a_backward_wrong_only_for_an_all_ones_upstream_gradient_fails(tmp_path):
    (tmp_path / "relu.py").write_text(WRONG_FOR_ONES)
    result = run_check(prepare(SPEC, tmp_path), "backward")
    assert result.status == "failed"
    assert result.message.startswith("with an all-ones grad_output (the one loss.backward() passes): "
                                     "gradient for 'x'")


# ----------------------------------------------------------------------------- the autograder's run

def _grade(tmp_path: Path, *extra: str) -> tuple[dict, subprocess.CompletedProcess]:
    submission = tmp_path / "submission"
    submission.mkdir(parents=True, exist_ok=True)
    (submission / "relu.py").write_text((SOLUTIONS / "relu" / "relu.py").read_text())
    report = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "grade", str(EXERCISES / "relu"),
                           "--submission", str(submission), "--json", str(report), "--trials", "3", *extra],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    return json.loads(report.read_text()), done


def test_grade_records_a_generated_secret_for_the_instructor_only_and_a_given_one_by_fingerprint(tmp_path):
    report, done = _grade(tmp_path / "generated")
    assert done.returncode == 0, done.stderr[-2000:]
    secret = report["run"]["secret_seed"]
    assert report["run"]["trials"] == "secret seed (generated for this run)"
    assert report["run"]["secret_fingerprint"] == hashlib.sha256(secret.encode()).hexdigest()[:12]
    seeds = {check["seed"] for check in report["exercises"][0]["checks"]}
    assert seeds == {derive(secret, "relu")}, "every check of the exercise draws from the secret's seed"
    (tmp_path / "seed").write_text(secret + "\n")
    again, done = _grade(tmp_path / "given", "--secret-seed-file", str(tmp_path / "seed"))
    assert "secret_seed" not in again["run"] and again["run"]["secret_fingerprint"] == report["run"]["secret_fingerprint"]
    assert [c["seed"] for c in again["exercises"][0]["checks"]] == [c["seed"] for c in report["exercises"][0]["checks"]]
    done = subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "grade", str(EXERCISES / "relu"),
                           "--submission", str(SOLUTIONS / "relu"), "--secret-seed-file", str(tmp_path / "nope")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0 and "cannot read the secret seed" in done.stdout + done.stderr


def test_a_replay_line_from_a_secret_run_reproduces_the_failure_with_the_public_setup(tmp_path):
    """The replay string carries the trial's own dims and values seed, never the secret."""
    buggy = tmp_path / "buggy"
    buggy.mkdir()
    (buggy / "relu.py").write_text((SOLUTIONS / "relu" / "relu.py").read_text().replace(
        "grad_output * (x > 0)", "grad_output * (x > 0) * (1 + (x > 1))"))
    secret_run = run_check(prepare(SPEC, buggy), "backward", RunOptions(secret="the build's secret"))
    assert secret_run.status == "failed" and secret_run.trial is not None
    assert "secret" not in secret_run.trial
    Trial.parse(secret_run.trial, SPEC)
    replayed = run_check(prepare(SPEC, buggy), "backward", RunOptions(replay=secret_run.trial))
    assert replayed.status == "failed" and replayed.message == secret_run.message


def test_a_replay_line_from_the_autograder_runs_as_shown_in_the_students_checkout(tmp_path):
    """Graded as Gradescope does (the course in /autograder/source, the student's files elsewhere,
    a secret seed), the replay line names no grader path; pasted into a checkout of the released
    course with the student's file in place, it reproduces the failure."""
    source = tmp_path / "autograder" / "source"
    shutil.copytree(EXERCISES / "relu", source / "exercises" / "relu", ignore=shutil.ignore_patterns("*.py"))
    submission = tmp_path / "autograder" / "submission"
    submission.mkdir()
    buggy = (SOLUTIONS / "relu" / "relu.py").read_text().replace("grad_output * (x > 0)", "grad_output * (x > 1)")
    (submission / "relu.py").write_text(buggy)
    (tmp_path / "seed").write_text("the build's secret\n")
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "grade", "exercises", "--submission", str(submission),
                    "--json", str(tmp_path / "r.json"), "--secret-seed-file", str(tmp_path / "seed")],
                   cwd=source, env=env, capture_output=True, text=True, timeout=300)
    backward = next(c for c in json.loads((tmp_path / "r.json").read_text())["exercises"][0]["checks"]
                    if c["name"] == "backward")
    assert backward["status"] == "failed"
    replay = next(line.strip()[len("replay: "):] for line in backward["message"].splitlines()
                  if line.strip().startswith("replay: "))
    assert "autograder" not in replay and "--submission" not in replay and "secret" not in replay
    assert replay.startswith("pytest exercises/relu/exercise.yaml::relu::backward --replay ")
    checkout = tmp_path / "student"
    shutil.copytree(EXERCISES / "relu", checkout / "exercises" / "relu")
    (checkout / "exercises" / "relu" / "relu.py").write_text(buggy)
    argv = shlex.split(replay)
    done = subprocess.run([sys.executable, "-m", *argv, "-p", "gradcheck_suite.plugin", "-p", "no:cacheprovider"],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:]
    first_line = backward["message"].splitlines()[0]
    assert first_line in done.stdout, done.stdout[-2000:]
