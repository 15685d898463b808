"""Diagnoses of wrong gradients ("likely cause: ..."): each pattern on hand-made tensors, the
buggy implementations (in tests/diagnoses/, or bug variants that show a pattern) graded in-process, and
silence on correct gradients."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from conftest import REPO_ROOT, SOLUTIONS, VARIANTS, exercise_yaml, parse_label, submit
from gradcheck_suite.checks.backward import ReferenceGradients, student_gradients
from gradcheck_suite.checks.subject import for_trial
from gradcheck_suite.exercise.load import load_exercise, with_overrides
from gradcheck_suite.exercise.model import Domain, InputSpec, Tolerance
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.inputs.strategies import seeded_trials
from gradcheck_suite.inputs.tensors import edge_case_inputs, make_inputs
from gradcheck_suite.inputs.trial import Trial
from gradcheck_suite.numerics import diagnoses
from gradcheck_suite.numerics.diagnoses import diagnose
from gradcheck_suite.numerics.tolerances import Closeness

CASES = REPO_ROOT / "tests" / "diagnoses"
F64 = torch.float64
TOL64 = Closeness.for_dtype(torch.float64)
TOL32 = Closeness.for_dtype(torch.float32)
LIKELY = "  likely cause: "


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


# ----------------------------------------------------------------------------- ignores_upstream

def test_ignores_upstream_when_the_gradient_is_the_all_ones_one():
    expected, all_ones = t([0.3, -1.2, 0.8]), t([1.0, 2.0, -0.5])
    assert "grad_output is ignored" in diagnoses.ignores_upstream(all_ones.clone(), expected, all_ones, TOL64)
    assert diagnoses.ignores_upstream(expected.clone(), expected, all_ones, TOL64) is None  # right
    assert diagnoses.ignores_upstream(all_ones + 0.1, expected, all_ones, TOL64) is None  # something else


def test_ignores_upstream_says_nothing_when_the_upstream_gradient_was_all_ones_anyway():
    expected = t([0.3, -1.2])
    assert diagnoses.ignores_upstream(expected * 2, expected, expected.clone(), TOL64) is None


def test_ignores_upstream_of_softmax_is_a_zero_gradient():
    # Softmax's gradient for all-ones grad_output is zero: code that uses ones returns zeros.
    expected = t([0.2, -0.2])
    assert diagnoses.ignores_upstream(torch.zeros(2, dtype=F64), expected, t([1e-17, -1e-17]), TOL64)


# ----------------------------------------------------------------------------- wrong_sign

def test_wrong_sign_on_a_negated_gradient_with_float32_rounding():
    expected = randn(3, 4)
    grad = (-expected).to(torch.float32)
    assert diagnoses.wrong_sign(grad, expected, TOL32) == \
        "wrong sign: this is exactly the negative of the expected gradient"
    # float32 rounding is beyond a zero tolerance
    assert diagnoses.wrong_sign(grad, expected, Closeness(0.0, 0.0)) is None


@pytest.mark.parametrize("grad, expected", [
    ([0.0, 0.0], [0.0, 0.0]),          # zeros: -0 == 0, nothing to say
    ([1.0, 2.0], [1.0, 2.0]),          # right
    ([-1.0, -2.0, 3.0], [1.0, 2.0, 3.0]),  # only partly negated
    ([0.0], [0.0]),                    # a single zero element
    ([[0.5]], [[0.0]]),                # a single element, expected zero
    ([-1e-9, 2e-9], [1e-9, -2e-9]),    # negated, but below the tolerance
])
def test_wrong_sign_says_nothing(grad, expected):
    assert diagnoses.wrong_sign(t(grad), t(expected), TOL64) is None


def test_wrong_sign_on_a_single_element():
    assert diagnoses.wrong_sign(t(-0.75), t(0.75), TOL64)


# ----------------------------------------------------------------------------- constant_factor

def test_factor_named_after_the_batch_dimension():
    expected = randn(3, 2)
    text = diagnoses.constant_factor(expected / 4, expected, TOL64, {"N = 4": 4, "D_out = 2": 2})
    assert text == ("this is 1/4 times the expected gradient: looks like a mean where a sum is expected "
                    "(factor 1/4; N = 4)")


def test_factor_of_a_dimension_size_the_other_way_round():
    expected = randn(5)
    text = diagnoses.constant_factor(3 * expected, expected, TOL64, {"N = 5": 5, "D_out = 3": 3, "C = 3": 3})
    assert text.endswith("looks like a sum where a mean is expected (factor 3; D_out = 3 or C = 3)")


def test_a_simple_factor_that_is_no_dimension_size():
    expected = randn(2, 2)
    assert diagnoses.constant_factor(2 * expected, expected, TOL64, {"N = 4": 4}) == \
        "this is 2 times the expected gradient: a constant factor is wrong or missing"
    assert diagnoses.constant_factor(-0.5 * expected, expected, TOL64).startswith("this is -1/2 times")


def test_an_arbitrary_factor_needs_three_elements_that_agree():
    assert diagnoses.constant_factor(0.7312 * t([1.0, -2.0, 0.5]), t([1.0, -2.0, 0.5]), TOL64) == \
        "this is 0.7312 times the expected gradient: a constant factor is wrong or missing"
    assert diagnoses.constant_factor(t([0.7312]), t([1.0]), TOL64) is None  # one element fits any ratio
    assert diagnoses.constant_factor(t([0.6, -0.6]), t([1.0, -1.0]), TOL64) is None  # e.g. softmax over two classes


def test_factor_with_float32_rounding_and_allowance():
    expected = randn(4, 3, seed=3)
    grad = (expected / 4).to(torch.float32)
    assert "(factor 1/4; N = 4)" in diagnoses.constant_factor(grad, expected, TOL32, {"N = 4": 4})


@pytest.mark.parametrize("grad, expected", [
    ([2.0, 4.0], [1.0, 2.0 + 1e-3]),     # not constant
    ([0.0, 0.0], [1.0, 2.0]),            # zero is no factor
    ([1e-13, 2e-13], [1.0, 2.0]),        # nor nearly zero
    ([0.5], [0.0]),                      # expected zero: any factor gives zero
    ([0.0], [0.0]),
    ([2e-9, 4e-9], [1e-9, 2e-9]),        # a factor below the tolerance
    ([-1.0, -2.0], [1.0, 2.0]),          # -1 is wrong_sign's
    ([1.0, 2.0], [1.0, 2.0]),            # right
    ([1.0002, 2.0004, 3.0006], [1.0, 2.0, 3.0]),  # 1.0002: a precision problem
    ([float("nan"), 1.0], [1.0, 1.0]),
])
def test_constant_factor_says_nothing(grad, expected):
    assert diagnoses.constant_factor(t(grad), t(expected), TOL64, {"N = 2": 2}) is None


# ----------------------------------------------------------------------------- transposed

def test_transposed_square_values():
    expected = randn(3, 3)
    assert diagnoses.transposed(expected.T.clone(), expected, TOL64).startswith(
        "this is the transpose of the expected gradient")


def test_transposed_over_the_last_two_dims_of_a_batch():
    expected = randn(2, 3, 3)
    assert diagnoses.transposed(expected.mT.contiguous(), expected, TOL64)


def test_transposed_shape_with_the_transposed_values():
    expected = randn(2, 3)
    assert diagnoses.transposed(expected.T.contiguous(), expected, TOL64)
    assert diagnoses.transposed(randn(3, 2, seed=9), expected, TOL64) is None


@pytest.mark.parametrize("grad, expected", [
    ([[1.0, 2.0], [2.0, 5.0]], [[1.0, 2.0], [2.0, 5.0]]),  # symmetric: the transpose is the same
    ([[3.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [2.0, 5.0]]),  # wrong, but the transpose changes nothing
    ([[0.5]], [[0.0]]),                                    # a single element
    ([[0.5]], [[0.25]]),
    ([0.5, 0.25], [0.25, 0.5]),                            # 1-D: nothing to transpose
])
def test_transposed_says_nothing(grad, expected):
    assert diagnoses.transposed(t(grad), t(expected), TOL64) is None


def test_transposed_shape_from_the_shapes_alone():
    assert diagnoses.transposed_shape(torch.empty(3, 2), torch.empty(2, 3)) == \
        "the shape is transposed: the factors of a matrix product in the wrong order, or a missing .T?"
    assert diagnoses.transposed_shape(torch.empty(4, 3, 2), torch.empty(4, 2, 3))
    for grad, like in [((3, 3), (3, 3)), ((3,), (3,)), ((1, 3), (3,)), ((3, 1), (2, 3)), ((2, 3, 4), (3, 2, 4))]:
        assert diagnoses.transposed_shape(torch.empty(grad), torch.empty(like)) is None, (grad, like)


# ----------------------------------------------------------------------------- sums over dimensions

def test_not_summed_over_a_leading_broadcast_dimension():
    grad = randn(4, 3)
    text = diagnoses.not_summed_over_broadcast(grad, grad.sum(0), TOL64, "'b'")
    assert text == ("not summed over a broadcast dimension: 'b' was broadcast over dim 0 in the forward, "
                    "and .sum(0) of this gradient is the expected one")


def test_not_summed_over_a_kept_and_several_leading_dimensions():
    grad = randn(3, 5)
    assert ".sum(1, keepdim=True) of this gradient" in diagnoses.not_summed_over_broadcast(
        grad, grad.sum(1, keepdim=True), TOL64)
    grad = randn(2, 4, 3)
    assert "over dims 0 and 1 in the forward, and .sum((0, 1))" in diagnoses.not_summed_over_broadcast(
        grad, grad.sum((0, 1)), TOL64)
    grad = randn(2, 4, 3)
    assert ".sum(0).sum(1, keepdim=True)" in diagnoses.not_summed_over_broadcast(
        grad, grad.sum(0).sum(1, keepdim=True), TOL64)


def test_not_summed_over_a_batch_of_one():
    expected = randn(3)
    assert diagnoses.not_summed_over_broadcast(expected.reshape(1, 3), expected, TOL64)


def test_not_summed_allows_the_rounding_of_a_float32_sum():
    grad = (randn(64, 3, seed=5) * 1000).to(torch.float32)
    expected = grad.double().sum(0) + 1e-6 * grad.double().abs().sum(0)  # within rtol * sum |terms|
    assert TOL32.mismatch(grad.double().sum(0), expected) is not None  # beyond the elementwise rule
    assert diagnoses.not_summed_over_broadcast(grad, expected, TOL32)


@pytest.mark.parametrize("grad_shape, expected_shape", [((4, 3), (3,)), ((3, 5), (3, 1))])
def test_not_summed_says_nothing_when_the_sum_is_not_the_expected_gradient(grad_shape, expected_shape):
    assert diagnoses.not_summed_over_broadcast(randn(*grad_shape), randn(*expected_shape, seed=1), TOL64) is None


@pytest.mark.parametrize("grad_shape, expected_shape", [((3,), (3,)), ((3,), (4, 3)), ((4, 2), (3,)), ((3, 2), (2, 3))])
def test_not_summed_needs_the_broadcast_shape(grad_shape, expected_shape):
    assert diagnoses.not_summed_over_broadcast(torch.zeros(grad_shape), torch.zeros(expected_shape), TOL64) is None


@pytest.mark.parametrize("reduce", [
    lambda e: e.sum(0),
    lambda e: e.sum(0, keepdim=True),
    lambda e: e.sum(0, keepdim=True).expand_as(e),
])
def test_summed_where_no_sum_belongs(reduce):
    expected = randn(4, 3)
    text = diagnoses.summed_where_no_sum_belongs(reduce(expected), expected, TOL64, "'x'")
    assert text == ("this is the expected gradient summed over dim 0, where no sum belongs: 'x' is not broadcast "
                    "over that dimension, so each of its elements has its own gradient")


def test_summed_over_the_last_dimension_in_float32():
    expected = randn(4, 3)
    assert "summed over dim 1" in diagnoses.summed_where_no_sum_belongs(
        expected.sum(1).to(torch.float32), expected, TOL32)


@pytest.mark.parametrize("grad, expected", [
    ([[1.0, 2.0]], [[1.0, 2.0]]),              # a sum over a dim of one element changes nothing
    ([[3.0, 3.5]], [[1.0, 2.0]]),              # near, but not, the sum over dim 1 expanded back
    ([[0.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [-1.0, -2.0]]),  # a zero gradient is no sum of this
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]),    # right
])
def test_summed_where_no_sum_belongs_says_nothing(grad, expected):
    assert diagnoses.summed_where_no_sum_belongs(t(grad), t(expected), TOL64) is None


# ----------------------------------------------------------------------------- diagnose

def test_diagnose_prefers_an_ignored_scalar_upstream_gradient_to_a_factor():
    # For a 0-d output, ignoring grad_output u gives expected / u: a constant factor too.
    expected = randn(6)
    all_ones = expected / 0.37
    assert diagnoses.constant_factor(all_ones, expected, TOL64)
    assert diagnose(all_ones, expected, TOL64, all_ones) == \
        [diagnoses.ignores_upstream(all_ones, expected, all_ones, TOL64)]


def test_diagnose_names_one_cause():
    expected = randn(3, 3)
    assert diagnose(-expected, expected, TOL64) == ["wrong sign: this is exactly the negative of the expected gradient"]
    assert len(diagnose(expected.T * 2, expected, TOL64)) == 0  # two mistakes at once: no single pattern
    assert diagnose(torch.zeros(2, 3), randn(3, 2), TOL64) == \
        ["the shape is transposed: the factors of a matrix product in the wrong order, or a missing .T?"]


@pytest.mark.parametrize("grad", [None, torch.full((2,), float("nan")), torch.tensor([float("inf"), 1.0])])
def test_diagnose_says_nothing_about_missing_or_non_finite_gradients(grad):
    assert diagnose(grad, t([1.0, 2.0]), TOL64, t([1.0, 1.0])) == []


def test_diagnose_on_single_elements():
    for grad, expected in [(0.5, 0.0), (0.0, 0.0), (-0.0, 0.0), (0.3, 0.7)]:
        for shape in [(), (1,), (1, 1)]:
            assert diagnose(t(grad).reshape(shape), t(expected).reshape(shape), TOL64, t(0.9).reshape(shape),
                            {"N = 2": 2}) == [], (grad, expected, shape)


def test_dimension_sizes_names_dims_batch_dims_and_element_counts():
    x = InputSpec("x", ("N", "D"), F64, Domain(), True, Tolerance())
    z = InputSpec("z", ("...", "C"), F64, Domain(), True, Tolerance())
    sizes = diagnoses.dimension_sizes([x, z], [torch.empty(4, 3), torch.empty(2, 5, 3)])
    assert sizes == {"N = 4": 4, "D = 3": 3, "x has 12 elements": 12, "batch dimension 0 has size 2": 2,
                     "batch dimension 1 has size 5": 5, "C = 3": 3, "z has 30 elements": 30}
    assert diagnoses.dimension_sizes([z], [torch.empty(4, 1)]) == {"the batch dimension has size 4": 4, "C = 1": 1}
    assert diagnoses.dimension_sizes([x], [torch.empty(4)]) == {}  # a literal that does not follow the shape


# ----------------------------------------------------------------------------- graded buggy implementations

@dataclass(frozen=True)
class Case:
    file: str
    exercise: str
    input: str
    cause: str                 # text the likely cause of `input`'s failure contains ({dims} from the trial)
    replay: str | None = None  # a trial of its own instead of Hypothesis's smallest failing one
    check: str = "backward"


GRADED = [
    Case("linear/bug_grad_w_divided_by_n", "linear", "w",
         "this is 1/{N} times the expected gradient: "
         "looks like a mean where a sum is expected (factor 1/{N}; N = {N})"),
    Case("linear/bug_grad_w_divided_by_n", "linear", "w", "looks like a mean where a sum is expected (factor 1/4; N = 4)",
         replay="N=4,D_in=3,D_out=2,values=11"),
    Case("factor_sum_where_mean", "bce_with_logits", "z", "looks like a sum where a mean is expected (factor "),
    Case("factor_sum_where_mean", "bce_with_logits", "z", "(factor 6; z has 6 elements)", replay="batch=2x3,values=5"),
    Case("factor_constant", "cube", "x", "this is 2 times the expected gradient"),
    Case("wrong_sign", "softmax", "x", "wrong sign: this is exactly the negative of the expected gradient"),
    Case("wrong_sign", "softmax", "x", "wrong sign", replay="C=4,batch=3,values=2"),
    Case("linear/bug_missing_transpose_grad_w", "linear", "w", "this is the transpose of the expected gradient"),
    Case("linear/bug_missing_transpose_grad_w", "linear", "w", "this is the transpose of the expected gradient",
         replay="N=2,D_in=3,D_out=3,values=4"),
    Case("linear/bug_missing_transpose_grad_w", "linear", "w", "the shape is transposed", check="finite_differences"),
    # shrunk to N = 1, where a missing sum and keepdims give the same values: both are named
    Case("linear/bug_grad_b_not_summed", "linear", "b",
         "a gradient not summed over a broadcast dimension that has size 1 in this example"),
    Case("linear/bug_grad_b_not_summed", "linear", "b", "'b' was broadcast over dim 0",
         replay="N=5,D_in=2,D_out=3,values=1"),
    Case("summed_where_no_sum_belongs", "linear", "x",
         "this is the expected gradient summed over dim 0, where no sum belongs"),
    Case("summed_where_no_sum_belongs", "linear", "x", "summed over dim 0, where no sum belongs",
         replay="N=3,D_in=2,D_out=4,values=8"),
    Case("ignores_upstream", "sigmoid", "x",
         "grad_output is ignored: this is the gradient for an all-ones grad_output"),
    Case("ignores_upstream", "sigmoid", "x", "grad_output is ignored", replay="batch=3x4,values=6"),
    Case("ignores_scalar_upstream", "one_layer_net", "w", "grad_output is ignored"),
    Case("ignores_scalar_upstream", "one_layer_net", "b", "grad_output is ignored", replay="D_in=4,D_out=5,values=3"),
]


def case_source(file: str) -> Path:
    """A case of its own in tests/diagnoses/, or a bug variant (exercise/stem) that shows the pattern."""
    own = CASES / f"{file}.py"
    return own if own.is_file() else VARIANTS / f"{file}.py"


def causes_of(message: str, input_name: str) -> list[str]:
    """The likely-cause lines that follow the report on `input_name`'s gradient."""
    causes, current = [], None
    for line in message.splitlines():
        if line.startswith(LIKELY):
            if current == input_name:
                causes.append(line[len(LIKELY):])
        elif "gradient for '" in line:
            current = line.split("gradient for '", 1)[1].split("'", 1)[0]
        else:
            current = None
    return causes


