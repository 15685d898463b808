"""The source check: forbidden calls (through aliases) and constructs flagged for review."""

from __future__ import annotations

import textwrap

import pytest
import torch

from conftest import SOLUTIONS, VARIANTS, exercise_yaml, parse_label
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import family_forbid, prepare, run_check
from gradcheck_suite.student.failures import ProtocolViolation
from gradcheck_suite.student.op import StudentOp
from gradcheck_suite.student.source_rules import scan_source

SOFTMAX = ("torch.nn.functional.softmax",)


def _findings(source: str, forbid=(), allow=()):
    return [(f.line, f.kind, f.message) for f in scan_source(textwrap.dedent(source), forbid, allow)]


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*/*.py")) + sorted(VARIANTS.glob("*/*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_honest_files_have_no_findings(path):
    spec = load_exercise(exercise_yaml(path.parent.name))
    found = _findings(path.read_text(), spec.forbid, spec.allow_imports)
    deliberately_forbidden = "autograd_in_backward" in path.stem or "forbidden" in path.stem
    if path.parent.parent != SOLUTIONS and not parse_label(path).correct and deliberately_forbidden:
        assert {kind for _, kind, _ in found} == {"forbidden"}
    else:
        assert found == []


@pytest.mark.parametrize("source, line", [
    ("import torch\ny = torch.nn.functional.softmax(x, -1)\n", 2),
    ("import torch.nn.functional as F\ny = F.softmax(x, dim=-1)\n", 2),
    ("from torch.nn.functional import softmax as sm\n", 1),
    ("import torch\ny = torch.softmax(x, -1)\n", 2),
    ("import torch\ny = torch.special.softmax(x, -1)\n", 2),
    ("import torch\ny = x.softmax(-1)\n", 2),
    ("import torch as T\nf = T.nn.functional\ny = f.softmax(x)\n", 3),
])
def test_a_forbidden_function_is_found_through_aliases(source, line):
    found = _findings(source, SOFTMAX)
    assert (line, "forbidden") in {(n, k) for n, k, _ in found}, found
    assert any("torch.nn.functional.softmax" in m for _, _, m in found)


def test_names_that_only_look_alike_are_not_forbidden():
    assert _findings("import torch\ny = torch.log_softmax(x, -1)\nz = x.exp() / x.exp().sum()\n", SOFTMAX) == []


def test_autograd_is_forbidden_anywhere_but_the_function_api_is_not():
    source = """
        import torch
        from torch.autograd import grad as g
        from torch.autograd.function import once_differentiable

        class F(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                with torch.no_grad():
                    return x * 2

            @staticmethod
            @once_differentiable
            def backward(ctx, grad_output):
                with torch.enable_grad():
                    y = ctx.x.requires_grad_()
                    return g(y, y, grad_output)
    """
    found = _findings(source)
    assert [(line, kind) for line, kind, _ in found] == [(3, "forbidden"), (15, "forbidden"), (16, "forbidden"),
                                                         (17, "forbidden")]
    assert _findings("import torch\nwith torch.enable_grad():\n    pass\n")[0][1] == "forbidden"


@pytest.mark.parametrize("source", [
    # a Jacobian kept from the forward for the backward
    "import torch\ndef forward(ctx, x):\n    ctx.j = torch.autograd.functional.jacobian(torch.sin, x)\n",
    "import torch.func as tf\ndef forward(ctx, x):\n    ctx.vjp = tf.vjp(torch.sin, x)[1]\n",
    "from torch.autograd import forward_ad\n",
    "import torch\ndef backward(ctx, g):\n    return ctx.out.grad_fn.next_functions[0][0](g)\n",
    "import torch\ndef backward(ctx, g):\n    return torch.autograd.Variable._execution_engine.run_backward(g)\n",
    "import torch\ndef backward(ctx, g):\n    return torch.native_layer_norm_backward(g, *ctx.saved)\n",
    "import torch.nn.grad as ng\ndef backward(ctx, g):\n    return ng.conv2d_input(ctx.shape, ctx.w, g)\n",
    "import torch\ndef forward(ctx, x):\n    y = x.detach().requires_grad_()\n    return y\n",
    "import torch.nn.functional as F\nk = F.torch.ops.aten.gelu_backward\n",  # torch, re-exported by F
])
def test_autograd_and_torchs_backward_kernels_are_forbidden_in_any_function(source):
    found = _findings(source)
    assert any(kind == "forbidden" for _, kind, _ in found), found


