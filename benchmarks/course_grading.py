"""Grading the whole sample course against the time budget set for the tutorial course.

    python benchmarks/course_grading.py [--repeats 3] [--out benchmarks/results/course_grading.md]

The budget comes from the first benchmark (benchmarks/gradcheck_comparison.py): the tutorial
course, seven exercises, is graded in under 3x the time `python -c "import torch, pytest,
hypothesis"` takes. Scaled by the number of exercises, the whole course's budget is
3 x import time x exercises / 7. Measured in one run, interleaved, medians of --repeats:

- the import time;
- `pytest <the tutorial's exercises> --submission tests/solutions` (the budget's own course);
- `pytest exercises/ --submission tests/solutions` (the whole course).

Then each exercise graded in-process (every check, the solution), to show where the time goes.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.runner import grade_submission

# The course the budget was set on (issue 1): the PyTorch autograd tutorial's exercises and cube.
TUTORIAL = ("linear", "sigmoid", "relu", "bce_with_logits", "softmax", "one_layer_net", "cube")
BUDGET_PER_IMPORT = 3.0

IMPORTS = [sys.executable, "-c", "import torch, pytest, hypothesis"]


def grading_command(folders: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *folders, "-q", "-p", "no:cacheprovider", "--submission", "tests/solutions"]


def wall(command: list[str]) -> float:
    """Seconds the command takes; a failing command stops the benchmark (a failing grade is no figure)."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return seconds


def interleaved_medians(commands: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """Each command once per round, `repeats` rounds: the machine's noise hits them all alike."""
    times = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(wall(command))
    return {name: statistics.median(values) for name, values in times.items()}


def course_exercises() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "exercises").glob("*/exercise.yaml"))


def per_exercise_seconds(names: list[str]) -> dict[str, tuple[float, int, str]]:
    """name -> (seconds to grade every check of the solution in this process, checks, verdict)."""
    timings = {}
    for name in names:
        spec = load_exercise(ROOT / "exercises" / name / "exercise.yaml")
        started = time.perf_counter()
        results = grade_submission([spec], ROOT / "tests" / "solutions").exercises[name].checks
        seconds = time.perf_counter() - started
        verdict = "passed" if all(r.status == "passed" for r in results) else \
            "; ".join(f"{r.check} {r.status}" for r in results if r.status != "passed")
        timings[name] = (seconds, len(spec.checks), verdict)
    return timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "course_grading.md"))
    args = parser.parse_args(argv)

    names = course_exercises()
    missing = [n for n in TUTORIAL if n not in names]
    if missing:
        sys.exit(f"the tutorial exercises {missing} are not in exercises/")
    medians = interleaved_medians({
        "import": IMPORTS,
        "tutorial": grading_command([f"exercises/{n}" for n in TUTORIAL]),
        "course": grading_command(["exercises/"]),
    }, args.repeats)
    imports, tutorial, course = medians["import"], medians["tutorial"], medians["course"]
    budget = BUDGET_PER_IMPORT * imports * len(names) / len(TUTORIAL)
    per_exercise_seconds(names[:1])  # warm-up: the first grading in a process pays for lazy imports
    timings = per_exercise_seconds(names)

    lines = [
        f"torch {torch.__version__}, Python {platform.python_version()}, {torch.get_num_threads()} torch threads, "
        f"{len(names)} exercises. Subprocess times: medians of {args.repeats} interleaved runs.",
        "",
        "| what | command | time (s) | / import |",
        "|---|---|---:|---:|",
        f"| import | `python -c \"import torch, pytest, hypothesis\"` | {imports:.2f} | 1.00 |",
        f"| tutorial course ({len(TUTORIAL)} exercises) | `pytest {' '.join(f'exercises/{n}' for n in TUTORIAL)} "
        f"--submission tests/solutions` | {tutorial:.2f} | {tutorial / imports:.2f} |",
        f"| whole course ({len(names)} exercises) | `pytest exercises/ --submission tests/solutions` | "
        f"{course:.2f} | {course / imports:.2f} |",
        "",
        f"Budget for the whole course: {BUDGET_PER_IMPORT:g} x import x {len(names)} / {len(TUTORIAL)} = "
        f"{budget:.2f} s; graded in {course:.2f} s, {course / budget:.2f} of the budget "
        f"({'within' if course <= budget else 'OVER'} it). The tutorial course alone: {tutorial / imports:.2f} x "
        f"import (its budget: {BUDGET_PER_IMPORT:g} x).",
        "",
        "Each exercise graded in this process (solution, every check; after one warm-up grading):",
        "",
        "| exercise | checks | time (s) | verdict |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {name} | {checks} | {seconds:.2f} | {verdict} |"
              for name, (seconds, checks, verdict) in sorted(timings.items(), key=lambda item: -item[1][0])]
    lines += ["", f"Sum: {sum(t[0] for t in timings.values()):.2f} s."]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0 if course <= budget and all(t[2] == "passed" for t in timings.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
