"""How a student's file provides the operation: the exercise's ``student.style``.

- ``autograd_function``: a ``torch.autograd.Function`` subclass (``forward(ctx, *inputs)``,
  ``backward(ctx, grad_output)``).
- ``functional``: two functions, ``forward(*inputs) -> (out, cache)`` and
  ``backward(grad_out, cache) -> grads`` (one per input, None allowed), on torch tensors (CS231n style).
- ``numpy``: the same two functions on NumPy arrays; the harness converts tensors in and arrays out.
- ``loss``: one function on NumPy arrays, ``loss(*inputs) -> (loss, gradients)`` (CS231n's
  ``softmax_loss(x, y) -> (loss, dx)``): the loss and its gradients, one per differentiable input.

With several outputs (the exercise's ``outputs:``) the forward returns them all, in order:
``forward(ctx, ...) -> (h, c)`` and ``backward(ctx, grad_h, grad_c)`` for a Function,
``forward(...) -> (h, c, cache)`` and ``backward(dh, dc, cache)`` for the function styles (CS231n's
``lstm_step_forward`` / ``lstm_step_backward``). A non-differentiable output gets no upstream
gradient: a Function's backward receives zeros of its shape there (PyTorch's
``ctx.mark_non_differentiable``), a function style's backward is not given one at all.

The two function styles are wrapped in a ``torch.autograd.Function`` (``function_adapter``) that
keeps the cache on ctx, so that ``StudentOp``, every check, finite differences, the in-place guards
and the sandbox worker grade them exactly as they grade a Function."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, cast

import torch

from ..exercise.model import CallParams
from ..vocabulary import CheckName
from .failures import ProtocolViolation, Stub, stub_return

if TYPE_CHECKING:
    from ..exercise.model import ExerciseSpec


AUTOGRAD_FUNCTION, FUNCTIONAL, NUMPY, LOSS = "autograd_function", "functional", "numpy", "loss"
ON_ARRAYS = (NUMPY, LOSS)


@dataclass(frozen=True)
class Style:
    """An exercise's student style, and how messages name the student's code."""

    kind: str = AUTOGRAD_FUNCTION
    class_name: str | None = None
    functions: tuple[str, str] = ("forward", "backward")
    outputs: tuple[tuple[str, bool], ...] = (("out", True),)  # the forward's outputs: (name, differentiable)
    side_outputs: tuple[str, ...] = ()  # dict-param entries (param.key) the forward writes, read after it

    @classmethod
    def of(cls, spec: ExerciseSpec) -> "Style":
        return cls(spec.student_style, spec.student_class, cast("tuple[str, str]", tuple(spec.student_functions)),
                   tuple((o.name, o.differentiable) for o in spec.outputs), tuple(s.path for s in spec.side_outputs))

    @classmethod
    def coerce(cls, value: "Style | str") -> "Style":
        """A Style as given, or the autograd_function style of a class name."""
        return value if isinstance(value, Style) else cls(AUTOGRAD_FUNCTION, value)

    def to_config(self) -> dict:
        """Plain data for the worker's configuration (see from_config)."""
        return {"kind": self.kind, "class": self.class_name, "functions": list(self.functions),
                "outputs": [[name, wanted] for name, wanted in self.outputs], "side_outputs": list(self.side_outputs)}

    @classmethod
    def from_config(cls, config: dict) -> "Style":
        outputs = tuple((str(name), bool(wanted)) for name, wanted in config.get("outputs", [["out", True]]))
        return cls(config["kind"], config["class"], tuple(config["functions"]), outputs,
                   tuple(str(path) for path in config.get("side_outputs", ())))

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.outputs)

    @property
    def differentiable_outputs(self) -> tuple[bool, ...]:
        return tuple(wanted for _, wanted in self.outputs)

    @property
    def name(self) -> str:
        if self.kind != AUTOGRAD_FUNCTION:
            return self.functions[0]
        assert self.class_name is not None  # the autograd_function style always names its class
        return self.class_name

    @property
    def entries(self) -> tuple[str, ...]:
        """The top-level names of the student's file this exercise grades: its class, or its two
        functions (a file may serve several exercises, each with its own)."""
        return (self.name,) if self.kind == AUTOGRAD_FUNCTION else tuple(dict.fromkeys(self.functions))

    @property
    def backward_name(self) -> str:
        """The function the source check treats as a backward (no autograd inside)."""
        return "backward" if self.kind == AUTOGRAD_FUNCTION else self.functions[1]

    @property
    def value_noun(self) -> str:
        """What the student's forward and backward return."""
        return "NumPy array" if self.kind in ON_ARRAYS else "tensor"

    @property
    def computes_with_torch(self) -> bool:
        """Whether the student's forward runs torch operators (that the operator trace must see)."""
        return self.kind not in ON_ARRAYS

    def phase(self, method: str) -> str:
        """'Linear.forward'; for the function styles the function itself: 'affine_forward', and
        'backward (differentiated)' -> 'affine_backward (differentiated)'."""
        if self.kind == AUTOGRAD_FUNCTION:
            return f"{self.class_name}.{method}"
        base, _, rest = method.partition(" ")
        name = dict(zip(("forward", "backward"), self.functions)).get(base, f"{self.name}.{base}")
        return f"{name} {rest}" if rest else name

    def signatures(self) -> str:
        """The two functions this style asks for, as a student reads them."""
        forward, backward = self.functions
        if self.kind == LOSS:
            return f"{forward}(*inputs) -> (loss, gradients), on NumPy arrays"
        arrays = "arrays" if self.kind == NUMPY else "tensors"
        outs = ", ".join(self.output_names) if len(self.outputs) > 1 else "out"
        douts = ", ".join(f"d{name}" for name, wanted in self.outputs if wanted) if len(self.outputs) > 1 else "dout"
        return f"{forward}(*inputs) -> ({outs}, cache) and {backward}({douts}, cache) -> gradients, on {arrays}"