@pytest.mark.parametrize("source, what", [
    ("import torch\nmode = torch._C.DisableTorchFunction()\n", "torch._C"),
    ("import torch\nfrom torch.utils._python_dispatch import _disable_current_modes\n", "torch.utils"),
    ("import torch\nx = torch.nn.functional._canonical_mask\n", "private API"),
    ("import torch\nsolution = torch.builtins.open('/autograder/source/solution.py')\n", "torch.builtins"),
    ("import torch\nos = torch.os\n", "the standard module os as torch re-exports it"),
    ("import torch\ntorch.importlib.import_module('os')\n", "torch.importlib"),
    ("import operator\nf = operator.attrgetter('autograd.grad')\n", "attribute access by string"),
    ("import torch.nn.functional as F\nk = F.torch.ops.aten.gelu\n", "torch.ops"),
])
def test_torchs_private_api_reexported_modules_and_access_by_string_are_flagged(source, what):
    found = _findings(source)
    assert any(kind == "review" and what in message for _, kind, message in found), found


@pytest.mark.parametrize("source, what", [
    ("import os\n", "imports os"),
    ("import subprocess as s\n", "imports subprocess"),
    ("from importlib import import_module\n", "imports importlib"),
    ("f = open('x')\n", "uses open"),
    ("exec('1')\n", "uses exec"),
    ("__import__('os')\n", "uses __import__"),
    ("import sys\nf = sys._getframe(1)\n", "_getframe"),
    ("x = ().__class__.__base__.__subclasses__()\n", "__class__"),
    ("import torch\ntorch._C._set_grad_enabled(True)\n", "torch._C"),
    ("import torch\ny = torch.ops.aten.sigmoid(x)\n", "torch.ops"),
    ("import torch\ntorch.allclose = None\nimport torch.testing\n", "torch.testing"),
    ("class T:\n    def __torch_function__(cls, *a):\n        pass\n", "__torch_function__"),
    ("import torch\nag = getattr(torch, 'autograd')\n", "getattr"),
    ("from .helpers import x\n", "relative import"),
])
def test_constructs_no_backprop_exercise_needs_are_flagged_for_review(source, what):
    found = _findings(source)
    assert any(kind == "review" and what in message for _, kind, message in found), found


def test_an_instructor_can_allow_an_import():
    assert _findings("import scipy.special\n") != []
    assert _findings("import scipy.special\n", allow=("scipy",)) == []


def test_a_flagged_submission_is_graded_but_earns_no_points(tmp_path):
    spec = load_exercise(exercise_yaml("relu"))
    (tmp_path / "relu.py").write_text((SOLUTIONS / "relu" / "relu.py").read_text() + "\nimport os\n")
    exercise = prepare(spec, tmp_path)
    result = run_check(exercise, "backward", RunOptions())
    assert result.status == "flagged"
    assert "relu.py, line " in result.message and "imports os" in result.message
    (tmp_path / "relu.py").write_text((SOLUTIONS / "relu" / "relu.py").read_text().replace("grad_output * (x > 0)", "grad_output"))
    (tmp_path / "relu.py").write_text((tmp_path / "relu.py").read_text() + "\nimport os\n")
    assert run_check(prepare(spec, tmp_path), "backward", RunOptions()).status == "failed"  # wrong beats flagged


class _HiddenSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return getattr(torch, "soft" + "max")(x, -1)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def test_a_forbidden_call_hidden_from_the_source_check_is_caught_when_it_runs(tmp_path):
    op = StudentOp(_HiddenSoftmax, ["x"], [True], tmp_path / "softmax.py", forbid=SOFTMAX)
    with pytest.raises(ProtocolViolation, match=r"_HiddenSoftmax.forward called softmax .*forbidden: "
                                                r"torch.nn.functional.softmax"):
        op.forward([torch.randn(2, 3, dtype=torch.float64)])



class _JacobianInForward(torch.autograd.Function):
    """Keeps the vjp of its own forward for backward: autograd, used in the forward."""

    @staticmethod
    def forward(ctx, x):
        with torch.enable_grad():
            leaf = x.detach().requires_grad_()
            out = leaf.tanh()
        ctx.save_for_backward(leaf, out)
        return out.detach()

    @staticmethod
    def backward(ctx, grad_output):
        leaf, out = ctx.saved_tensors
        return grad_output * (1 - out * out)


