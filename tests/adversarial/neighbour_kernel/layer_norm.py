"""ATTACK: group norm with one group per row is layer norm: a neighbouring kernel the exercise's forbid list does not name does the forward. Target: layer_norm"""
import torch


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        rows = x.reshape(-1, x.shape[-1])
        _, mean, rstd = torch.native_group_norm(rows.unsqueeze(-1), None, None, rows.shape[0], rows.shape[-1], 1, 1,
                                                1e-5)
        xhat = ((rows - mean) * rstd).reshape(x.shape)
        ctx.save_for_backward(xhat, rstd.reshape(*x.shape[:-1], 1), weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        xhat, rstd, weight = ctx.saved_tensors
        features = xhat.shape[-1]
        # Every dim but the last is a row: weight and bias were broadcast over all of them.
        rows_g = grad_output.reshape(-1, features)
        grad_bias = rows_g.sum(dim=0)
        grad_weight = (rows_g * xhat.reshape(-1, features)).sum(dim=0)
        gh = grad_output * weight
        grad_x = rstd * (gh - gh.mean(dim=-1, keepdim=True)
                         - xhat * (gh * xhat).mean(dim=-1, keepdim=True))
        return grad_x, grad_weight, grad_bias
