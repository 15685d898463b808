"""Exercise: one step of a tanh RNN, as torch.nn.RNNCell, with a hand-written backward pass."""

import torch


class RNNCell(torch.autograd.Function):
    """One step of an Elman RNN with tanh, in torch.nn.RNNCell's layout:

        h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)

    Shapes:
        x: (N, D)       a batch of N inputs of size D
        h: (N, H)       the previous hidden state
        W_ih: (H, D)    input-to-hidden weights (torch.nn.RNNCell.weight_ih)
        W_hh: (H, H)    hidden-to-hidden weights (torch.nn.RNNCell.weight_hh)
        b_ih: (H,)      input-to-hidden bias
        b_hh: (H,)      hidden-to-hidden bias
        h': (N, H)      the new hidden state, the output

    forward(ctx, x, h, W_ih, W_hh, b_ih, b_hh):
        Return h' (not torch.nn.RNNCell or torch.rnn_tanh_cell; torch.tanh is fine).
        Save what backward needs. Do not modify the inputs in place.

    backward(ctx, grad_output):
        ``grad_output`` is dL/dh', shape (N, H). With a the pre-activation inside the tanh,
        tanh'(a) = 1 - tanh(a)**2 = 1 - h'**2, so

            da = grad_output * (1 - h'**2)                        (N, H)
            dL/dx = da @ W_ih       (N, D)      dL/dh = da @ W_hh       (N, H)
            dL/dW_ih = da.T @ x     (H, D)      dL/dW_hh = da.T @ h     (H, H)
            dL/db_ih = dL/db_hh = da summed over the batch        (H,)

        Return the six gradients in input order,
        ``(grad_x, grad_h, grad_W_ih, grad_W_hh, grad_b_ih, grad_b_hh)``, each of exactly
        its input's shape.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, h, W_ih, W_hh, b_ih, b_hh):
        # BEGIN SOLUTION: RNNCell.forward: return h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        h_next = torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        ctx.save_for_backward(x, h, W_ih, W_hh, h_next)
        return h_next
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: RNNCell.backward: return (grad_x, grad_h, grad_W_ih, grad_W_hh, grad_b_ih, grad_b_hh)
        x, h, W_ih, W_hh, h_next = ctx.saved_tensors
        # tanh'(a) from the output: 1 - tanh(a)^2 (exactly 0 where the tanh saturates).
        da = grad_output * (1 - h_next * h_next)
        grad_b = da.sum(dim=0)
        return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h, grad_b, grad_b.clone()
        # END SOLUTION
