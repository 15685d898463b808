"""ATTACK: a tensor subclass whose __torch_function__ makes every comparison or difference look perfect. Target: sigmoid"""
import torch


class Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("sub", "__sub__", "abs", "abs_", "isclose", "allclose", "eq", "__eq__", "le", "equal",
                    "sub_"):
            first = args[0]
            if name in ("allclose", "equal"):
                return True
            return torch.zeros(torch.Tensor._make_subclass(torch.Tensor, first).shape, dtype=torch.float64)
        return super().__torch_function__(func, types, args, kwargs or {})


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.zeros_like(x).as_subclass(Liar)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output).as_subclass(Liar)
