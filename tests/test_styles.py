"""Student styles: an autograd.Function class, two torch functions (functional), two NumPy
functions (numpy). The same mistake gets the same verdict and message in every style; the
loader and the NumPy conversion say what is wrong; the sandbox grades the function styles as
the in-process grader does."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch
import yaml

from conftest import SOLUTIONS, VARIANTS, exercise_yaml, grade, submit
from gradcheck_suite.checks.forward import compare_forward
from gradcheck_suite.checks.verdicts import CheckFailure
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.sandbox.staging import Submission
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits
from gradcheck_suite.student.failures import ProtocolViolation
from gradcheck_suite.student.source_rules import scan_source

OPTIONS = RunOptions(trials=8)

# ----------------------------------------------------------------------------- one mistake, three styles

# The affine layer in each style. {prelude} runs first in forward; {dx}, {dw}, {db} are the
# backward's three expressions, written so that they run on torch tensors and NumPy arrays alike.
TEMPLATES = {
    "autograd_function": '''
import torch


class Affine(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        {prelude}
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, dout):
        x, w = ctx.saved_tensors
        return {dx}, {dw}, {db}
''',
    "functional": '''
def affine_forward(x, w, b):
    {prelude}
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return {dx}, {dw}, {db}
''',
}
TEMPLATES["numpy"] = "import numpy as np\n" + TEMPLATES["functional"]
STUDENT_BLOCKS = {
    "autograd_function": {"file": "affine.py", "class": "Affine"},
    "functional": {"file": "affine.py", "style": "functional", "forward": "affine_forward", "backward": "affine_backward"},
    "numpy": {"file": "affine.py", "style": "numpy", "forward": "affine_forward", "backward": "affine_backward"},
}
CORRECT = {"prelude": "pass", "dx": "dout @ w.T", "dw": "x.T @ dout", "db": "dout.sum(0)"}
MISTAKES = {  # name: (changes to CORRECT, the failing checks' statuses, text every failure message holds)
    "correct": ({}, {}, ""),
    "missing_transpose_dw": ({"dw": "dout.T @ x"}, {"backward": "failed"}, "gradient for 'w'"),
    "ignores_grad_output": ({"dx": "(dout * 0 + 1) @ w.T", "dw": "x.T @ (dout * 0 + 1)", "db": "(dout * 0 + 1).sum(0)"},
                            {"backward": "failed", "backward_properties": "failed"}, "gradient for 'x'"),
    "db_mean": ({"db": "dout.mean(0)"}, {"backward": "failed", "finite_differences": "failed"}, "gradient for 'b'"),
    "inplace_input": ({"prelude": "x -= x.mean(0)"}, {c: "failed" for c in ("forward", "backward")},
                      "<forward> modified its input 'x' (its values changed) in place"),
}
PHASES = {"Affine.forward": "<forward>", "affine_forward": "<forward>",
          "Affine.backward": "<backward>", "affine_backward": "<backward>"}


def _affine_in_style(folder, style: str, source: str):
    """The affine exercise with its student block in `style`, and `source` as the student's file."""
    document = yaml.safe_load(exercise_yaml("affine").read_text())
    document["student"] = STUDENT_BLOCKS[style]
    folder.mkdir(parents=True)
    (folder / "exercise.yaml").write_text(yaml.safe_dump(document))
    (folder / "affine.py").write_text(source)
    return load_exercise(folder / "exercise.yaml")


def _without_phase_names(message: str) -> str:
    for name, placeholder in PHASES.items():
        message = message.replace(name, placeholder)
    return message


