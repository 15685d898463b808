"""`gradcheck-suite new NAME --reference DOTTED.PATH`: an exercise that validates at once."""

from __future__ import annotations

import os

import pytest
import torch

from gradcheck_suite.cli import main
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.exercise.schema import SCAFFOLD_STYLES
from gradcheck_suite.instructor.scaffold import REPO_ROOT, reference_parameters, schema_modeline

# reference -> the inputs guessed for it: (name, shape)
REFERENCES = {
    "torch.nn.functional.gelu": [("x", ("...",))],
    "torch.sigmoid": [("x", ("...",))],
    "torch.nn.functional.linear": [("x", ("N", "D_in")), ("weight", ("D_out", "D_in")), ("bias", ("D_out",))],
    "torch.matmul": [("x", ("N", "K")), ("other", ("K", "M"))],
}


@pytest.mark.parametrize("style", SCAFFOLD_STYLES)
@pytest.mark.parametrize("reference", sorted(REFERENCES))
def test_new_exercise_validates_at_once(tmp_path, capsys, reference, style):
    name = reference.rsplit(".", 1)[-1] + "_ex"
    assert main(["new", name, "--reference", reference, "--style", style, "--dir", str(tmp_path)]) == 0
    assert f"{tmp_path / name / 'exercise.yaml'}: ok ({name}," in capsys.readouterr().out
    assert main(["validate", str(tmp_path / name)]) == 0
    spec = load_exercise(tmp_path / name / "exercise.yaml")
    assert [(i.name, i.shape) for i in spec.inputs] == REFERENCES[reference]
    assert spec.reference.target == reference and spec.student_style == style
    assert spec.forbid == (reference,)
    solution = (tmp_path / name / f"{name}.py").read_text()
    compile(solution, name, "exec")
    assert solution.count("# BEGIN SOLUTION") == solution.count("# END SOLUTION") == 2
    # no modeline outside this checkout: an absolute path into it would travel with the course
    assert "yaml-language-server" not in (tmp_path / name / "exercise.yaml").read_text()


def test_new_solution_template_goes_through_release_once_written(tmp_path, capsys):
    """Unwritten, the template is refused by release (its solution raises); with the solution
    between the markers, release writes the students' stub."""
    src = tmp_path / "src"
    assert main(["new", "sig", "--reference", "torch.sigmoid", "--dir", str(src)]) == 0
    assert main(["release", str(src), str(tmp_path / "dest"), "--trials", "3"]) == 1
    assert "the solution fails check 'forward' (error): Sig.forward is not implemented yet" in capsys.readouterr().out
    template = src / "sig" / "sig.py"
    written = template.read_text().replace(
        '        raise NotImplementedError("Sig.forward: the instructor\'s solution is not written yet")\n',
        "        out = 1 / (1 + torch.exp(-x))\n        ctx.save_for_backward(out)\n        return out\n",
    ).replace(
        '        raise NotImplementedError("Sig.backward: the instructor\'s solution is not written yet")\n',
        "        (out,) = ctx.saved_tensors\n        return grad_output * out * (1 - out)\n",
    )
    template.write_text(written)
    assert main(["release", str(src), str(tmp_path / "dest"), "--trials", "3"]) == 0
    stub = (tmp_path / "dest" / "sig" / "sig.py").read_text()
    assert '        raise NotImplementedError("Sig.forward: compute sigmoid(x)")\n' in stub
    assert "torch.exp" not in stub


@pytest.mark.parametrize("args, message", [
    (["new", "gelu", "--reference", "torch.nn.functional.no_such_function"],
     "--reference torch.nn.functional.no_such_function: cannot import it: module 'torch.nn.functional' has no "
     "attribute 'no_such_function'"),
    (["new", "x", "--reference", "no_such_package.f"], "cannot import it: no module found for 'no_such_package.f'"),
    (["new", "2fast", "--reference", "torch.sigmoid"], "'2fast' is not an identifier"),
])
def test_new_refuses_with_status_2_and_writes_nothing(tmp_path, capsys, args, message):
    assert main(args + ["--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_new_refuses_an_existing_folder(tmp_path, capsys):
    (tmp_path / "gelu").mkdir()
    assert main(["new", "gelu", "--reference", "torch.nn.functional.gelu", "--dir", str(tmp_path)]) == 2
    assert f"{tmp_path / 'gelu'}: already exists" in capsys.readouterr().err
    assert os.listdir(tmp_path / "gelu") == []


def test_schema_modeline_is_relative_inside_the_checkout_and_absent_outside(tmp_path):
    assert schema_modeline(REPO_ROOT / "exercises" / "gelu") == \
        "# yaml-language-server: $schema=../../docs/schema/exercise.schema.json"
    root = tmp_path / "checkout"
    (root / "course" / "week1").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    assert schema_modeline(root / "course" / "week1" / "gelu", root / "docs" / "s.json", root) == \
        "# yaml-language-server: $schema=../../../docs/s.json"
    assert schema_modeline(tmp_path / "elsewhere", root / "docs" / "s.json", root) is None


def test_reference_parameters_fall_back_to_the_docstring():
    gelu = reference_parameters(torch.nn.functional.gelu)  # a builtin: no Python signature
    assert [(p.name, p.positional, p.default) for p in gelu] == [("input", True, gelu[0].default),
                                                                 ("approximate", True, "none")]
    assert gelu[0].required
    softmax = reference_parameters(torch.softmax)  # softmax(input, dim, *, dtype=None)
    assert [p.name for p in softmax] == ["input", "dim", "dtype"] and not softmax[2].positional