def unsupported(spec: ExerciseSpec) -> str | None:
    """Why an exercise cannot be graded in its style: a problem of the exercise, not of the student."""
    if spec.student_style not in ON_ARRAYS:
        return None
    if importlib.util.find_spec("numpy") is None:
        return f"{spec.name} uses the numpy style, and NumPy is not installed here (pip install numpy)"
    if any(i.dtype == torch.bfloat16 for i in spec.inputs):
        return f"{spec.name} uses the numpy style, which cannot run in bfloat16 (NumPy has no bfloat16)"
    if CheckName.DOUBLE_BACKWARD in spec.checks:
        return (f"{spec.name} uses the numpy style, which has no double backward "
                "(autograd cannot differentiate a NumPy backward)")
    return None


# ----------------------------------------------------------------------------- the adapter

def function_adapter(forward: Callable, backward: Callable, style: Style) -> type[torch.autograd.Function]:
    """A Function whose forward calls the student's forward and keeps its cache on ctx, and
    whose backward calls the student's backward with that cache (on NumPy arrays, for the numpy
    style).

    The upstream gradient belongs to the student's backward: it gets its own copy, so that
    writing into it (``dx = dout; dx[x <= 0] = 0``, harmless in a NumPy network) is no error.
    A function that still returns what its stub did (None, ``(None, cache)``, a tuple of Nones)
    is "not implemented yet"."""
    if style.kind == NUMPY:
        call, output, gradients = _call_on_arrays, _to_tensor, _gradients_to_tensors
    else:
        call, output, gradients = _call_on_tensors, _as_given, _as_given

    count = len(style.outputs)
    wanted = style.differentiable_outputs

    class Adapter(torch.autograd.Function):
        takes_call_params = True  # StudentOp passes the exercise's params as one CallParams, last

        @staticmethod
        def forward(ctx, *inputs):
            params = inputs[-1] if inputs and isinstance(inputs[-1], CallParams) else CallParams()
            inputs = inputs[:-1] if params else inputs
            if style.kind == NUMPY:
                _dict_entries_as_arrays(params)
            *outs, ctx.cache = _outs_and_cache(call(forward, inputs, *params.args, **params.kwargs), style)
            ctx.like = [t.detach() if t.is_floating_point() else None for t in inputs]
            first = _first_float(inputs)
            if count == 1:
                return output(outs[0], first)
            converted = tuple(output(out, first) for out in outs)
            ctx.mark_non_differentiable(*(o for o, w in zip(converted, wanted) if not w and isinstance(o, torch.Tensor)))
            return converted

        @staticmethod
        def backward(ctx, *grad_outputs):
            # One upstream gradient per differentiable output, in order: a non-differentiable one
            # (indices, statistics) has none, so the student's backward is not given one.
            douts = [g.detach().clone() for g, w in zip(grad_outputs, wanted) if w]
            grads = call(backward, douts, ctx.cache)
            returned = stub_return(grads)
            if returned is not None:
                raise Stub(returned)
            return gradients(grads, ctx.like)

    Adapter.__name__ = Adapter.__qualname__ = style.name
    return Adapter


