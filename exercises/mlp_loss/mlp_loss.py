"""Exercise: the loss of a two-layer MLP classifier, forward and backward by hand (the capstone)."""

import torch


class MLPLoss(torch.autograd.Function):
    """Mean cross-entropy loss of a two-layer MLP, weights in torch.nn.Linear's (out, in) layout:

        a = x @ W1.T + b1                 hidden pre-activations          (N, H)
        r = relu(a)                       hidden layer                    (N, H)
        z = r @ W2.T + b2                 logits                          (N, C)
        loss = mean over n of -log softmax(z[n])[y[n]]                    0-d

    i.e. torch.nn.functional.cross_entropy(z, y) with the default mean reduction.

    Shapes:
        x: (N, D)       a batch of N inputs, data (no gradient)
        W1: (H, D)      first layer weights
        b1: (H,)        first layer bias
        W2: (C, H)      second layer weights
        b2: (C,)        second layer bias
        y: (N,)         int64 class indices in [0, C), data (no gradient)
        loss: 0-d tensor

    forward(ctx, x, W1, b1, W2, b2, y):
        Return the loss (not torch.nn.functional.cross_entropy, nll_loss, log_softmax or
        softmax). It must stay finite for large logits (|z| over 1000): compute
        log softmax(z) = z - max(z) - log(sum(exp(z - max(z)))) per row. Save what backward needs.

    backward(ctx, grad_output):
        ``grad_output`` is a 0-d tensor. Return six gradients in input order,
        ``(None, grad_W1, grad_b1, grad_W2, grad_b2, None)``, layer by layer from the loss:

            dz = (softmax(z) - onehot(y)) / N * grad_output        (N, C)
            dL/dW2 = dz.T @ r   (C, H)       dL/db2 = dz summed over the batch (C,)
            dr = dz @ W2        (N, H)
            da = dr where a > 0, 0 elsewhere (relu'(0) = 0, as in PyTorch)
            dL/dW1 = da.T @ x   (H, D)       dL/db1 = da summed over the batch (H,)

    cross_entropy, nll_loss, log_softmax and softmax (under any alias, e.g. torch.softmax) may
    not be called in forward or backward: compute the softmax yourself, as in the softmax exercise.
    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, W1, b1, W2, b2, y):
        raise NotImplementedError("MLPLoss.forward: return the mean cross-entropy of the MLP's logits")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("MLPLoss.backward: return (None, grad_W1, grad_b1, grad_W2, grad_b2, None)")
