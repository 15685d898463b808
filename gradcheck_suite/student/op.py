"""The student's op in this process: their autograd.Function called the way PyTorch calls it.

Checks call the student only through ``StudentOpLike``, implemented here by ``StudentOp`` and, in a
sandboxed worker, by ``sandbox.supervisor.RemoteOp``."""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, cast

import torch

from ..exercise.model import CallParams  # re-exported: the sandbox binds params through student/
from ..numerics.central_differences import BatchedForward
from ..numerics.reference_eval import MISSING, project, read_entry
from .failures import ProtocolViolation, Stub, StudentCallError, located, stub_return
from .guards import CallWatch, InputSnapshot, OpTrace, guards_switched_off
from .memory import RunKeeper

if TYPE_CHECKING:
    from .styles import Style

# The runs a student's op in this process keeps for later checks: as many as a worker keeps, while
# the process has grown by less than a gigabyte (a forward that saves much would otherwise take the
# student's machine's memory).
KEPT_RUNS = 64
KEPT_GROWTH = 1 << 30

__all__ = ["CallParams", "ForwardRun", "StudentOp", "StudentOpLike", "non_contiguous_copy", "second_order"]


class _PlainContext:
    """A stand-in ctx for calling forward outside autograd (finite differences, vmap)."""

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_dirty(self, *args):
        pass

    def mark_non_differentiable(self, *args):
        pass

    def set_materialize_grads(self, value):
        pass


@dataclass
class ForwardRun:
    """One call of the student's forward, kept for the backward that continues from it."""

    inputs: list[torch.Tensor]
    outputs: tuple[torch.Tensor, ...]
    node: object  # the ctx PyTorch built (out.grad_fn), or the worker's id of the run
    input_values: dict  # copies of the inputs' values, known unchanged by forward
    side: dict[str, torch.Tensor | str] = field(default_factory=dict)  # side outputs (param.key) after the call
    kept: bool = False  # kept for a later check's backward (StudentOp.holds)

    @property
    def output(self) -> torch.Tensor:
        """The forward's first output (its only one, in an exercise with one output)."""
        return self.outputs[0]


@dataclass
class PlannedCall:
    """A call a check will make (checks.plans): a forward of `op` (the op with the trial's params)
    on `inputs` (one to `keep` for a later check, or not); with `points`, the batched forward of
    `op` at those points (`inputs` fixed, the flat vector laid out as `layout`); or a backward for
    `grad_outputs`, with `backward_of` the index of an earlier planned forward, of that forward's
    run, or of `run`, a run an earlier check kept."""

    op: "StudentOpLike | None" = None
    inputs: Sequence[torch.Tensor] = ()
    keep: bool = False
    backward_of: int | None = None
    run: ForwardRun | None = None
    grad_outputs: Sequence[torch.Tensor | None] = ()
    points: torch.Tensor | None = None
    layout: Sequence[tuple[int, torch.Size]] = ()