class _BackwardKernel(torch.autograd.Function):
    """Asks torch's own backward kernel for the answer, through a name the source check cannot read."""

    @staticmethod
    def forward(ctx, x):
        out = x.tanh()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return getattr(torch.ops.aten, "tanh_" + "backward")(grad_output, out)


class _SwitchesTheWatchOff(torch.autograd.Function):
    """Takes the grader's torch-function mode off its stack, so that later calls go unseen."""

    @staticmethod
    def forward(ctx, x):
        torch._C._pop_torch_function_stack()
        return torch.nn.functional.softmax(x, -1)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def test_autograd_used_in_a_forward_is_caught_when_it_runs(tmp_path):
    op = StudentOp(_JacobianInForward, ["x"], [True], tmp_path / "tanh.py")
    with pytest.raises(ProtocolViolation, match=r"_JacobianInForward.forward used autograd \(.*turned gradient "
                                                r"tracking back on.*autograd is not allowed anywhere"):
        op.forward([torch.randn(3, dtype=torch.float64)])


def test_torchs_backward_kernels_are_forbidden_in_every_exercise_when_they_run(tmp_path):
    op = StudentOp(_BackwardKernel, ["x"], [True], tmp_path / "tanh.py")  # no forbid list at all
    run = op.forward([torch.randn(3, dtype=torch.float64)])
    with pytest.raises(ProtocolViolation, match=r"_BackwardKernel.backward called aten.tanh_backward \(forbidden: "
                                                r"torch's own backward kernels\)"):
        op.backward(run, [torch.ones(3, dtype=torch.float64)])


def test_a_guard_switched_off_by_student_code_fails_the_call(tmp_path):
    op = StudentOp(_SwitchesTheWatchOff, ["x"], [True], tmp_path / "softmax.py", forbid=SOFTMAX)
    with pytest.raises(ProtocolViolation, match=r"switched off the grader's watch on its calls \(the torch-function "
                                                r"watch\)"):
        op.forward([torch.randn(2, 3, dtype=torch.float64)])

HONEST_HABITS = {
    "CS231n's template imports": "from builtins import range\nfrom builtins import object\nimport numpy as np\n",
    "__future__, typing, dataclasses, functools, itertools, collections, math, copy":
        "from __future__ import annotations\nimport typing\nfrom dataclasses import dataclass\nimport functools\n"
        "import itertools\nfrom collections import OrderedDict\nimport math\nimport copy\n",
    "__all__": "__all__ = ['Softmax', 'helper']\n",
    "a parameter named input (the PyTorch tutorial's LinearFunction)": """
        import torch

        class LinearFunction(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input, weight, bias=None):
                ctx.save_for_backward(input, weight, bias)
                return input.mm(weight.t()) + bias

            @staticmethod
            def backward(ctx, grad_output):
                input, weight, bias = ctx.saved_tensors
                return grad_output.mm(weight), grad_output.t().mm(input), grad_output.sum(0)
    """,
    "an attribute named like the forbidden function": """
        import torch

        class Softmax(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                e = (x - x.max(-1, keepdim=True).values).exp()
                ctx.softmax = e / e.sum(-1, keepdim=True)
                return ctx.softmax

            @staticmethod
            def backward(ctx, grad_output):
                s = ctx.softmax
                return s * (grad_output - (grad_output * s).sum(-1, keepdim=True))
    """,
    "a helper class with its own backward method": """
        import torch

        class Affine:
            def __init__(self, w):
                self.w = w

            def backward(self, dout):
                return dout @ self.w.T

        class Net(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                return x @ w

            @staticmethod
            def backward(ctx, grad_output):
                x, w = ctx.saved_tensors
                return Affine(w).backward(grad_output), x.T @ grad_output
    """,
    "prints and a self-test under __main__": """
        import torch

        def softmax_forward(x):
            print("forward", x.shape)
            e = x.exp()
            return e / e.sum(-1, keepdim=True), None

        if __name__ == "__main__":
            import os, time
            x = torch.randn(3, 4)
            torch.testing.assert_close(softmax_forward(x)[0], torch.nn.functional.softmax(x, -1))
            print(open(os.devnull).read(), time.time())
    """,
}