def loss_adapter(function: Callable, style: Style) -> type[torch.autograd.Function]:
    """A Function whose forward calls the student's loss function on NumPy arrays and returns its
    loss, keeping its gradients for backward, which scales them by the upstream gradient (a
    scalar): so the loss is checked against the reference's value and the gradients against
    autograd's gradient of the reference, with every check as for the other styles."""

    class Adapter(torch.autograd.Function):
        takes_call_params = True  # as function_adapter's

        @staticmethod
        def forward(ctx, *inputs):
            params = inputs[-1] if inputs and isinstance(inputs[-1], CallParams) else CallParams()
            inputs = inputs[:-1] if params else inputs
            _dict_entries_as_arrays(params)
            result = _call_on_arrays(function, inputs, *params.args, **params.kwargs)
            loss, grads = _loss_and_gradients(result, style)
            like = [t.detach() if t.is_floating_point() else None for t in inputs]
            ctx.grads = _spread(grads, tuple(ctx.needs_input_grad[:len(inputs)]), like, style)
            first = _first_float(inputs)
            if isinstance(loss, (int, float)) and not isinstance(loss, bool):
                return torch.tensor(float(loss), dtype=first.dtype, device=first.device)
            return _to_tensor(loss, first)

        @staticmethod
        def backward(ctx, grad_output):
            # A gradient that is no tensor is passed on as it is, for StudentOp to name.
            return tuple(g * grad_output if isinstance(g, torch.Tensor) else g for g in ctx.grads)

    Adapter.__name__ = Adapter.__qualname__ = style.name
    return Adapter


def _loss_and_gradients(result, style: Style) -> tuple:
    if result is None:
        raise Stub("None")
    if isinstance(result, (tuple, list)) and len(result) == 2:
        if result[0] is None:
            raise Stub("(None, None)" if result[1] is None else "(None, gradients)")
        return tuple(result)
    what = f"a {type(result).__name__} of {len(result)} values" if isinstance(result, (tuple, list)) \
        else type(result).__name__
    raise ProtocolViolation(f"{style.phase('forward')} returned {what}, expected a pair (loss, gradients)")


def _spread(grads, wanted: tuple[bool, ...], like: list, style: Style) -> tuple:
    """The loss function's gradients as one entry per input (None where none is wanted): one array
    for the one differentiable input, or a tuple with one per differentiable input."""
    positions = [i for i, w in enumerate(wanted) if w]
    given = grads if isinstance(grads, tuple) else (grads,)
    if len(given) != len(positions):
        raise ProtocolViolation(f"{style.phase('forward')} returned {len(given)} gradient"
                                f"{'s' if len(given) != 1 else ''}, expected {len(positions)}: one per "
                                "differentiable input, in order")
    spread: list = [None] * len(wanted)
    for position, grad in zip(positions, given):
        spread[position] = _to_tensor(grad, like[position])
    return tuple(spread)


def _call_on_tensors(function: Callable, tensors, *rest, **params):
    return function(*tensors, *rest, **params)