@pytest.fixture(scope="module")
def graded_exercise(tmp_path_factory):
    """graded_exercise(file, exercise, dtype) -> the prepared Exercise, loaded once per combination."""
    loaded = {}

    def load(file: str, exercise: str, dtype: str | None):
        key = (file, exercise, dtype)
        if key not in loaded:
            spec = load_exercise(exercise_yaml(exercise))
            spec = with_overrides(spec, dtype) if dtype else spec
            folder = tmp_path_factory.mktemp(file.replace("/", "-"))
            submit(case_source(file), spec, folder)
            loaded[key] = prepare(spec, folder)
        return loaded[key]

    return load


@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("case", GRADED, ids=lambda c: f"{c.file}-{c.check}-{c.replay or 'search'}")
def test_graded_bug_gets_its_diagnosis(case, dtype, graded_exercise):
    exercise = graded_exercise(case.file, case.exercise, dtype)
    result = run_check(exercise, case.check, RunOptions(replay=case.replay, trials=10))
    assert result.status == "failed", result.message
    dims = Trial.parse(case.replay or result.trial, exercise.spec).dims
    causes = causes_of(result.message, case.input)
    assert len(causes) == 1 and case.cause.format(**dims) in causes[0], result.message
    lines = result.message.splitlines()
    assert lines.index(LIKELY + causes[0]) < next(i for i, l in enumerate(lines) if l.startswith("  hint: "))


