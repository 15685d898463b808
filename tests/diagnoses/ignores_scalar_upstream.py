"""BUG: never multiplies by the 0-d grad_output of the loss. Diagnosis: grad_output ignored (not a constant factor).

Exercise: one_layer_net.
"""

import torch


class OneLayerNet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, y):
        z = torch.matmul(x, w) + b
        ctx.save_for_backward(x, y, z)
        loss = z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
        return loss.mean()

    @staticmethod
    def backward(ctx, grad_output):
        x, y, z = ctx.saved_tensors
        grad_z = (torch.sigmoid(z) - y) / z.numel()
        return None, torch.outer(x, grad_z), grad_z, None
