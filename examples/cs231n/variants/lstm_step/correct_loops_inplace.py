"""CORRECT: a loop over the four gates, `from builtins import range`, the stable sigmoid inlined, and dnext_c written in place (the student's own copy)."""

from builtins import range

import numpy as np


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    N, H = prev_h.shape
    a = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    gates = []
    for k in range(4):
        block = a[:, k * H:(k + 1) * H]
        gates.append(np.tanh(block) if k == 3 else 0.5 * (1 + np.tanh(0.5 * block)))  # sigmoid, stably
    i, f, o, g = gates
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "gates": gates, "next_c": next_c}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    i, f, o, g = cache["gates"]
    tanh_c = np.tanh(cache["next_c"])
    dnext_c += dnext_h * o * (1 - tanh_c * tanh_c)  # in place: dnext_c is now dL/dnext_c in total
    local = [dnext_c * g, dnext_c * cache["prev_c"], dnext_h * tanh_c, dnext_c * i]
    slopes = [i * (1 - i), f * (1 - f), o * (1 - o), 1 - g * g]
    da = np.zeros((dnext_h.shape[0], 4 * dnext_h.shape[1]), dtype=dnext_h.dtype)
    H = dnext_h.shape[1]
    for k in range(4):
        da[:, k * H:(k + 1) * H] = local[k] * slopes[k]
    dx = np.dot(da, cache["Wx"].T)
    dprev_h = np.dot(da, cache["Wh"].T)
    dWx = np.dot(cache["x"].T, da)
    dWh = np.dot(cache["prev_h"].T, da)
    return dx, dprev_h, dnext_c * f, dWx, dWh, np.sum(da, axis=0)