def test_a_factor_is_not_reported_for_an_ignored_scalar_upstream_gradient(graded_exercise):
    exercise = graded_exercise("ignores_scalar_upstream", "one_layer_net", None)
    message = run_check(exercise, "backward", RunOptions(replay="D_in=4,D_out=5,values=3")).message
    assert "times the expected gradient" not in message
    assert len(causes_of(message, "w")) == len(causes_of(message, "b")) == 1


def test_every_case_file_is_graded():
    assert {p.stem for p in CASES.glob("*.py")} == {c.file for c in GRADED if "/" not in c.file}
    assert all(case_source(c.file).is_file() for c in GRADED)


# ----------------------------------------------------------------------------- correct gradients

def _correct_files() -> list:
    """(file, dtype override): every solution in float64 and float32, every correct variant in float64."""
    graded = [p for p in sorted(SOLUTIONS.glob("*/*.py")) if exercise_yaml(p.stem).is_file()]
    variants = [p for p in sorted(VARIANTS.glob("*/*.py"))
                if exercise_yaml(p.parent.name).is_file() and parse_label(p).correct]
    return [pytest.param(p, dtype, id=f"{p.parent.name}/{p.stem}-{dtype or 'float64'}")
            for p, dtype in [(p, None) for p in graded + variants] + [(p, "float32") for p in graded]]


