"""The edge-case check: literal inputs from the YAML give finite results that match the reference."""

from __future__ import annotations

from ..inputs.tensors import edge_case_inputs
from ..vocabulary import CheckName
from .backward import compare_backward
from .forward import compare_forward
from .subject import ExerciseUnderTest, for_trial, on_device
from .verdicts import CheckFailure


def check_edge_cases(exercise: ExerciseUnderTest) -> None:
    """Every edge case, the visible ones first: a student who can fix a case sees it before any
    hidden case's failure hides the details. A failure carries its case's own visibility."""
    check_visibility = exercise.spec.check_visibility or {}
    default = check_visibility.get(CheckName.EDGE_CASES, exercise.spec.visibility)
    cases = sorted(exercise.spec.edge_cases, key=lambda case: (case.visibility or default) != "visible")
    for case in cases:
        ex = for_trial(exercise, None, case)  # params at their least values
        inputs = on_device(ex, edge_case_inputs(ex.spec, case))
        context = f"edge case '{case.name}': "
        try:
            try:
                compare_forward(ex, inputs)
            except CheckFailure as failure:
                failure.message = context + failure.message
                raise
            try:
                compare_backward(ex, inputs, ex.spec.seed)
            except CheckFailure as failure:
                failure.message = context + "backward: " + failure.message
                raise
        except CheckFailure as failure:
            failure.visibility = case.visibility
            raise
