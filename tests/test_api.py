"""gradcheck_suite.api.check_function: the grader's checks on given tensors, without YAML."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from gradcheck_suite.api import check_function

ROOT = Path(__file__).resolve().parents[1]


def _linear_class(path: Path):
    spec = importlib.util.spec_from_file_location(f"_api_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Linear


def _inputs(n: int):
    gen = torch.Generator().manual_seed(n)
    return [torch.randn(*shape, generator=gen, dtype=torch.float64, requires_grad=True)
            for shape in ((n, 3), (3, 4), (4,))]


@pytest.mark.parametrize("n", [2, 40])  # element by element, and random directions
@pytest.mark.parametrize("reference", [lambda x, w, b: x @ w + b, None], ids=["reference", "own-forward"])
def test_correct_passes_and_bug_is_reported(n, reference):
    correct = _linear_class(ROOT / "tests" / "solutions" / "linear" / "linear.py")
    buggy = _linear_class(ROOT / "tests" / "variants" / "linear" / "bug_grad_b_mean.py")
    assert check_function(correct, _inputs(n), reference) == []
    problems = check_function(buggy, _inputs(n), reference)
    # b is the third input: some problem names it, with its worst element
    assert any("gradient for 'input2'" in p and "worst at" in p for p in problems), problems