def _exercise_of(path: Path) -> str:
    return path.parent.name


def _noise(expected: torch.Tensor, tol: Closeness, seed: int) -> torch.Tensor:
    """Random errors of up to 90% of what the tolerance allows, element by element."""
    u = torch.rand(expected.shape, generator=torch.Generator().manual_seed(seed), dtype=F64) * 2 - 1
    return 0.9 * u * (tol.atol + tol.rtol * expected.abs() + tol.allowance)


@pytest.mark.parametrize("path, dtype", _correct_files())
def test_no_diagnosis_for_a_correct_gradient(path, dtype, tmp_path):
    spec = load_exercise(exercise_yaml(_exercise_of(path)))
    spec = with_overrides(spec, dtype) if dtype else spec
    submit(path, spec, tmp_path)
    exercise = prepare(spec, tmp_path)
    examples = [(make_inputs(spec, trial), trial.values_seed, trial) for trial in seeded_trials(spec, 2, seed=17)]
    examples += [(edge_case_inputs(spec, case), spec.seed, None) for case in spec.edge_cases]
    for tensors, seed, trial in examples:
        inputs = list(tensors.values())
        bound = for_trial(exercise, trial)  # the trial's params (leaky_relu's slope...) given to both sides
        _, upstream, grads = student_gradients(bound, inputs, seed)
        ref = ReferenceGradients(bound.spec, inputs, upstream)
        sizes = diagnoses.dimension_sizes(spec.inputs, inputs)
        differentiable = [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]
        for position, (index, spec_input) in enumerate(differentiable):
            expected, all_ones = ref.expected[position], ref.all_ones[position]
            tol = ref.closeness(position, spec_input, grads[index].dtype)
            noisy = expected + _noise(expected, tol, seed)
            assert tol.mismatch(noisy, expected) is None
            for grad in (grads[index], expected, noisy):
                assert diagnose(grad, expected, tol, all_ones, sizes, spec_input.name) == [], (spec_input.name, grad)