@pytest.mark.parametrize("mistake", MISTAKES)
def test_the_same_mistake_gets_the_same_verdict_and_message_in_every_style(mistake, tmp_path):
    changes, failing, wording = MISTAKES[mistake]
    parts = {**CORRECT, **changes}
    verdicts = {}
    for style, template in TEMPLATES.items():
        spec = _affine_in_style(tmp_path / style, style, template.format(**parts))
        assert spec.student_style == style
        results = grade(spec, None, OPTIONS)
        verdicts[style] = {c: (r.status, _without_phase_names(r.message), r.trial) for c, r in results.items()}
    assert verdicts["functional"] == verdicts["autograd_function"]
    assert verdicts["numpy"] == verdicts["autograd_function"]
    for check, expected in failing.items():
        status, message, _ = verdicts["functional"][check]
        assert status == expected and wording in message, message
    if not failing:
        assert {status for status, _, _ in verdicts["functional"].values()} == {"passed"}


# ----------------------------------------------------------------------------- the loader's messages

def _load_error(spec, tmp_path, source: str) -> str:
    (tmp_path / spec.student_file).write_text(textwrap.dedent(source))
    exercise = prepare(spec, tmp_path)
    assert exercise.op is None
    assert {run_check(exercise, c).status for c in spec.checks} == {"error"}
    return exercise.load_error


def test_a_missing_function_is_named_with_what_the_file_defines(tmp_path):
    spec = load_exercise(exercise_yaml("affine"))
    message = _load_error(spec, tmp_path, """
        def affine_forward(x, w, b):
            return x @ w + b, (x, w)

        def affine_bwd(dout, cache):
            return None
    """)
    assert message == "affine.py defines no function 'affine_backward' (it defines: affine_bwd, affine_forward)"


def test_a_class_where_functions_are_expected_says_which_style_the_exercise_asks_for(tmp_path):
    spec = load_exercise(exercise_yaml("affine"))
    message = _load_error(spec, tmp_path, (VARIANTS / "linear" / "correct_einsum.py").read_text())
    assert message == ("affine.py defines no function 'affine_forward'; this exercise asks for two functions, "
                       "affine_forward(*inputs) -> (out, cache) and affine_backward(dout, cache) -> gradients, "
                       "on tensors, not a torch.autograd.Function class (Linear)")


def test_functions_where_a_class_is_expected_says_which_style_the_exercise_asks_for(tmp_path):
    spec = load_exercise(exercise_yaml("linear"))
    message = _load_error(spec, tmp_path, (SOLUTIONS / "affine" / "affine.py").read_text())
    assert message == ("linear.py defines no class 'Linear' (it defines only functions: affine_backward, "
                       "affine_forward); this exercise asks for a torch.autograd.Function subclass named Linear")


def test_a_name_that_is_not_a_function_is_refused(tmp_path):
    spec = load_exercise(exercise_yaml("relu_numpy"))
    message = _load_error(spec, tmp_path, """
        import numpy as np

        relu_forward = np.maximum

        class relu_backward:
            pass
    """)
    assert message == ("relu_backward in relu_numpy.py must be a function, not a class: this exercise asks for two "
                       "functions, relu_forward(*inputs) -> (out, cache) and relu_backward(dout, cache) -> gradients, "
                       "on arrays")


# ----------------------------------------------------------------------------- NumPy in and out

def _relu_numpy_op(tmp_path, forward_body: str, backward_body: str = "return dout * (x > 0)"):
    spec = load_exercise(exercise_yaml("relu_numpy"))
    source = (f"import numpy as np\n\n\ndef relu_forward(x):\n    {forward_body}\n\n\n"
              f"def relu_backward(dout, x):\n    {backward_body}\n")
    (tmp_path / spec.student_file).write_text(source)
    exercise = prepare(spec, tmp_path)
    assert exercise.load_error is None, exercise.load_error
    return exercise


X = torch.tensor([[-1.0, 2.0, 0.5], [3.0, -0.25, 1.5]], dtype=torch.float64)


