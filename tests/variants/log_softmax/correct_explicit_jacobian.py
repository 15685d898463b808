"""CORRECT: saves x, recomputes the softmax in backward and applies the full Jacobian I - 1 s^T per row with einsum."""

import torch


class LogSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        shifted = x - torch.amax(x, dim=-1, keepdim=True)
        log_norm = torch.log(torch.sum(torch.exp(shifted), dim=-1))
        ctx.save_for_backward(x)
        return shifted - log_norm[..., None]

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        e = torch.exp(x - torch.amax(x, dim=-1, keepdim=True))
        s = e / e.sum(dim=-1, keepdim=True)
        eye = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
        jac = eye - s.unsqueeze(-2)  # jac[..., i, j] = delta_ij - s_j
        return torch.einsum("...ij,...i->...j", jac, grad_output)