def test_kept_dims_names_keepdims_not_a_missing_sum():
    """dgamma of shape (1, D) for gamma (D,): the right values from a sum with keepdims=True."""
    rows = randn(2, 3)
    expected, kept = rows.sum(0), rows.sum(0, keepdim=True)
    (cause,) = diagnose(kept, expected, TOL64)
    assert cause.startswith("keepdims, or a missing sum: these are the right values with an extra dimension of "
                            "size 1 ((1, 3) for (3,))")
    assert diagnose(expected.reshape(3, 1), expected, TOL64)[0].startswith("keepdims: these are the right values")
    assert diagnoses.kept_dims(expected.reshape(1, 3) * 2, expected, TOL64) is None  # other values
    assert diagnoses.kept_dims(torch.zeros(2, 3), expected, TOL64) is None  # not size 1
    assert diagnoses.kept_dims(expected, expected, TOL64) is None


def test_a_keepdims_gradient_from_a_real_backward_gets_the_keepdims_cause(tmp_path):
    spec = load_exercise(exercise_yaml("layer_norm"))
    source = (SOLUTIONS / "layer_norm" / spec.student_file).read_text()
    wrong = source.replace("grad_weight = (rows_g * xhat.reshape(-1, features)).sum(dim=0)",
                           "grad_weight = (rows_g * xhat.reshape(-1, features)).sum(dim=0, keepdim=True)")
    assert wrong != source, "the solution's dweight line moved: update this test"
    (tmp_path / spec.student_file).write_text(wrong)
    result = run_check(prepare(spec, tmp_path), "backward")
    assert result.status == "failed"
    assert "gradient for 'weight' has shape (1, " in result.message
    assert "likely cause: keepdims" in result.message and "not summed over a broadcast dimension:" not in result.message
