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


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Layer normalization over the last dim of x (..., D), with weight and bias (D,), eps 1e-5."""
    return F.layer_norm(x, x.shape[-1:], weight, bias, eps=1e-5)


def batch_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Batch normalization in training mode: batch statistics over dim 0 of x (N, D), biased variance, eps 1e-5."""
    return F.batch_norm(x, None, None, weight, bias, training=True, momentum=0.0, eps=1e-5)


def dropout(x: torch.Tensor, p: float = 0.5) -> torch.Tensor:
    """Inverted dropout in training mode with drop probability p: a random mask, kept elements
    scaled by 1 / (1 - p). Randomized: the exercise grades it by properties (random:), and this
    reference serves for shapes and validate's dry run."""
    return F.dropout(x, p=p, training=True)


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """torch.nn.LSTMCell's step (gates i, f, g, o): the pair (h', c'), each (N, H)."""
    h_next, c_next = torch.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return h_next, c_next


def mlp_loss(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
             y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of a two-layer MLP, cross_entropy(linear(relu(linear(x, w1, b1)), w2, b2), y)."""
    return F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), y)


def huber_loss(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Huber loss with delta 1.0 of input against an integer-valued target, cast to input's dtype."""
    return F.huber_loss(input, target.to(input.dtype), reduction="mean", delta=1.0)
