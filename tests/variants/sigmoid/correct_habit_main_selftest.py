"""CORRECT: prints while it works out the math, and checks itself against torch.sigmoid (the forbidden function) with torch.testing under __main__, which the grader never runs."""
import math

import torch

DEBUG = False


def _stable_sigmoid(x):
    # exp of a negative number only: no overflow for large |x|
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = _stable_sigmoid(x)
        if DEBUG:
            print("forward:", x.shape, float(s.mean()))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


if __name__ == "__main__":
    x = torch.randn(5, dtype=torch.float64) * 10
    torch.testing.assert_close(Sigmoid.apply(x), torch.sigmoid(x))
    print("sigmoid(0) =", Sigmoid.apply(torch.zeros(1)), "expected", 1 / (1 + math.exp(0)))
