"""BUG: grad_output.T @ one_hot gives grad_weight transposed, (D, V) instead of (V, D). Caught by: backward (weight)

The one-hot matrix M (N, V) has out = M @ weight, so grad_weight = M.T @ grad_output.
"""

import torch


class Embedding(torch.autograd.Function):
    @staticmethod
    def forward(ctx, idx, weight):
        one_hot = torch.zeros(idx.shape[0], weight.shape[0], dtype=weight.dtype, device=weight.device)
        one_hot[torch.arange(idx.shape[0], device=idx.device), idx] = 1.0
        ctx.save_for_backward(one_hot)
        return one_hot @ weight

    @staticmethod
    def backward(ctx, grad_output):
        (one_hot,) = ctx.saved_tensors
        return None, grad_output.T @ one_hot