@pytest.mark.parametrize("forward_body, expected", [
    ("return float(x.max()), x", "relu_forward returned float, expected a single NumPy array"),
    ("return np.maximum(x, 0).tolist(), x", "relu_forward returned list, expected a single NumPy array"),
    ("return np.maximum(x, 0)", "relu_forward returned ndarray, expected a pair (out, cache)"),
    ("return np.maximum(x, 0), x, x", "relu_forward returned a tuple of 3 values, expected a pair (out, cache)"),
])
def test_a_forward_that_returns_no_array_is_told_what_to_return(forward_body, expected, tmp_path):
    exercise = _relu_numpy_op(tmp_path, forward_body)
    with pytest.raises(ProtocolViolation) as raised:
        exercise.op.forward([X])
    assert str(raised.value).startswith(expected), raised.value


@pytest.mark.parametrize("backward_body, expected", [
    ("return (dout * (x > 0)).tolist()", "relu_backward returned a list as the gradient for 'x', expected a NumPy array"),
    ("return float((dout * (x > 0)).sum())", "relu_backward returned a float as the gradient for 'x', "
                                             "expected a NumPy array"),
    ("return dout * (x > 0), dout", "relu_backward returned 2 gradients, expected 1"),
])
def test_a_backward_that_returns_no_array_is_told_what_to_return(backward_body, expected, tmp_path):
    exercise = _relu_numpy_op(tmp_path, "return np.maximum(x, 0), x", backward_body)
    run = exercise.op.forward([X])
    with pytest.raises(ProtocolViolation) as raised:
        exercise.op.backward(run, [torch.ones_like(X)])
    assert str(raised.value).startswith(expected), raised.value


@pytest.mark.parametrize("forward_body, expected", [
    ("return np.maximum(x, 0).astype(np.float32), x", "forward returned dtype float32, expected float64"),
    ("return np.maximum(x, 0).ravel(), x", "forward returned shape (6,), expected (2, 3)"),
])
def test_a_wrong_dtype_or_shape_is_reported_not_converted(forward_body, expected, tmp_path):
    exercise = _relu_numpy_op(tmp_path, forward_body)
    with pytest.raises(CheckFailure) as raised:
        compare_forward(exercise, [X])
    assert raised.value.message.startswith(expected), raised.value.message


def test_the_upstream_gradient_is_the_backwards_own_copy_but_a_saved_input_is_not(tmp_path):
    """CS231n's `dx = dout; dx[x <= 0] = 0` writes into dout: harmless in a NumPy network, so the
    backward gets its own copy. The cached input shares memory with the grader's tensor, so
    changing it in place is caught, with the reason it breaks a network."""
    exercise = _relu_numpy_op(tmp_path, "return np.maximum(x, 0), x", "dx = dout\n    dx[x <= 0] = 0\n    return dx")
    run = exercise.op.forward([X])
    assert run.output.dtype == torch.float64 and torch.equal(run.output, X.clamp(min=0))
    upstream = torch.full_like(X, 0.5)
    (grad,) = exercise.op.backward(run, [upstream])
    assert torch.equal(grad, 0.5 * (X > 0)) and torch.equal(upstream, torch.full_like(X, 0.5))
    exercise = _relu_numpy_op(tmp_path, "return np.maximum(x, 0), x", "x[x <= 0] = 0\n    return dout * (x > 0)")
    run = exercise.op.forward([X])
    with pytest.raises(ProtocolViolation, match=r"relu_backward modified its saved input 'x' \(its values changed\) "
                                                r"in place: in a network that tensor is the previous layer's output"):
        exercise.op.backward(run, [torch.ones_like(X)])


