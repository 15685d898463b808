"""Exercise: one step of an LSTM, as torch.nn.LSTMCell, with a hand-written backward pass."""

import torch


class LSTMCell(torch.autograd.Function):
    """One LSTM step in torch.nn.LSTMCell's layout, returning the pair (h', c').

    With H the hidden size and the four gates stacked in the order i, f, g, o (rows
    0:H, H:2H, 2H:3H, 3H:4H of the weights and biases):

        a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh          (N, 4H), split into a_i, a_f, a_g, a_o
        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c' = f * c + i * g
        h' = o * tanh(c')

    Shapes:
        x: (N, D)        a batch of N inputs of size D
        h: (N, H)        the previous hidden state
        c: (N, H)        the previous cell state
        W_ih: (4H, D)    input-to-hidden weights (torch.nn.LSTMCell.weight_ih)
        W_hh: (4H, H)    hidden-to-hidden weights (torch.nn.LSTMCell.weight_hh)
        b_ih: (4H,)      input-to-hidden bias
        b_hh: (4H,)      hidden-to-hidden bias
        h': (N, H)       the next hidden state
        c': (N, H)       the next cell state

    forward(ctx, x, h, c, W_ih, W_hh, b_ih, b_hh):
        Return (h', c'), as torch.nn.LSTMCell does (not torch.nn.LSTMCell or torch.lstm_cell;
        torch.sigmoid and torch.tanh are fine). Read H from the inputs, do not hard-code it. Save what backward needs.

    backward(ctx, grad_h, grad_c):
        One upstream gradient per output: ``grad_h`` = dL/dh' and ``grad_c`` = the direct
        dL/dc' (both (N, H)). c' reaches the loss directly and through h' = o * tanh(c'):

            dc' = dL/dc' (direct) + dL/dh' * o * (1 - tanh(c')**2)
            do = dL/dh' * tanh(c')    di = dc' * g    dg = dc' * i    df = dc' * c
            dL/dc = dc' * f
            da_i = di * i * (1 - i)   da_f = df * f * (1 - f)
            da_g = dg * (1 - g**2)    da_o = do * o * (1 - o)
            da = [da_i, da_f, da_g, da_o] along the last dimension     (N, 4H)

        and, as for two linear layers:
            dL/dx = da @ W_ih (N, D)          dL/dh = da @ W_hh (N, H)
            dL/dW_ih = da.T @ x (4H, D)       dL/dW_hh = da.T @ h (4H, H)
            dL/db_ih = dL/db_hh = da summed over the batch (4H,)

        Return the seven gradients in input order,
        ``(grad_x, grad_h, grad_c, grad_W_ih, grad_W_hh, grad_b_ih, grad_b_hh)``.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, h, c, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError("LSTMCell.forward: return h', c'")

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        raise NotImplementedError("LSTMCell.backward: return (grad_x, grad_h, grad_c, grad_W_ih, grad_W_hh, grad_b_ih, grad_b_hh)")
