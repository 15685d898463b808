"""Grade every student-style variant in tests/variants/ and print a verdict table.

    python benchmarks/variant_verdicts.py [--dtype float32] [--device cuda] [--trials N] [EXERCISE ...]

Each variant's first docstring line says CORRECT or BUG; the script reports each variant's
per-check statuses and whether the verdict is the right one, and exits 1 if any is not.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradcheck_suite.exercise.load import load_exercise, with_overrides
from gradcheck_suite.exercise.model import FLOAT_DTYPES
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check


def label(path: Path) -> str:
    first = path.read_text().lstrip().lstrip('"').lstrip("'").splitlines()[0]
    return first.strip().strip('"')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--dtype", choices=sorted(FLOAT_DTYPES))
    parser.add_argument("--device", choices=("cpu", "cuda"))
    parser.add_argument("--trials", type=int)
    args = parser.parse_args(argv)

    wrong = correct_total = bug_total = correct_ok = bug_caught = 0
    started = time.perf_counter()
    for yaml_path in sorted((ROOT / "exercises").glob("*/exercise.yaml")):
        spec = with_overrides(load_exercise(yaml_path), args.dtype, args.device)
        if args.exercises and spec.name not in args.exercises:
            continue
        for variant in sorted((ROOT / "tests" / "variants" / spec.name).glob("*.py")):
            with tempfile.TemporaryDirectory() as tmp:
                shutil.copy(variant, Path(tmp) / spec.student_file)
                exercise = prepare(spec, Path(tmp))
                results = {c: run_check(exercise, c, RunOptions(trials=args.trials)) for c in spec.checks}
            passed = all(r.status == "passed" for r in results.values())
            is_bug = label(variant).startswith("BUG")
            right = passed != is_bug
            if is_bug:
                bug_total += 1
                bug_caught += right
            else:
                correct_total += 1
                correct_ok += right
            wrong += not right
            statuses = " ".join(f"{c}={r.status}" for c, r in results.items())
            print(f"{'ok   ' if right else 'WRONG'} {spec.name}/{variant.name}: {statuses}")
            if not right:
                for r in results.values():
                    if r.status != "passed":
                        print("      " + r.message.replace("\n", "\n      "))
    print(f"\ncorrect variants passed: {correct_ok}/{correct_total}; bug variants caught: {bug_caught}/{bug_total}; "
          f"dtype={args.dtype or 'as configured'} device={args.device or 'as configured'}; "
          f"{time.perf_counter() - started:.1f} s")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
