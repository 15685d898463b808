"""Exercise: a batched matrix product with broadcast batch dims, with a hand-written backward pass."""

import torch


class BatchedMatmul(torch.autograd.Function):
    """The matrix product ``a @ b`` (torch.matmul) of a batch of matrices, where the batch dims
    broadcast as in torch.matmul: a dim of size 1, or a dim one operand lacks, is repeated to
    match the other operand.

    Shapes:
        a: (*batch, 1, N, K)    *batch: zero to two leading dims; the size-1 dim is broadcast
        b: (C, K, M)            broadcast over a's *batch dims (it has none of its own)
        out: (*batch, C, N, M)  out[..., c, :, :] = a[..., 0, :, :] @ b[c]

    forward(ctx, a, b):
        Return ``a @ b``. Save what backward needs with ``ctx.save_for_backward``.
        Do not modify a or b in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) has the shape of out, (*batch, C, N, M). Return
        ``(grad_a, grad_b)`` with exactly the shapes of a and b.
        For one pair of matrices, grad_a = g @ b^T and grad_b = a^T @ g (^T: the last two dims
        swapped). In the batch, these products have the broadcast shape: every copy of a
        broadcast operand received a gradient, and the operand's gradient is their sum. So
        sum grad_a over the C dim (where a had size 1, keeping that dim: shape
        (*batch, 1, N, K)), and grad_b over the *batch dims (which b lacked: shape (C, K, M)).
        Do not rely on the autograd engine to reduce them: the grader compares shapes.

    Compute the gradients by hand with plain torch operations (matmul and sum are fine;
    Tensor.sum_to_size is not); do not call torch.autograd, ``.backward()`` or torch.func
    inside backward. Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, a, b):
        raise NotImplementedError("BatchedMatmul.forward: return a @ b")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("BatchedMatmul.backward: return (grad_a, grad_b), shaped as a and b")
