"""The backward_properties check: linear in grad_output, zero in gives zero out, repeatable."""

from __future__ import annotations

import torch

from ..inputs.tensors import make_inputs, upstream_gradients
from ..inputs.trial import Trial
from ..numerics.tolerances import Mismatch, compare, resolve
from ..student.op import non_contiguous_copy
from .backward import showing_upstream, student_gradients
from .kept import continued_gradients
from .subject import ExerciseUnderTest, call_student, for_trial, on_device
from .verdicts import CheckFailure

OTHER_STREAM = 20_011  # the second upstream gradient's random stream
COMBINATION = (0.75, -1.5)  # a, b in backward(a*u + b*v) = a*backward(u) + b*backward(v)


def check_backward_properties(ex: ExerciseUnderTest, trial: Trial) -> None:
    """What gradcheck checks beyond values: linear in grad_output, zero in -> zero out, repeatable,
    and the same answers for non-contiguous inputs. With several outputs, grad_output is the tuple
    of their upstream gradients: backward((a*u_1 + b*v_1, a*u_2 + b*v_2)) = a*backward(u) + b*backward(v)."""
    ex = for_trial(ex, trial)
    spec = ex.spec
    inputs = on_device(ex, make_inputs(spec, trial))
    # the backward check's calls on this trial, continued when kept; else the same calls made here
    run, upstream, grads = continued_gradients(ex, trial, inputs) or student_gradients(ex, inputs, trial.values_seed)
    with showing_upstream(spec, upstream):
        differentiable = [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]
        other = upstream_gradients(run.outputs, spec.differentiable_outputs, trial.values_seed, stream=OTHER_STREAM)
        a, b = COMBINATION
        op = ex.op
        assert op is not None  # checks run only on an exercise whose file loaded (run_check)

        def again(grad_outputs):
            return call_student(op.backward, run, grad_outputs)

        def first_difference(actual, expected, scale=1.0) -> tuple[str, Mismatch] | tuple[None, None]:
            for index, spec_input in differentiable:
                rtol, atol = resolve(grads[index].dtype, spec.tolerance, spec_input.tolerance)
                mismatch = compare(actual[index], expected[index], rtol, atol * scale)
                if mismatch:
                    return f"gradient for '{spec_input.name}': {mismatch.describe()}", mismatch
            return None, None

        repeat = again(upstream)
        problem, mismatch = first_difference(repeat, grads)
        if mismatch is not None:
            raise CheckFailure("backward gives a different answer when called twice with the same grad_output "
                               f"(does it change state it saved?): {problem}", mismatches=[mismatch])
        zero = again([None if u is None else torch.zeros_like(u) for u in upstream])
        for index, spec_input in differentiable:
            if zero[index] is not None and bool((zero[index] != 0).any()):
                raise CheckFailure(f"a zero grad_output must give zero gradients, but the gradient for "
                                   f"'{spec_input.name}' is not zero (is something added instead of multiplied?)")
        combined = again([None if u is None or v is None else a * u + b * v for u, v in zip(upstream, other)])
        separate = again(other)
        expected = [None if g is None else a * g + b * s for g, s in zip(grads, separate)]
        problem, mismatch = first_difference(combined, expected, scale=4.0)
        if mismatch is not None:
            raise CheckFailure("backward is not linear in grad_output: backward(a*u + b*v) differs from "
                               f"a*backward(u) + b*backward(v): {problem}", mismatches=[mismatch])
        if spec.non_contiguous:
            strided = [non_contiguous_copy(t) for t in inputs]
            _, _, strided_grads = student_gradients(ex, strided, trial.values_seed)
            problem, mismatch = first_difference(strided_grads, grads, scale=4.0)
            if mismatch is not None:
                raise CheckFailure("backward gives different gradients when the inputs are non-contiguous "
                                   f"(strided views): {problem}", mismatches=[mismatch])
