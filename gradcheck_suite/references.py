"""Trusted reference implementations for exercises that torch has no single function for.

Each is a plain differentiable torch function of the exercise's inputs, in the same order.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x @ w + b with w of shape (D_in, D_out), as in the PyTorch autograd tutorial."""
    return torch.matmul(x, w) + b


def one_layer_net(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The tutorial's loss: binary_cross_entropy_with_logits(x @ w + b, y), mean reduction."""
    return F.binary_cross_entropy_with_logits(torch.matmul(x, w) + b, y)


def cube(x: torch.Tensor) -> torch.Tensor:
    return x**3
