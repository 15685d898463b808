"""CORRECT: the PyTorch tutorial's LinearFunction, adapted to w of shape (D_in, D_out): parameters named input and weight, __all__, and a self-test under __main__ that calls the forbidden function and gradcheck."""
import torch
from torch.autograd import Function

__all__ = ["Linear"]


# Inherit from Function
class Linear(Function):

    # Note that forward, setup_context, and backward are @staticmethods
    @staticmethod
    def forward(ctx, input, weight, bias):
        output = input.mm(weight)
        output += bias.unsqueeze(0).expand_as(output)
        ctx.save_for_backward(input, weight, bias)
        return output

    # This function has only a single output, so it gets only one gradient
    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight.t())
        if ctx.needs_input_grad[1]:
            grad_weight = input.t().mm(grad_output)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


if __name__ == "__main__":
    from torch.autograd import gradcheck

    x = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
    w = torch.randn(3, 2, dtype=torch.double, requires_grad=True)
    b = torch.randn(2, dtype=torch.double, requires_grad=True)
    torch.testing.assert_close(Linear.apply(x, w, b), torch.nn.functional.linear(x, w.t(), b))
    print("gradcheck:", gradcheck(Linear.apply, (x, w, b), eps=1e-6, atol=1e-4))
