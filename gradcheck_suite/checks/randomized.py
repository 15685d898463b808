"""The forward and backward checks of a randomized forward (`random:`), graded by properties: no
reference values, no replay of the student's random generator.

dropout, on one trial (with n elements of the input that are not 0, keep probability q, scale s):
- forward: every output element is 0 or x * s; the number kept passes the two-sided binomial test
  of numerics.binomial for Binomial(n, q); with a seed param, a second call with the same seed drops
  the same elements;
- backward: the mask read from the forward's own output (out != 0 where x != 0) gives the gradient,
  grad_x = grad_output * mask * s, for a random and for an all-ones grad_output.
A trial whose params make the op deterministic (random.deterministic, e.g. test mode) is graded by
the ordinary checks against the reference. backward_properties runs as for any exercise: it calls
the backward several times on one forward run."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import torch

from ..exercise.model import ExerciseSpec, RandomSpec
from ..inputs.params import bind_reference, call_params, least_params
from ..inputs.tensors import make_inputs, ones_for, upstream_gradients
from ..inputs.trial import Trial
from ..numerics import binomial
from ..numerics import reference_eval as reference
from ..numerics.tolerances import compare, resolve, shape_text
from ..student.op import ForwardRun
from .backward import check_backward, output_shape_problem, structure_problem
from .forward import check_forward
from .subject import ExerciseUnderTest, call_student, dtype_name, for_trial, on_device
from .verdicts import CheckFailure


class _Draw:
    """One trial of a randomized exercise: its inputs, its params' values, and what they make of
    the random spec (keep probability, scale, the words messages use for them)."""

    def __init__(self, ex: ExerciseUnderTest, trial: Trial):
        spec = ex.spec
        assert spec.random is not None  # only randomized exercises reach this module (checks.registry)
        self.random: RandomSpec = spec.random
        self.values = {**least_params(spec), **trial.params}
        self.deterministic = self.random.is_deterministic(self.values)
        self.base, self.trial = ex, trial
        self.ex = for_trial(ex, trial)
        self.inputs = on_device(self.ex, make_inputs(spec, trial))
        self.position = next(k for k, i in enumerate(spec.inputs) if i.name == self.random.input)
        self.keep = self.random.keep_probability(self.values)
        self.scale = self.random.scale_factor(self.values)
        self.seed = trial.values_seed

    @property
    def x(self) -> torch.Tensor:
        return self.inputs[self.position]

    def probability_text(self) -> str:
        r = self.random
        if r.keeps:
            return f"keep probability {r.probability} = {self.keep:.4g}"
        return f"keep probability {self.keep:.4g} (1 - {r.probability}, the drop probability {1 - self.keep:.4g})"

    def scale_text(self) -> str:
        """What a kept element must be."""
        if self.random.scale == "none":
            return "x (kept)"
        return f"x / {self.keep:.4g} (kept, divided by the keep probability)"

    def forward(self) -> ForwardRun:
        op = self.ex.op
        assert op is not None  # checks run only on an exercise whose file loaded (run_check)
        run = call_student(op.forward, self.inputs)
        expected = [o.shape for o in reference.forward(self.ex.spec, [reference.as_reference_dtype(t)
                                                                      for t in self.inputs])]
        problem = output_shape_problem(self.ex.spec, run.outputs, expected)
        if problem:
            raise CheckFailure(problem)
        out = run.outputs[0]
        if out.dtype != self.x.dtype:
            raise CheckFailure(f"forward returned dtype {dtype_name(out.dtype)}, expected {dtype_name(self.x.dtype)} "
                               f"(keep the dtype of {self.random.input})")
        if out.device.type != self.x.device.type:
            raise CheckFailure(f"forward returned a tensor on {out.device}, expected {self.x.device}")
        return run


def check_random_forward(ex: ExerciseUnderTest, trial: Trial) -> None:
    draw = _Draw(ex, trial)
    if draw.deterministic:
        return check_forward(ex, trial)
    run = draw.forward()
    out, x = run.outputs[0], draw.x
    kept = out != 0
    _check_values(draw, out, x, kept)
    _check_keep_fraction(draw, x, kept)
    if draw.random.seed is not None:
        _check_same_seed(draw, kept)
    _check_another_mask(draw, kept)


def check_random_backward(ex: ExerciseUnderTest, trial: Trial) -> None:
    draw = _Draw(ex, trial)
    if draw.deterministic:
        return check_backward(ex, trial)
    op = draw.ex.op
    assert op is not None
    run = draw.forward()
    x, spec_input = draw.x, draw.ex.spec.inputs[draw.position]
    mask = (run.outputs[0] != 0).to(torch.float64)
    known = x != 0  # where x is 0 the output does not say whether the element was kept
    differentiable = draw.ex.spec.differentiable_outputs
    for upstream, context in ((upstream_gradients(run.outputs, differentiable, draw.seed), ""),
                              (ones_for(run.outputs, differentiable),
                               "with an all-ones grad_output (the one loss.backward() passes): ")):
        grads = call_student(op.backward, run, upstream)
        grad = grads[draw.position]
        problem = structure_problem(spec_input, grad, x, x.dtype)
        if problem:
            raise CheckFailure(context + problem)
        assert grad is not None and upstream[0] is not None
        u = upstream[0].double()
        expected = torch.where(known, u * mask * draw.scale, grad.double())
        rtol, atol = resolve(grad.dtype, draw.ex.spec.tolerance, spec_input.tolerance)
        mismatch = compare(grad, expected, rtol, atol)
        if mismatch:
            cause = _backward_cause(draw, grad, u, mask, known, rtol, atol)
            # The first line is the same for every mask drawn (a replay prints it again); the counts follow.
            raise CheckFailure(
                f"{context}gradient for '{spec_input.name}' {shape_text(grad)} differs from grad_output * mask * "
                f"{_scale_word(draw)}, with the mask your forward drew (read from its output: out != 0)\n"
                f"  {mismatch.describe()}" + (f"\n  likely cause: {cause}" if cause else ""), mismatches=[mismatch])


def _scale_word(draw: _Draw) -> str:
    return "1" if draw.random.scale == "none" else f"(1 / {draw.keep:.4g})"


def _check_values(draw: _Draw, out: torch.Tensor, x: torch.Tensor, kept: torch.Tensor) -> None:
    """Every element 0 or x * scale."""
    x64 = x.double()
    expected = torch.where(kept, x64 * draw.scale, torch.zeros_like(x64))
    rtol, atol = resolve(out.dtype, draw.ex.spec.tolerance)
    mismatch = compare(out, expected, rtol, atol)
    if mismatch is None:
        return
    cause = _forward_cause(draw, out.double(), x64, kept, rtol, atol)
    raise CheckFailure(f"forward output is not dropout's: every element must be 0 (dropped) or "
                       f"{draw.scale_text()}, with {draw.probability_text()}\n"
                       f"  output {shape_text(out)}, compared where it is not 0: {mismatch.describe()}"
                       + (f"\n  likely cause: {cause}" if cause else ""), mismatches=[mismatch])


def _forward_cause(draw: _Draw, out: torch.Tensor, x: torch.Tensor, kept: torch.Tensor, rtol: float,
                   atol: float) -> str | None:
    """The scale the kept elements got, where it is one of the usual mistakes."""
    candidates = [(1.0, "the kept elements are not scaled (inverted dropout divides them by the keep probability)"),
                  (draw.keep, "the kept elements are multiplied by the keep probability instead of divided by it"),
                  (1 / (1 - draw.keep) if draw.keep < 1 else None,
                   "the kept elements are divided by the drop probability: the probability taken as the other one "
                   "(keep for drop)?")]
    for factor, text in candidates:
        if factor is not None and abs(factor - draw.scale) > 1e-12 * draw.scale and \
                _close_where(out, x * factor, kept, rtol, atol):
            return text
    return None


def _close_where(actual: torch.Tensor, expected: torch.Tensor, where: torch.Tensor, rtol: float, atol: float) -> bool:
    return bool(where.any()) and compare(actual[where], expected[where], rtol, atol) is None


def _check_keep_fraction(draw: _Draw, x: torch.Tensor, kept: torch.Tensor) -> None:
    """The two-sided binomial test of the number of elements kept."""
    known = x != 0
    n, k = int(known.sum()), int((kept & known).sum())
    lo, hi = binomial.acceptance(n, draw.keep)
    if lo <= k <= hi:
        return
    cause = ""
    other_lo, other_hi = binomial.acceptance(n, 1 - draw.keep)
    if other_lo <= k <= other_hi and abs(draw.keep - 0.5) > 1e-9:
        which = "keep" if draw.random.keeps else "drop"
        cause = (f"\n  likely cause: elements are kept with probability {1 - draw.keep:.4g}: "
                 f"{draw.random.probability} is the probability to {which} an element, not to "
                 f"{'drop' if which == 'keep' else 'keep'} it")
    raise CheckFailure(f"forward keeps {'too many' if k > hi else 'too few'} elements for dropout with "
                       f"{draw.probability_text()}\n"
                       f"  kept {k} of {n} ({k / max(n, 1):.1%}); a correct dropout keeps between {lo} and {hi} of "
                       f"them (a two-sided binomial test that fails a correct dropout less than once in "
                       f"{1 / binomial.FALSE_FAILURE_RATE:.0e} trials)" + cause)


def _check_same_seed(draw: _Draw, kept: torch.Tensor) -> None:
    """A second call with the same params (the same seed) drops the same elements."""
    op = draw.ex.op
    assert op is not None and draw.random.seed is not None
    again = call_student(op.forward, draw.inputs).outputs[0] != 0
    differ = int((again != kept).sum())
    if differ:
        seed = _seed_value(draw)
        raise CheckFailure(f"two calls of forward with the same seed ({draw.random.seed} = {seed}) dropped different "
                           f"elements: seed the random generator with it when it is given (np.random.seed(seed) "
                           f"before drawing the mask)\n  {differ} of {kept.numel()} elements differ")


def _check_another_mask(draw: _Draw, kept: torch.Tensor) -> None:
    """Another seed (without a seed param: simply another call) drops other elements: a mask a
    constant seed fixes is not random. Two independent masks of n elements agree everywhere with
    probability (q^2 + (1 - q)^2)^n, below 1e-60 at the sizes `random:` requires (n >= 813)."""
    op = draw.ex.op
    if draw.random.seed is not None:
        name, _, key = draw.random.seed.partition(".")
        params = {**draw.trial.params}
        seed = _seed_value(draw)
        other = (seed if isinstance(seed, int) else 0) + 1
        params[name] = {**params[name], key: other} if key else other
        base = draw.base
        assert base.op is not None
        op = for_trial(base, replace(draw.trial, params=params)).op
        what = f"forward with another seed ({draw.random.seed} = {other} instead of {seed})"
    else:
        what = "forward a second time"
    assert op is not None
    again = call_student(op.forward, draw.inputs).outputs[0] != 0
    if bool(torch.equal(again, kept)) and 0 < int(kept.sum()) < kept.numel():
        raise CheckFailure(f"calling {what} dropped exactly the same {kept.numel() - int(kept.sum())} of "
                           f"{kept.numel()} elements: the mask must be drawn anew (is the random generator "
                           "seeded with a constant?)")


def _seed_value(draw: _Draw):
    name, _, key = (draw.random.seed or "").partition(".")
    value = draw.values.get(name)
    return value.get(key) if key and isinstance(value, dict) else value


def _backward_cause(draw: _Draw, grad: torch.Tensor, u: torch.Tensor, mask: torch.Tensor, known: torch.Tensor,
                    rtol: float, atol: float) -> str | None:
    g = grad.double()
    candidates: Sequence[tuple[torch.Tensor, str]] = (
        (u * mask, "the mask is applied but not the scale of the forward"),
        (u * (1 - mask) * draw.scale, "the gradient passes where the forward dropped and stops where it kept "
                                      "(the mask inverted)"),
        (mask * draw.scale, "grad_output is ignored: this is mask * scale alone"),
        (u * draw.scale, "the mask is not applied: the gradient passes everywhere"),
    )
    for candidate, text in candidates:
        if _close_where(g, candidate, known, rtol, atol):
            return text
    ratio = g[known] / (u[known] * draw.scale)
    if bool(((ratio - 1).abs() < 1e-6).logical_or(ratio.abs() < 1e-6).all()):
        return ("the backward applies another mask than the forward's (a mask drawn again in backward?): save the "
                "mask the forward drew and apply that one")
    return None


__all__ = ["check_random_backward", "check_random_forward", "reference_disagreement"]


def reference_disagreement(spec: ExerciseSpec, trial: Trial) -> str | None:
    """Why the exercise's own reference lacks the properties its `random:` declares on this trial (a
    mistake of the exercise: keep written for drop, the wrong scale), or None. For validate: no
    student code runs."""
    randomized = spec.random
    assert randomized is not None
    values = {**least_params(spec), **trial.params}
    if randomized.is_deterministic(values):
        return None
    bound = bind_reference(spec, call_params(spec, trial.params)) if spec.params else spec
    inputs = [reference.as_reference_dtype(t) for t in make_inputs(spec, trial).values()]
    out = reference.forward(bound, inputs)[0].detach()
    x = inputs[next(k for k, i in enumerate(spec.inputs) if i.name == randomized.input)]
    keep, scale = randomized.keep_probability(values), randomized.scale_factor(values)
    kept, known = out != 0, x != 0
    if compare(out, torch.where(kept, x * scale, torch.zeros_like(x)), 1e-7, 1e-7) is not None:
        return (f"the reference's kept elements are not x * {scale:.4g} (scale: {randomized.scale}, keep probability "
                f"{keep:.4g}) on the trial {trial.describe()}")
    n, k = int(known.sum()), int((kept & known).sum())
    lo, hi = binomial.acceptance(n, keep)
    if not lo <= k <= hi:
        return (f"the reference keeps {k} of {n} elements on the trial {trial.describe()}, where keep probability "
                f"{keep:.4g} allows {lo} to {hi} (is {randomized.probability} the probability to "
                f"{'drop' if randomized.keeps else 'keep'}?)")
    return None
