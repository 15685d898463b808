"""CORRECT: torch.addmm in forward, torch.mm in backward; the cache is a dict."""

import torch


def affine_forward(x, w, b):
    return torch.addmm(b, x, w), {"x": x, "w": w}


def affine_backward(dout, cache):
    dx = torch.mm(dout, cache["w"].t())
    dw = torch.mm(cache["x"].t(), dout)
    db = dout.sum(dim=0)
    return dx, dw, db
