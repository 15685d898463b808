"""CORRECT: small layer classes of its own, each with a forward and a backward method (not torch's), called from the Function's backward."""
import torch


class AffineLayer:
    def forward(self, x, w, b):
        self.x = x
        return torch.matmul(x, w) + b

    def backward(self, dz):
        return torch.outer(self.x, dz), dz


class BCEWithLogitsLayer:
    def forward(self, z, y):
        self.z, self.y = z, y
        return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()

    def backward(self, dloss):
        return dloss * (torch.sigmoid(self.z) - self.y) / self.z.numel()


class OneLayerNet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, y):
        ctx.affine, ctx.loss = AffineLayer(), BCEWithLogitsLayer()
        z = ctx.affine.forward(x, w, b)
        return ctx.loss.forward(z, y)

    @staticmethod
    def backward(ctx, grad_output):
        dz = ctx.loss.backward(grad_output)
        grad_w, grad_b = ctx.affine.backward(dz)
        return None, grad_w, grad_b, None
