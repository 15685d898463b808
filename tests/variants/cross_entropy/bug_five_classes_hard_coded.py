"""BUG: the one-hot of the targets has 5 columns, the class count of the exercise when C was fixed, instead of logits.shape[1]. Caught by: backward (logits)

Right only when C == 5; any other class count gives a gradient of the wrong shape.
"""

import torch
import torch.nn.functional as F


class CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        z = logits - logits.max(dim=1, keepdim=True).values
        log_p = z - z.exp().sum(dim=1, keepdim=True).log()
        ctx.save_for_backward(log_p, target)
        return -log_p[torch.arange(logits.shape[0]), target].mean()

    @staticmethod
    def backward(ctx, grad_output):
        log_p, target = ctx.saved_tensors
        onehot = F.one_hot(target, num_classes=5).to(log_p.dtype)
        return grad_output * (log_p.exp() - onehot) / log_p.shape[0], None
