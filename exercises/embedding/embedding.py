"""Exercise: an embedding lookup with a hand-written backward pass."""

import torch


class Embedding(torch.autograd.Function):
    """Embedding lookup ``out = weight[idx]``, as ``torch.nn.functional.embedding(idx, weight)``.

    Shapes:
        idx: (N,)        int64 row indices, each in [0, V); an index may appear several times
        weight: (V, D)   the embedding table, one row of size D per vocabulary entry
        out: (N, D)      out[n] = weight[idx[n]]

    forward(ctx, idx, weight):
        Return the rows of weight picked by idx (not torch.nn.functional.embedding).
        Save what backward needs. Do not modify idx or weight in place.

    backward(ctx, grad_output):
        ``grad_output`` is dL/d(out), shape (N, D). Return ``(None, grad_weight)``: idx holds
        integers and gets no gradient. grad_weight has weight's shape (V, D):

            grad_weight[v] = sum of grad_output[n] over every n with idx[n] == v

        (zero for a row that was never looked up). When an index repeats, its row
        receives the sum of all its upstream gradients: accumulate, do not assign.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, idx, weight):
        raise NotImplementedError("Embedding.forward: return weight[idx]")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Embedding.backward: return (None, grad_weight)")
