"""Exercise: scaled dot-product attention with a hand-written backward pass."""

import math

import torch


class ScaledDotProductAttention(torch.autograd.Function):
    """Scaled dot-product attention of one head, no mask, no dropout: equal to
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v)``.

    Shapes:
        q: (B, L, D)    B batches of L queries of size D
        k: (B, S, D)    S keys of size D
        v: (B, S, Dv)   S values of size Dv, one per key
        out: (B, L, Dv)

    forward(ctx, q, k, v):
        S    = q @ k^T / sqrt(D)          scores, (B, L, S); ^T swaps the last two dims
        P    = softmax(S, dim=-1)         attention weights, each row sums to 1 over the keys
        out  = P @ v
        Write the softmax yourself (torch's softmax is not allowed here) and keep it finite
        for scores in the thousands: subtract each row's max before exponentiating.
        Do not modify q, k or v in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) has shape (B, L, Dv). Return ``(grad_q, grad_k, grad_v)``, of the
        shapes of q, k and v. Backpropagate through the three steps in reverse:
            grad_v = P^T @ g                                          (B, S, Dv)
            dP     = g @ v^T                                          (B, L, S)
            dS     = P * (dP - sum(dP * P, dim=-1, keepdim=True))     the softmax's backward
            grad_q = dS @ k / sqrt(D)                                 (B, L, D)
            grad_k = dS^T @ q / sqrt(D)                               (B, S, D)

    Compute the gradients by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, q, k, v):
        # BEGIN SOLUTION: ScaledDotProductAttention.forward: return softmax(q @ k^T / sqrt(D)) @ v
        scale = 1.0 / math.sqrt(q.shape[-1])
        scores = (q @ k.transpose(-1, -2)) * scale
        # Stable softmax over the keys: exp of at most 0.
        e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        p = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(q, k, v, p)
        return p @ v
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: ScaledDotProductAttention.backward: return (grad_q, grad_k, grad_v)
        q, k, v, p = ctx.saved_tensors
        scale = 1.0 / math.sqrt(q.shape[-1])
        grad_v = p.transpose(-1, -2) @ grad_output
        grad_p = grad_output @ v.transpose(-1, -2)
        grad_scores = p * (grad_p - (grad_p * p).sum(dim=-1, keepdim=True))
        grad_q = (grad_scores @ k) * scale
        grad_k = (grad_scores.transpose(-1, -2) @ q) * scale
        return grad_q, grad_k, grad_v
        # END SOLUTION
