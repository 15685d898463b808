"""The trusted references of the CS231n example course: torch functions with CS231n's signatures."""

import torch
import torch.nn.functional as F


def affine_forward(x, w, b):
    """x (N, d_1, ..., d_k) reshaped to (N, D), times w (D, M), plus b (M,)."""
    return x.reshape(x.shape[0], -1) @ w + b


def relu_forward(x):
    return torch.relu(x)


def softmax_loss(x, y):
    return F.cross_entropy(x, y)


def svm_loss(x, y):
    """Mean over rows of sum_{j != y} max(0, x_j - x_y + 1)."""
    correct = x.gather(1, y[:, None])
    margins = (x - correct + 1).clamp(min=0).scatter(1, y[:, None], 0.0)
    return margins.sum() / x.shape[0]


def conv_forward_naive(x, w, b, conv_param):
    return F.conv2d(x, w, b, stride=conv_param["stride"], padding=conv_param["pad"])


def max_pool_forward_naive(x, pool_param):
    return F.max_pool2d(x, (pool_param["pool_height"], pool_param["pool_width"]), pool_param["stride"])


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return torch.tanh(x @ Wx + prev_h @ Wh + b)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """CS231n's gate order: a = x Wx + prev_h Wh + b split into i, f, o, g (H columns each).
    Returns (next_h, next_c)."""
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]), torch.sigmoid(a[:, 2 * H:3 * H])
    g = torch.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    return o * torch.tanh(next_c), next_c


def layernorm_forward(x, gamma, beta, ln_param):
    return F.layer_norm(x, (x.shape[1],), gamma, beta, eps=ln_param.get("eps", 1e-5))


def batchnorm_forward(x, gamma, beta, bn_param):
    """CS231n's batchnorm. Training mode: normalised with the batch's mean and biased variance, and
    bn_param's running averages updated as running = momentum * running + (1 - momentum) * batch
    statistic (the biased variance too; torch's own running_var takes the unbiased one and the
    other momentum, hence no running stats handed to F.batch_norm). Test mode: normalised with the
    running mean and variance given, bn_param left as it was."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    zeros = torch.zeros(x.shape[1], dtype=x.dtype)
    running_mean = bn_param.get("running_mean", zeros).to(x.dtype)
    running_var = bn_param.get("running_var", zeros).to(x.dtype)
    if bn_param["mode"] == "test":
        return F.batch_norm(x, running_mean, running_var, gamma, beta, training=False, eps=eps)
    mean, var = x.detach().mean(dim=0), x.detach().var(dim=0, unbiased=False)
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


def dropout_forward(x, dropout_param):
    """Inverted dropout with p the probability of KEEPING a unit; test mode returns x. Randomized in
    train mode: the exercise grades it by properties, and this reference serves for shapes, test mode
    and validate's dry run."""
    if dropout_param["mode"] == "test":
        return x.clone()
    return F.dropout(x, p=1 - dropout_param["p"], training=True)
