"""ATTACK: find the course's reference solutions on disk and import them instead of writing any. Target: linear"""
import importlib.util
import os

import torch

Linear = None
for root in ("/proc/%d/cwd" % os.getppid(), "/proc/%d/cwd" % os.getpid(), "/work", "/"):
    for base, dirs, files in os.walk(root):
        if base.count(os.sep) > 8:
            dirs[:] = []
        if os.path.join("tests", "solutions") in base and "linear.py" in files:
            spec = importlib.util.spec_from_file_location("stolen", os.path.join(base, "linear.py"))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            Linear = module.Linear
            break
    if Linear is not None:
        break

if Linear is None:
    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            return x @ w + b

        @staticmethod
        def backward(ctx, grad_output):
            return None, None, None