@pytest.mark.parametrize("forward_body, verdict", [
    # np.zeros is float64, NumPy's default, whatever x is: accepted in a float32 exercise and cast
    ("out = np.zeros(x.shape)\n    out[x > 0] = x[x > 0]\n    return out, x", "passes"),
    ("return np.maximum(x, 0).astype(np.float16), x", "forward returned dtype float16, expected float32"),
])
def test_a_float64_array_is_accepted_in_a_float32_exercise_and_lower_precision_is_not(forward_body, verdict, tmp_path):
    exercise = _relu_numpy_op(tmp_path, forward_body, "dx = np.zeros(x.shape)\n    dx[x > 0] = dout[x > 0]\n    return dx")
    x = X.to(torch.float32)
    if verdict == "passes":
        compare_forward(exercise, [x])
        run = exercise.op.forward([x])
        (grad,) = exercise.op.backward(run, [torch.ones_like(x)])
        assert run.output.dtype == grad.dtype == torch.float32
        assert torch.equal(grad, (x > 0).to(torch.float32))
    else:
        with pytest.raises(CheckFailure) as raised:
            compare_forward(exercise, [x])
        assert raised.value.message.startswith(verdict), raised.value.message


def test_numpy_scalars_from_a_0_d_input_come_back_as_0_d_tensors(tmp_path):
    exercise = _relu_numpy_op(tmp_path, "return np.maximum(x, 0), x")
    x = torch.tensor(1.5, dtype=torch.float32)
    run = exercise.op.forward([x])
    (grad,) = exercise.op.backward(run, [torch.tensor(0.25, dtype=torch.float32)])
    assert (run.output.shape, run.output.dtype, float(run.output.detach())) == ((), torch.float32, 1.5)
    assert (grad.shape, grad.dtype, float(grad)) == ((), torch.float32, 0.25)


def test_an_exercise_the_numpy_style_cannot_run_is_an_error_of_the_exercise(tmp_path):
    from gradcheck_suite.exercise.load import with_overrides

    spec = with_overrides(load_exercise(exercise_yaml("relu_numpy")), "bfloat16")
    exercise = prepare(spec, SOLUTIONS)
    assert exercise.load_error == "relu_numpy uses the numpy style, which cannot run in bfloat16 (NumPy has no bfloat16)"


# ----------------------------------------------------------------------------- autograd in the backward function

def test_the_named_backward_function_may_not_use_autograd(tmp_path):
    source = textwrap.dedent("""
        import torch


        def affine_forward(x, w, b):
            return x @ w + b, (x, w, b)


        def affine_backward(dout, cache):
            with torch.enable_grad():
                leaves = [t.detach().requires_grad_() for t in cache]
                out = leaves[0] @ leaves[1] + leaves[2]
                return torch.autograd.grad(out, leaves, dout)
    """)
    found = [(f.line, f.kind, f.message) for f in scan_source(source, backward="affine_backward")]
    assert [(line, kind) for line, kind, _ in found] == [(10, "forbidden"), (11, "forbidden"), (13, "forbidden")]
    assert "uses torch.autograd.grad: autograd is not allowed anywhere in this exercise" in found[-1][2]
    spec = load_exercise(exercise_yaml("affine"))
    (tmp_path / "affine.py").write_text(source)
    result = run_check(prepare(spec, tmp_path), "backward")
    assert result.status == "failed" and "affine.py, line 13: uses torch.autograd.grad" in result.message


def test_autograd_hidden_in_a_helper_is_caught_when_the_backward_function_runs(tmp_path):
    spec = load_exercise(exercise_yaml("affine"))
    (tmp_path / "affine.py").write_text(textwrap.dedent("""
        import torch


        def _by_autograd(x, w, b, dout):
            with torch.enable_grad():
                leaves = [t.detach().clone().requires_grad_(True) for t in (x, w, b)]
                return torch.autograd.grad(leaves[0] @ leaves[1] + leaves[2], leaves, dout)


        def affine_forward(x, w, b):
            return x @ w + b, (x, w, b)


        def affine_backward(dout, cache):
            return _by_autograd(*cache, dout)
    """))
    exercise = prepare(spec, tmp_path)
    result = run_check(exercise, "backward", OPTIONS)
    assert result.status == "failed" and "uses torch.autograd.grad: autograd is not allowed anywhere" in result.message
    # the run-time watch, for what the source check cannot see (a name built at run time)
    x, w, b = torch.randn(2, 3, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64), torch.zeros(4)
    run = exercise.op.forward([x, w, b.double()])
    with pytest.raises(ProtocolViolation, match=r"^affine_backward used autograd \(.*called torch.autograd.grad"):
        exercise.op.backward(run, [torch.ones(2, 4, dtype=torch.float64)])


