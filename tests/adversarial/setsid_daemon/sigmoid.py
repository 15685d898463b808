"""ATTACK: a double-forked setsid daemon that outlives grading and writes afterwards. Target: sigmoid"""
import os
import time

import torch

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(600):
            time.sleep(0.05)
            for target in ("/tmp/gradcheck-adversarial-daemon-alive", "daemon-alive"):
                try:
                    with open(target, "a") as handle:
                        handle.write("still here\n")
                except OSError:
                    pass
    os._exit(0)


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