class StudentOpLike(Protocol):
    """The student's operation as every check calls it, in this process (StudentOp) or in a
    sandboxed worker (sandbox.supervisor.RemoteOp). A forward returns its outputs as a tuple and
    backward takes one upstream gradient per output."""

    name: str
    answers_ahead: bool  # whether prefetch() saves anything (a worker's round trips)

    @property
    def notes(self) -> list[str]:
        """What makes the submission one for a person to review, noticed while it ran."""

    def phase(self, method: str) -> str:
        """How messages name a call of the student's code: 'Linear.forward', 'affine_backward'."""

    def load(self) -> None:
        """Make the op ready to call (a worker loads the student's file); StudentCodeError if it cannot."""

    def with_params(self, params: CallParams) -> "StudentOpLike":
        """The same op, its forward given these non-tensor arguments after the tensors."""

    def forward(self, inputs: Sequence[torch.Tensor], keep: bool = False) -> ForwardRun:
        """The student's forward on `inputs`, recorded for a later backward; with `keep`, for a
        later check's backward too (held as long as holds() says)."""

    def holds(self, run: ForwardRun) -> bool:
        """Whether a backward of this forward run can still be asked for."""

    def backward(self, run: ForwardRun, grad_outputs: Sequence[torch.Tensor | None]) -> list[torch.Tensor | None]:
        """The student's raw gradients, one per forward input, for one upstream gradient per output
        (None for a non-differentiable output: it gets none)."""

    def batched_forward(self, fixed: Sequence[torch.Tensor],
                        layout: Sequence[tuple[int, torch.Size]]) -> BatchedForward:
        """The forward as a function of the flat vector of the inputs in `layout`, for central differences."""

    def prefetch(self, plan: Sequence[PlannedCall]) -> None:
        """Told the calls a check will make next, in order: a worker computes them in one round trip
        (an answer serves only the identical call); in this process, nothing to do."""

    def second_order(self, inputs: Sequence[torch.Tensor], upstream: torch.Tensor,
                     directions: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Second derivatives through the student's backward (the double_backward check)."""


class StudentOp:
    """The student's Function behind one interface: forward, backward, and a pure forward."""

    answers_ahead = False  # each call costs what it costs: nothing to gain from knowing it ahead

    def __init__(self, function: type[torch.autograd.Function], input_names: Sequence[str],
                 differentiable: Sequence[bool], path: Path, forbid: Sequence[str] = (), audit: bool = False,
                 style: Style | None = None, keep_growth: float | None = KEPT_GROWTH):
        """`forbid`: dotted names of functions the student's forward and backward may not call.
        `audit` (autograder workers): also note a forward whose operators the trace did not see.
        `style`: how messages name the student's code (styles.Style); by default as a Function's methods.
        `keep_growth`: the bytes this process may grow by while forward runs are kept (RunKeeper;
        None: no bound but KEPT_RUNS)."""
        self.function = function
        self.style = style
        self.value_noun = style.value_noun if style is not None else "tensor"
        self.outputs = style.outputs if style is not None else (("out", True),)  # (name, differentiable)
        self.forbid = tuple(forbid)
        self.audit = audit
        self._notes: list[str] = []  # what makes the submission one for a person to review
        self.input_names = list(input_names)
        self.differentiable = list(differentiable)
        self.path = path
        self.name = function.__name__
        self._new_style = function.setup_context is not torch.autograd.Function.setup_context
        self._batched: BatchedForward | None = None
        self.params = CallParams()
        self._keeper = RunKeeper(KEPT_RUNS, keep_growth)  # shared by the views with_params makes

    def with_params(self, params: CallParams) -> "StudentOp":
        """A view of this op whose every forward also gets `params` (its notes are shared)."""
        bound = copy.copy(self)
        bound.params, bound._batched = params, None
        return bound

    def _with_params(self, tensors: Sequence, ctx: object = None, fresh: CallParams | None = None) -> tuple:
        """The tensors and the params, all positional as Function.apply needs them (it passes no
        keyword arguments to forward): keywords bound by the student's forward's signature, or,
        for the function styles' adapter, the params as one value that it unpacks. Fresh copies
        (or `fresh`, the caller's), so that a forward writing into a dict (batchnorm's running
        means) changes no other call's."""
        if not self.params:
            return tuple(tensors)
        fresh = copy.deepcopy(self.params) if fresh is None else fresh
        if getattr(self.function, "takes_call_params", False):
            return (*tensors, fresh)
        lead = () if self._new_style else (ctx,)
        bound = inspect.signature(self.function.forward).bind(*lead, *tensors, *fresh.args, **fresh.kwargs)
        return tuple(bound.args[len(lead):])

    def phase(self, method: str) -> str:
        """How messages name a call of the student's code: 'Linear.forward', 'affine_backward'."""
        return self.style.phase(method) if self.style is not None else f"{self.name}.{method}"

    def forward(self, inputs: Sequence[torch.Tensor], keep: bool = False) -> ForwardRun:
        """Run forward through Function.apply, the differentiable inputs as leaves requiring grad;
        with `keep`, marked as one a later check may continue, while there is room (KEPT_RUNS)."""
        # detach() keeps the caller's strides (clone() would make strided views contiguous).
        leaves = [t.detach().requires_grad_(d) for t, d in zip(inputs, self.differentiable)]
        snapshot = InputSnapshot(dict(zip(self.input_names, leaves)))
        fresh = copy.deepcopy(self.params) if self.params else self.params  # the student's copy, read for side outputs
        output, watch, trace = self._guarded(
            "forward", lambda: self.function.apply(*self._with_params(leaves, fresh=fresh)))
        if watch.violations:
            raise ProtocolViolation(
                f"{self.phase('forward')} used autograd ({'; '.join(watch.violations)}): autograd is not allowed "
                "anywhere in this exercise, and a graph built in the forward would compute the backward's answer")
        first = output[0] if isinstance(output, tuple) and output else output
        if self.audit and trace.ops == 0 and isinstance(first, torch.Tensor) and not _aliases(first, leaves):
            note = (f"{self.phase('forward')} returned a new tensor without any torch operation the grader "
                    "could see (was the grader's operator trace switched off?)")
            if note not in self._notes:
                self._notes.append(note)
        changed = snapshot.changed()
        if changed:
            raise ProtocolViolation(
                f"{self.phase('forward')} modified its input {', '.join(changed)} in place; "
                "inputs must be left as they were (use out-of-place operations or work on a .clone())"
            )
        if output is None:
            raise StudentCallError(self.phase("forward"), Stub("None"), "")
        outputs = self._outputs_of(output)
        node = next((o.grad_fn for o, (_, wanted) in zip(outputs, self.outputs) if wanted and o.grad_fn is not None),
                    outputs[0].grad_fn)
        return ForwardRun(leaves, outputs, node, snapshot.values, self._side_outputs(fresh), keep and self._keeper.take())

    def _side_outputs(self, params: CallParams) -> dict[str, torch.Tensor | str]:
        """The entries the exercise's side outputs name, as the forward left them in its copy of the
        params (a tensor; MISSING; or the type name of something else)."""
        found: dict[str, torch.Tensor | str] = {}
        for path in self.style.side_outputs if self.style is not None else ():
            name, _, key = path.partition(".")
            try:
                holder = params.named(name)
            except KeyError:
                found[path] = MISSING
                continue
            value = read_entry(holder, key)
            found[path] = value.clone() if isinstance(value, torch.Tensor) else value
        return found

    def _outputs_of(self, output) -> tuple[torch.Tensor, ...]:
        """The forward's return value as its tuple of outputs, one per declared output."""
        if len(self.outputs) == 1:
            if not isinstance(output, torch.Tensor):
                raise ProtocolViolation(
                    f"{self.phase('forward')} returned {type(output).__name__}, expected a single {self.value_noun}")
            return (output,)
        names = ", ".join(name for name, _ in self.outputs)
        if not isinstance(output, (tuple, list)) or len(output) != len(self.outputs):
            what = f"a {type(output).__name__} of {len(output)} values" if isinstance(output, (tuple, list)) \
                else type(output).__name__
            raise ProtocolViolation(f"{self.phase('forward')} returned {what}, expected a tuple of "
                                    f"{len(self.outputs)} {self.value_noun}s ({names})")
        for (name, _), out in zip(self.outputs, output):
            if not isinstance(out, torch.Tensor):
                raise ProtocolViolation(f"{self.phase('forward')} returned a {type(out).__name__} as output "
                                        f"'{name}', expected a {self.value_noun}")
        return tuple(output)

    def holds(self, run: ForwardRun) -> bool:
        return run.kept

    @property
    def notes(self) -> list[str]:
        return self._notes

    def load(self) -> None:
        """Already loaded: the Function was given to the constructor."""

    def backward(self, run: ForwardRun, grad_outputs: Sequence[torch.Tensor | None]) -> list[torch.Tensor | None]:
        """Call the student's backward on PyTorch's ctx, grad mode off as in the engine.

        The raw gradients are returned exactly as the student produced them: the engine would
        silently sum a broadcastable gradient and cast its dtype, hiding mistakes.
        """
        if run.node is None or not hasattr(run.node, "saved_tensors"):
            raise ProtocolViolation(
                f"the output of {self.phase('forward')} is not connected to {self.name}'s backward "
                "(was it detached, or marked non-differentiable?)")
        # As the autograd engine does: a non-differentiable output's gradient is materialised as zeros.
        upstream = [torch.zeros_like(out) if grad is None else grad.detach()
                    for grad, out in zip(grad_outputs, run.outputs)]
        given = [grad.clone() for grad in upstream]  # the caller's tensors stay untouched, as the reference
        names = self._upstream_names()
        watched = dict(zip(self.input_names, run.inputs))
        watched.update(zip(names, given))
        snapshot = InputSnapshot(watched, copies={**run.input_values, **dict(zip(names, upstream))})
        with torch.no_grad():  # as the autograd engine calls a backward
            grads, spy, _ = self._guarded("backward", lambda: self.function.backward(run.node, *given))
        if spy.violations:
            raise ProtocolViolation(
                f"{self.phase('backward')} used autograd ({'; '.join(spy.violations)}) to get its answer; "
                "compute the gradients by hand from the saved tensors and grad_output")
        changed = snapshot.changed()
        if changed:
            raise ProtocolViolation(self._changed_in_backward(changed))
        returned = stub_return(grads)
        if returned is not None:
            raise StudentCallError(self.phase("backward"), Stub(returned), "")
        return self._normalise(grads)

    def _guarded(self, method: str, call: Callable[[], Any]) -> tuple[Any, CallWatch, OpTrace]:
        """`call()` (the student's forward or backward) under the torch-function watch and the
        operator trace: an error it raises is the student's, located in their file; a forbidden call
        or a guard taken off its stack is a ProtocolViolation."""
        watch, trace = CallWatch(self.forbid, autograd=True), OpTrace(self.forbid)
        switched_off: list[str] = []
        try:
            with watch, trace:
                result = call()
                switched_off = guards_switched_off(watch, trace)
        except ProtocolViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - anything the student's code raises
            if switched_off:  # leaving the guards' context then fails: the student took them away
                self._check_calls(method, watch, trace, switched_off)
            raise StudentCallError(self.phase(method), exc, located(exc, self.path)) from None
        self._check_calls(method, watch, trace, switched_off)
        return result, watch, trace

    def _upstream_names(self) -> list[str]:
        """What messages call the upstream gradients: grad_output, or grad_h, grad_c... for several outputs."""
        return ["grad_output"] if len(self.outputs) == 1 else [f"grad_{name}" for name, _ in self.outputs]

    def _changed_in_backward(self, changed: list[str]) -> str:
        """Why a backward may not change what it was given. (The function styles give the student's
        backward its own copy of the upstream gradient, so only a saved input can be named there.)"""
        named = [name for name in self._upstream_names() if any(c.startswith(f"'{name}'") for c in changed)]
        upstream = [c for c in changed if any(c.startswith(f"'{name}'") for name in named)]
        inputs = [c for c in changed if c not in upstream]
        reasons = []
        if inputs:
            reasons.append(f"modified its saved input {', '.join(inputs)} in place: in a network that tensor is the "
                           "previous layer's output, which the previous layer's own backward and any other layer "
                           "reading it still need; compute on a copy")
        if upstream:
            reasons.append(f"modified {', '.join(upstream)} in place: autograd may hand the same gradient tensor to "
                           "other parts of the graph, so PyTorch requires a backward to leave it unchanged; "
                           f"work on {named[0]}.clone()")
        return f"{self.phase('backward')} " + "; and ".join(reasons)

    def _check_calls(self, method: str, watch: CallWatch, trace: OpTrace, switched_off: list[str]) -> None:
        if switched_off:
            raise ProtocolViolation(f"{self.phase(method)} switched off the grader's watch on its calls "
                                    f"({', '.join(switched_off)}): a submission may not touch the grader")
        found: dict[str, list[str]] = {}
        for called, banned in watch.forbidden_calls + trace.forbidden_calls:
            found.setdefault(banned, []).append(called)
        if found:
            names = "; ".join(f"{' / '.join(calls)} (forbidden: {banned})" for banned, calls in found.items())
            raise ProtocolViolation(f"{self.phase(method)} called {names}: this exercise asks you to write it yourself")

    def _normalise(self, grads) -> list[torch.Tensor | None]:
        if not isinstance(grads, tuple):
            grads = (grads,) if not isinstance(grads, list) else tuple(grads)
        expected = len(self.input_names)
        extra = grads[expected:]
        if len(grads) < expected or any(g is not None for g in extra):
            raise ProtocolViolation(
                f"{self.phase('backward')} returned {len(grads)} gradient{'s' if len(grads) != 1 else ''}, "
                f"expected {expected}: one per forward input ({', '.join(self.input_names)}), "
                "None for inputs that need no gradient")
        for name, grad in zip(self.input_names, grads):
            if grad is not None and not isinstance(grad, torch.Tensor):
                raise ProtocolViolation(
                    f"{self.phase('backward')} returned a {type(grad).__name__} as the gradient for '{name}', "
                    f"expected a {self.value_noun}")
        return list(grads[:expected])

    def pure_forward(self, *inputs: torch.Tensor) -> Any:
        """The student's forward as a plain function of tensors (no autograd graph, vmap-able): its
        output, or its tuple of outputs."""
        try:
            if self._new_style:
                return self.function.forward(*self._with_params(inputs))
            ctx = _PlainContext(tuple(self.differentiable))
            return self.function.forward(ctx, *self._with_params(inputs, ctx))
        except ProtocolViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - named as the forward's own error, in every style
            raise StudentCallError(self.phase("forward"), exc, located(exc, self.path)) from None

    def prefetch(self, plan: Sequence[PlannedCall]) -> None:
        """Nothing to compute ahead in this process: each call costs what it costs."""

    def batched_forward(self, fixed: Sequence[torch.Tensor], layout: Sequence[tuple[int, torch.Size]]) -> BatchedForward:
        """The pure forward as f(flat vector of the inputs listed in `layout`) -> flat output,
        the other inputs fixed; one BatchedForward is kept, so that whether vmap works is
        learned once per student. With several outputs the flat output is the differentiable
        outputs' elements one after the other (what sum_k <u_k, out_k> projects on)."""
        fixed = list(fixed)

        def flat_forward(theta: torch.Tensor) -> torch.Tensor:
            args = list(fixed)
            offset = 0
            for index, shape in layout:
                size = shape.numel()
                args[index] = theta[offset:offset + size].reshape(shape)
                offset += size
            out = self.pure_forward(*args)
            if len(self.outputs) > 1:
                outs = self._outputs_of(out)
                return torch.cat([o.reshape(-1) for o, (_, wanted) in zip(outs, self.outputs) if wanted])
            if not isinstance(out, torch.Tensor):
                raise ProtocolViolation(f"{self.phase('forward')} returned {type(out).__name__}, "
                                        f"expected a {self.value_noun}")
            return out.reshape(-1)

        if self._batched is None:
            self._batched = BatchedForward(flat_forward)
        else:
            self._batched.flat_forward = flat_forward
        return self._batched

    def second_order(self, inputs: Sequence[torch.Tensor], upstream: torch.Tensor,
                     directions: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Second derivatives of <upstream, f(x)> through the student's backward (see second_order)."""
        def apply(*tensors):
            return self.function.apply(*self._with_params(tensors))

        try:
            return second_order(apply, inputs, self.differentiable, upstream, directions)
        except Exception as exc:  # noqa: BLE001
            raise StudentCallError(self.phase("backward (differentiated)"), exc, located(exc, self.path)) from None


def _aliases(output: torch.Tensor, inputs: Sequence[torch.Tensor]) -> bool:
    try:
        pointer = output.untyped_storage().data_ptr()
        return any(t.untyped_storage().data_ptr() == pointer for t in inputs)
    except (RuntimeError, NotImplementedError):
        return True


def second_order(function, inputs: Sequence[torch.Tensor], differentiable: Sequence[bool], upstream: torch.Tensor,
                 directions: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """gradgradcheck's quantity: the gradient of sum_i <grad_i, d_i>, where grad_i is the first
    derivative of <upstream, function(x)> with respect to input i (built with create_graph), with
    respect to every differentiable input and to the upstream gradient."""
    upstream = upstream.detach().requires_grad_(True)
    leaves = [t.detach().clone().requires_grad_(d) for t, d in zip(inputs, differentiable)]
    indices = [i for i, d in enumerate(differentiable) if d]
    wrt = [leaves[i] for i in indices]
    with torch.enable_grad():
        out = function(*leaves)
        first = torch.autograd.grad(project(out, upstream), wrt, create_graph=True, allow_unused=True)
        terms = [(f * directions[i]).sum() for f, i in zip(first, indices) if f is not None and f.requires_grad]
        if not terms:
            return [torch.zeros_like(t) for t in wrt + [upstream]]
        second = torch.autograd.grad(cast(torch.Tensor, sum(terms)), wrt + [upstream], allow_unused=True)
    return [torch.zeros_like(t) if g is None else g.detach() for g, t in zip(second, wrt + [upstream])]


def non_contiguous_copy(tensor: torch.Tensor) -> torch.Tensor:
    """The same values as a strided view of a larger buffer."""
    if tensor.numel() < 2:
        return tensor
    wide = torch.zeros(*tensor.shape[:-1], 2 * tensor.shape[-1], dtype=tensor.dtype, device=tensor.device) \
        if tensor.dim() else tensor
    view = wide[..., ::2]
    view.copy_(tensor)
    return view