# ----------------------------------------------------------------------------- in the sandbox

SANDBOXED = [("affine", SOLUTIONS / "affine" / "affine.py"), ("affine", VARIANTS / "affine" / "bug_missing_transpose_dw.py"),
             ("relu_numpy", SOLUTIONS / "relu_numpy" / "relu_numpy.py"), ("relu_numpy", VARIANTS / "relu_numpy" / "bug_inplace_input.py"),
             ("affine", VARIANTS / "linear" / "correct_einsum.py")]  # a class where functions are expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
def test_the_function_styles_grade_the_same_isolated_as_in_process(tmp_path):
    box = Sandbox(WorkerLimits(time_seconds=30))
    compared = RunOptions(trials=4)
    try:
        for index, (name, source) in enumerate(SANDBOXED):
            spec = load_exercise(exercise_yaml(name))
            submission = tmp_path / str(index)
            submit(source, spec, submission)
            local = grade(spec, submission, compared)
            exercise = prepare(spec, submission, box, Submission.collect({spec.student_file: submission / spec.student_file}))
            try:
                isolated = {check: run_check(exercise, check, compared) for check in spec.checks}
            finally:
                exercise.close()
            for check in spec.checks:
                assert (isolated[check].status, isolated[check].message, isolated[check].trial) == \
                       (local[check].status, local[check].message, local[check].trial), (source.name, check)
            if source.parent.parent == SOLUTIONS:
                assert {r.status for r in isolated.values()} == {"passed"}  # not flagged: NumPy runs no torch operator
            else:
                assert {r.status for r in isolated.values()} & {"failed", "error"}, source.name
    finally:
        box.close()


CS231N_AFFINE_STUB = '''
from builtins import range
import numpy as np


def affine_forward(x, w, b):
    out = None
    ###########################################################################
    # TODO: Implement the affine forward pass. Store the result in out.       #
    ###########################################################################
    {forward}
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the affine backward pass.                               #
    ###########################################################################
    {backward}
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return dx, dw, db
'''


@pytest.mark.parametrize("forward, backward, phase, returned", [
    ("pass", "pass", "affine_forward", "(None, cache)"),
    ("out = x @ w + b", "pass", "affine_backward", "(None, None, None)"),
])
def test_a_cs231n_stub_is_not_implemented_yet_not_a_wrong_type(forward, backward, phase, returned, tmp_path):
    spec = load_exercise(exercise_yaml("affine"))
    (tmp_path / spec.student_file).write_text(CS231N_AFFINE_STUB.format(forward=forward, backward=backward))
    exercise = prepare(spec, tmp_path)
    results = {check: run_check(exercise, check) for check in spec.checks}
    stubbed = [r for r in results.values() if r.status != "passed"]
    assert stubbed and all(r.not_implemented for r in stubbed), [(r.check, r.message) for r in stubbed]
    assert f"{phase} is not implemented yet (it returns {returned})" in stubbed[0].message
    if phase == "affine_backward":
        assert results["forward"].status == "passed"


@pytest.mark.parametrize("body, returned", [("pass", "None"), ("return None", "None")])
def test_an_autograd_function_stub_is_not_implemented_yet(body, returned, tmp_path):
    spec = load_exercise(exercise_yaml("relu"))
    (tmp_path / spec.student_file).write_text(
        "import torch\n\n\nclass ReLU(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
        f"        {body}\n\n    @staticmethod\n    def backward(ctx, grad_output):\n        {body}\n")
    result = run_check(prepare(spec, tmp_path), "forward")
    assert result.not_implemented and result.message == f"ReLU.forward is not implemented yet (it returns {returned})"
