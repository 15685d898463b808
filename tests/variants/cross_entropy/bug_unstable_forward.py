"""BUG: no max subtraction, log(sum(exp(logits))) - logits[n, target[n]], so exp(1000) = inf. Caught by: edge_cases"""

import torch


class CrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target):
        lse = torch.log(torch.exp(logits).sum(dim=1))
        rows = torch.arange(logits.shape[0], device=logits.device)
        ctx.save_for_backward(logits, target)
        return (lse - logits[rows, target]).mean()

    @staticmethod
    def backward(ctx, grad_output):
        logits, target = ctx.saved_tensors
        e = torch.exp(logits - logits.amax(dim=1, keepdim=True))
        grad = e / e.sum(dim=1, keepdim=True)
        grad[torch.arange(logits.shape[0], device=grad.device), target] -= 1
        return grad_output * grad / logits.shape[0], None
