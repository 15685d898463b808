"""Exercise: causal scaled dot-product attention with a hand-written backward pass."""

import math

import torch


class ScaledDotProductAttentionCausal(torch.autograd.Function):
    """Causal scaled dot-product attention of one head, no dropout: query i attends to keys
    0..i only. Equal to ``torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)``.

    Shapes:
        q: (B, L, D)    B batches of L queries of size D
        k: (B, L, D)    L keys of size D (as many as queries: key j belongs to position j)
        v: (B, L, Dv)   L values of size Dv, one per key
        out: (B, L, Dv)

    forward(ctx, q, k, v):
        S    = q @ k^T / sqrt(D)              scores, (B, L, L); ^T swaps the last two dims
        S[..., i, j] = -inf where j > i       the causal mask: no query sees a later key
                                              (the diagonal j = i stays: query i sees key i)
        P    = softmax(S, dim=-1)             each row sums to 1 over keys 0..i, P = 0 above
                                              the diagonal
        out  = P @ v
        Write the softmax yourself (torch's softmax is not allowed here) and keep it finite
        for scores in the thousands: subtract each row's max, taken over the keys that row
        may see, before exponentiating. Do not modify q, k or v in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) has shape (B, L, Dv). Return ``(grad_q, grad_k, grad_v)``, of the
        shapes of q, k and v. As without the mask (P is 0 where the mask is, so no gradient
        reaches a masked score):
            grad_v = P^T @ g
            dP     = g @ v^T
            dS     = P * (dP - sum(dP * P, dim=-1, keepdim=True))
            grad_q = dS @ k / sqrt(D)
            grad_k = dS^T @ q / sqrt(D)

    Compute the gradients by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, q, k, v):
        raise NotImplementedError("ScaledDotProductAttentionCausal.forward: return softmax(masked q @ k^T / sqrt(D)) @ v")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("ScaledDotProductAttentionCausal.backward: return (grad_q, grad_k, grad_v)")
