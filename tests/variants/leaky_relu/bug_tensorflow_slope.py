"""BUG: ignores the negative_slope it is given and uses 0.2 (TensorFlow's tf.nn.leaky_relu default), in forward and backward. Caught by: forward"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, 0.2 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, 0.2 * grad_output), None