def _call_on_arrays(function: Callable, tensors, *rest, **params):
    """Call a NumPy function with the tensors as arrays. A CPU tensor's array is a view of its
    memory (no copy); another device's is a copy, and what the function changed in it is copied
    back. Either way an array changed in place changes the tensor, where the in-place guards see it."""
    import numpy as np  # only the numpy style needs NumPy installed

    arrays = [tensor.detach().numpy() if tensor.device.type == "cpu" else tensor.detach().cpu().numpy()
              for tensor in tensors]
    copies = [None if tensor.device.type == "cpu" else array.copy() for tensor, array in zip(tensors, arrays)]
    result = function(*arrays, *rest, **params)
    for tensor, array, copy in zip(tensors, arrays, copies):
        if copy is not None and not np.array_equal(array, copy, equal_nan=array.dtype.kind in "fc"):
            tensor.detach().copy_(torch.from_numpy(array))
    return result


def _dict_entries_as_arrays(params: CallParams) -> None:
    """The tensors inside the params' dicts (bn_param's running_mean) as NumPy arrays, in place: the
    dicts are this call's own copies (StudentOp reads them again after the call)."""
    for value in (*params.args, *params.kwargs.values()):
        if isinstance(value, dict):
            for key, entry in value.items():
                if isinstance(entry, torch.Tensor):
                    value[key] = entry.detach().cpu().numpy().copy()


def _first_float(inputs) -> torch.Tensor:
    return next((t for t in inputs if t.is_floating_point()), inputs[0])


def _outs_and_cache(result, style: Style) -> tuple:
    """(out_1, ..., out_k, cache) as the student's forward returned it, k the exercise's outputs."""
    count = len(style.outputs)
    if result is None:
        raise Stub("None")
    if isinstance(result, (tuple, list)) and len(result) == count + 1:
        if any(out is None for out in result[:count]):
            raise Stub("(None, cache)" if count == 1 else f"({', '.join(['None'] * count)}, cache)")
        return tuple(result)
    what = f"a {type(result).__name__} of {len(result)} values" if isinstance(result, (tuple, list)) \
        else type(result).__name__
    if count == 1:
        raise ProtocolViolation(f"{style.phase('forward')} returned {what}, expected a pair (out, cache): "
                                "the output, and whatever backward needs")
    raise ProtocolViolation(f"{style.phase('forward')} returned {what}, expected ({', '.join(style.output_names)}, "
                            f"cache): the {count} outputs, and whatever backward needs")


def _as_given(value, *_):
    return value


def _to_tensor(value, like: torch.Tensor | None):
    """An array (or NumPy scalar) as a tensor of the same shape, on `like`'s device; anything else
    is left as it is, for the caller's checks to name. A float64 array where `like` has a lower
    floating dtype (NumPy's default dtype in a float32 exercise) is cast to it; any other dtype
    is kept, for the dtype check to name (float16 for a float32 input loses precision)."""
    import numpy as np  # only the numpy style needs NumPy installed

    if not isinstance(value, (np.ndarray, np.generic)):
        return value
    array = np.asarray(value)
    if not array.flags.writeable or any(step < 0 for step in array.strides):
        array = array.copy()  # torch.from_numpy needs writable memory and non-negative strides
    tensor = torch.from_numpy(array)
    if like is None:
        return tensor
    if tensor.dtype == torch.float64 and like.is_floating_point() and like.dtype != torch.float64:
        tensor = tensor.to(like.dtype)
    return tensor.to(like.device)


def _gradients_to_tensors(grads, like: list[torch.Tensor | None]) -> tuple:
    """Each returned array as a tensor, cast and placed like the input it is the gradient of. A
    tuple holds one gradient per input, and so does a list of arrays; a list without any array is
    one gradient of the wrong type, for StudentOp to name."""
    if isinstance(grads, tuple) or (isinstance(grads, list) and any(g is None or _is_array(g) for g in grads)):
        return tuple(_to_tensor(g, like[i] if i < len(like) else None) for i, g in enumerate(grads))
    return (_to_tensor(grads, like[0] if like else None),)


def _is_array(value) -> bool:
    import numpy as np

    return isinstance(value, (np.ndarray, np.generic, torch.Tensor))
