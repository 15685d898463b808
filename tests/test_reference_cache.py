"""The reference cache (numerics.reference_cache): a class graded with it gets byte-identical
reports to a class graded without it, and a key tells apart everything an answer depends on."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from conftest import REPO_ROOT, SOLUTIONS, VARIANTS
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.numerics import reference_cache, reference_eval

EXERCISES = ("linear", "softmax", "layer_norm", "conv1d", "lstm_cell", "cross_entropy")
CS231N = REPO_ROOT / "examples" / "cs231n"


def _class(root: Path) -> list[Path]:
    """Four submissions: the solutions, then a bug or two in each of the others."""
    folders = []
    for number, swaps in enumerate(([], ["linear", "softmax"], ["layer_norm", "conv1d"], ["lstm_cell", "cross_entropy"])):
        folder = root / f"student{number}"
        folder.mkdir(parents=True)
        for name in EXERCISES:
            spec = load_exercise(REPO_ROOT / "exercises" / name / "exercise.yaml")
            source = sorted((VARIANTS / name).glob("bug_*.py"))[number % 2] if name in swaps \
                else SOLUTIONS / name / spec.student_file
            shutil.copyfile(source, folder / spec.student_file)
        folders.append(folder)
    return folders


def _reports(specs, folders) -> list[str]:
    found = []
    for folder in folders:
        book = grade_submission(specs, folder, options=RunOptions(secret="the class's secret", trials=6))
        data = book.to_full_json()
        for exercise in data["exercises"]:
            for check in exercise.get("checks", []):
                check.pop("duration", None)
                check.pop("seconds", None)
        found.append(json.dumps(data, sort_keys=True, default=str))
    return found


@pytest.fixture
def serving(monkeypatch):
    """The cache on, as in a process that grades a class (batch job, Dask worker)."""
    monkeypatch.setattr(reference_cache, "_serving", True)
    monkeypatch.delenv(reference_cache.SWITCH, raising=False)


def test_a_class_gets_byte_identical_reports_with_and_without_the_cache(tmp_path, monkeypatch, serving):
    specs = [load_exercise(REPO_ROOT / "exercises" / name / "exercise.yaml") for name in EXERCISES]
    folders = _class(tmp_path)
    monkeypatch.setenv(reference_cache.SWITCH, "1")
    without = _reports(specs, folders)
    monkeypatch.delenv(reference_cache.SWITCH)
    reference_cache.STORE.clear()
    hits = reference_cache.STORE.hits
    with_cache = _reports(specs, folders)
    assert reference_cache.STORE.hits - hits > 100, "later submissions meet the same trials: the cache serves them"
    assert with_cache == without
    assert any('"failed"' in report for report in without) and '"failed"' not in without[0]


def test_a_hit_is_a_copy_and_a_key_holds_every_input(serving):
    reference_cache.STORE.clear()
    start = reference_cache.STORE.hits
    spec = load_exercise(REPO_ROOT / "exercises" / "linear" / "exercise.yaml")
    x, w, b = (torch.randn(3, 2, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64),
               torch.randn(4, dtype=torch.float64))
    first = reference_eval.forward(spec, [x, w, b])
    first[0].zero_()  # a caller that writes into an answer does not change the next one
    again = reference_eval.forward(spec, [x, w, b])
    assert torch.equal(again[0], x @ w + b) and reference_cache.STORE.hits == start + 1
    other = b.clone()
    other[0] += 1e-12  # one element one ulp-ish away: another key
    assert not torch.equal(reference_eval.forward(spec, [x, w, other])[0], again[0])
    as_float32 = reference_eval.forward(spec, [x.float(), w.float(), b.float()])
    assert as_float32[0].dtype == torch.float32
    assert reference_cache.STORE.hits == start + 1


def test_params_and_arguments_are_part_of_the_key(serving):
    """CS231n's conv: the same tensors with another stride or pad are another answer."""
    spec = load_exercise(CS231N / "conv_naive" / "exercise.yaml")
    conv = spec.reference
    x, w, b = torch.randn(1, 1, 5, 5, dtype=torch.float64), torch.randn(1, 1, 3, 3, dtype=torch.float64), \
        torch.zeros(1, dtype=torch.float64)
    one = replace(spec, reference=replace(conv, args=({"stride": 1, "pad": 0},), kwargs={}))
    two = replace(spec, reference=replace(conv, args=({"stride": 2, "pad": 0},), kwargs={}))
    assert reference_eval.forward(one, [x, w, b])[0].shape == (1, 1, 3, 3)
    assert reference_eval.forward(two, [x, w, b])[0].shape == (1, 1, 2, 2)


@pytest.mark.parametrize("value", [torch.ones(2), {"mode": "train", "eps": 1e-5}, [1, 2.5, "x"]])
def test_value_keys_tell_apart_what_differs(value):
    assert reference_cache._value_key(value) == reference_cache._value_key(value)
    assert reference_cache._value_key(value) != reference_cache._value_key({"other": value})


def test_only_a_process_that_grades_a_class_remembers(monkeypatch):
    """One submission meets few answers twice: the cache is off until serve_a_class()."""
    monkeypatch.setattr(reference_cache, "_serving", False)
    monkeypatch.delenv(reference_cache.SWITCH, raising=False)
    spec = load_exercise(REPO_ROOT / "exercises" / "linear" / "exercise.yaml")
    x, w, b = (torch.randn(3, 2, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64),
               torch.randn(4, dtype=torch.float64))
    reference_cache.STORE.clear()
    reference_eval.forward(spec, [x, w, b])
    assert not reference_cache.STORE.entries
    reference_cache.serve_a_class()
    reference_eval.forward(spec, [x, w, b])
    assert len(reference_cache.STORE.entries) == 1
    monkeypatch.setenv(reference_cache.SWITCH, "1")  # the switch still turns it off
    reference_cache.STORE.clear()
    reference_eval.forward(spec, [x, w, b])
    assert not reference_cache.STORE.entries
