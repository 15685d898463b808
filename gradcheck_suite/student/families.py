"""Operator families: what a "by hand" exercise forbids beyond its own `forbid:` list, derived from its reference.

The grader traces the reference once and, for each aten operator it sees that belongs to a family
below, forbids the whole family: layer norm's reference runs native_layer_norm, so group norm,
batch norm and the other normalizations are forbidden too (each would compute the answer). The
structural families count wherever the reference uses them; an activation's family only where the
activation is the whole exercise (mlp_loss's relu does not forbid relu to the student). Primitives
(mm, add, sum, exp, where...) are in no family, so a hand-written answer never meets one.
"""

from __future__ import annotations

from typing import Callable, Iterable

from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["ACTIVATIONS", "STRUCTURAL", "derived_forbid", "traced_operators"]

# family -> the aten operators (and torch functions, by the same names) in it
STRUCTURAL: dict[str, tuple[str, ...]] = {
    "normalization": (
        "layer_norm", "native_layer_norm", "batch_norm", "native_batch_norm", "_native_batch_norm_legit",
        "_batch_norm_impl_index", "cudnn_batch_norm", "miopen_batch_norm", "group_norm", "native_group_norm",
        "instance_norm", "rms_norm", "_fused_rms_norm",
    ),
    "convolution": (
        "convolution", "_convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
        "conv_transpose3d", "conv_tbc", "cudnn_convolution", "cudnn_convolution_transpose", "mkldnn_convolution",
        "miopen_convolution", "slow_conv3d", "slow_conv_dilated2d", "slow_conv_dilated3d", "slow_conv_transpose2d",
        "slow_conv_transpose3d", "thnn_conv2d", "_conv_depthwise2d", "_slow_conv2d_forward", "conv_depthwise3d",
    ),
    "pooling": (
        "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
        "max_pool3d_with_indices", "max_unpool2d", "max_unpool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "_adaptive_avg_pool2d",
        "_adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
        "fractional_max_pool2d", "fractional_max_pool3d", "lp_pool1d", "lp_pool2d", "mkldnn_max_pool2d",
    ),
    "softmax and cross-entropy": (
        "softmax", "_softmax", "log_softmax", "_log_softmax", "cross_entropy", "cross_entropy_loss", "nll_loss",
        "nll_loss_forward", "nll_loss_nd", "nll_loss2d", "nll_loss2d_forward", "special_softmax",
        "special_log_softmax", "_safe_softmax",
    ),
}
ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "gelu": ("gelu",),
    "elu": ("elu", "selu", "celu"),
    "leaky_relu": ("leaky_relu", "prelu", "_prelu_kernel", "rrelu", "rrelu_with_noise"),
    "silu": ("silu",),
    "mish": ("mish",),
    "hardtanh": ("hardtanh", "relu6"),
    "softplus": ("softplus",),
    "hardswish": ("hardswish", "hardsigmoid"),
    "log_sigmoid": ("log_sigmoid", "log_sigmoid_forward", "logsigmoid"),
    "sigmoid": ("sigmoid",),
    "tanh": ("tanh",),
    "relu": ("relu", "threshold"),
}
# operators that only move data around: an activation exercise's reference may run them too
_LAYOUT = {"view", "reshape", "expand", "clone", "detach", "_to_copy", "alias", "empty_like", "contiguous",
           "lift_fresh", "t", "transpose", "unsqueeze", "squeeze", "copy_", "empty"}


def _family(op: str, table: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    return next((members for members in table.values() if op in members), None)


def derived_forbid(traced: Iterable[str]) -> tuple[str, ...]:
    """The torch names to forbid, given the aten operators a reference ran (overload packet names)."""
    ops = set(traced)
    names: set[str] = set()
    for op in ops:
        members = _family(op, STRUCTURAL)
        if members:
            names.update(members)
    activations = {_family(op, ACTIVATIONS) for op in ops - _LAYOUT}
    if len(activations) == 1:  # the activation is the whole exercise
        (members,) = activations
        names.update(members or ())
    return tuple(f"torch.{name}" for name in sorted(names))


class _Recorder(TorchDispatchMode):
    """The aten operators a call runs, by overload packet name."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False

    def __init__(self) -> None:
        super().__init__()
        self.ops: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def traced_operators(function: Callable[[], object]) -> set[str]:
    """The aten operators `function()` runs."""
    recorder = _Recorder()
    with recorder:
        function()
    return recorder.ops