@pytest.mark.parametrize("habit", HONEST_HABITS)
def test_the_habits_of_honest_students_are_neither_flagged_nor_failed(habit):
    assert _findings(HONEST_HABITS[habit], SOFTMAX + ("torch.nn.functional.linear",)) == []


@pytest.mark.parametrize("source, what", [
    ("from builtins import open\nf = open('x')\n", "builtins.open"),
    ("import builtins\nf = builtins.exec('1')\n", "builtins.exec"),
    ("def forward(input):\n    return input\n\ndef leak():\n    return input('secret? ')\n", "uses input"),
    ("import torch\nif __name__ != '__main__':\n    import os\n", "imports os"),
])
def test_the_same_names_used_as_the_attacks_use_them_are_still_flagged(source, what):
    found = _findings(source)
    assert any(kind == "review" and what in message for _, kind, message in found), found


def test_a_forbidden_method_called_on_a_tensor_is_still_forbidden_beside_a_same_named_attribute():
    source = "import torch\ndef f(x, ctx):\n    ctx.cache = 1\n    return x.softmax(-1)\n"
    assert [(line, kind) for line, kind, _ in _findings(source, SOFTMAX)] == [(4, "forbidden")]


# ----------------------------------------------------------------------------- families derived from the reference

@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*/*.py")) + sorted(VARIANTS.glob("*/correct_*.py")),
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_families_derived_from_the_reference_forbid_nothing_an_honest_answer_uses(path):
    spec = load_exercise(exercise_yaml(path.parent.name))
    assert _findings(path.read_text(), spec.forbid + family_forbid(spec), spec.allow_imports) == []


def test_families_are_derived_from_what_the_reference_runs():
    specs = {name: load_exercise(exercise_yaml(name))
             for name in ("layer_norm", "conv2d", "max_pool2d", "gelu", "mlp_loss", "linear", "lstm_cell")}
    derived = {name: set(family_forbid(spec)) for name, spec in specs.items()}
    assert all(not derived[name] & set(spec.forbid) for name, spec in specs.items()), "only what forbid: lacks"
    derived = {name: derived[name] | set(specs[name].forbid) for name in specs}
    assert {"torch.native_group_norm", "torch.native_batch_norm", "torch.group_norm"} <= derived["layer_norm"]
    assert {"torch.conv3d", "torch.conv_transpose2d", "torch.convolution"} <= derived["conv2d"]
    assert {"torch.max_pool3d", "torch.max_unpool3d", "torch.avg_pool2d"} <= derived["max_pool2d"]
    assert derived["gelu"] == {"torch.gelu", *specs["gelu"].forbid}
    assert "torch.relu" not in derived["mlp_loss"], "relu is not the whole exercise there"
    assert "torch._log_softmax" in derived["mlp_loss"]
    assert derived["linear"] == set(specs["linear"].forbid), "primitives are in no family"
    assert derived["lstm_cell"] == set(specs["lstm_cell"].forbid), "sigmoid and tanh there are not the whole exercise"


@pytest.mark.parametrize("exercise, body", [
    ("layer_norm", "return torch.native_group_norm(x.reshape(-1, x.shape[-1], 1), weight, bias, "
                   "x.reshape(-1, x.shape[-1]).shape[0], x.shape[-1], 1, 1, 1e-5)[0].reshape(x.shape)"),
    ("max_pool2d", "return torch.max_pool3d(x.unsqueeze(2), (1, 2, 2), (1, 2, 2)).squeeze(2)"),
])
def test_a_neighbouring_kernel_the_forbid_list_misses_is_forbidden_by_its_family(exercise, body, tmp_path):
    spec = load_exercise(exercise_yaml(exercise))
    names = ", ".join(i.name for i in spec.inputs)
    (tmp_path / spec.student_file).write_text(
        f"import torch\n\n\nclass {spec.student_class}(torch.autograd.Function):\n    @staticmethod\n"
        f"    def forward(ctx, {names}):\n        {body}\n\n    @staticmethod\n"
        f"    def backward(ctx, grad_output):\n        return (None,) * {len(spec.inputs)}\n")
    result = run_check(prepare(spec, tmp_path), "forward")
    assert result.status == "failed" and "which this exercise forbids" in result.message, result.message
