"""What grading checks is pinned: per exercise of both courses, its number of trials, its checks
and its tolerances; and the grader's own defaults. Speed work must not buy time with fewer
trials, fewer checks or looser tolerances; a change here is a deliberate one, made in the table
(tests/pinned_grading.json, regenerated with `python tests/test_grading_pins.py`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradcheck_suite.exercise.load import load_exercise  # noqa: E402
from gradcheck_suite.numerics import central_differences, tolerances  # noqa: E402

TABLE = ROOT / "tests" / "pinned_grading.json"
COURSES = ("exercises", "examples/cs231n")


def what_is_graded() -> dict[str, dict]:
    found = {}
    for course in COURSES:
        for path in sorted((ROOT / course).glob("*/exercise.yaml")):
            spec = load_exercise(path)
            found[f"{course}/{path.parent.name}"] = {
                "trials": spec.trials,
                "checks": [str(c) for c in spec.checks],
                "edge_cases": len(spec.edge_cases),
                "tolerance": [spec.tolerance.rtol, spec.tolerance.atol],
                "finite_differences_tolerance": [spec.finite_differences.tolerance.rtol,
                                                 spec.finite_differences.tolerance.atol],
                "input_tolerances": {i.name: [i.tolerance.rtol, i.tolerance.atol] for i in spec.inputs
                                     if i.tolerance.rtol is not None or i.tolerance.atol is not None},
            }
    return found


def test_every_exercise_grades_what_the_table_pins():
    pinned = json.loads(TABLE.read_text())
    found = what_is_graded()
    assert sorted(found) == sorted(pinned)
    changed = {name: (pinned[name], found[name]) for name in found if found[name] != pinned[name]}
    assert not changed, changed


def test_the_graders_defaults_are_pinned():
    assert tolerances.DEFAULT_TOLERANCES == {
        torch.float64: (1e-7, 1e-7), torch.float32: (1.3e-6, 1e-5),
        torch.float16: (1e-3, 1e-5), torch.bfloat16: (1.6e-2, 1e-5)}
    assert (tolerances.ROUNDING_SAFETY, tolerances.FD_DEFAULT_RTOL, tolerances.FD_DEFAULT_ATOL) == (4.0, 1e-5, 1e-6)
    assert (central_differences.ROUNDOFF_FACTOR, central_differences.KINK_THRESHOLD) == (64.0, 1e-3)


if __name__ == "__main__":
    TABLE.write_text("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in what_is_graded().items())
                     + "\n}\n")
    print(f"wrote {TABLE}")
