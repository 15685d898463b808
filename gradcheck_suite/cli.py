"""The `gradcheck-suite` command.

    gradcheck-suite grade [EXERCISES ...] --submission DIR [--json PATH] [--time-limit SECONDS]

`grade` always runs in autograder mode (the student's code in confined workers, see
sandbox/), on pytest with this package's plugin registered before pytest looks at any folder, so
that nothing in the submission is ever imported by the grader. Exit status: 0 when grading
completed, whatever the score; 2 when an exercise file is invalid or the command is misused.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pytest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradcheck-suite", description="Gradient-checking grader.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a submission in autograder mode")
    grade.add_argument("exercises", nargs="*", default=["exercises"],
                       help="exercise folders or exercise.yaml files (default: exercises)")
    grade.add_argument("--submission", required=True, metavar="DIR", help="the folder of the student's files")
    grade.add_argument("--json", metavar="PATH", help="write the grades as JSON to PATH")
    grade.add_argument("--time-limit", type=float, metavar="SECONDS",
                       help="wall-clock seconds per exercise (default: each exercise's limits, else 60)")
    grade.add_argument("--isolate-user", metavar="USER", help="as root: run the workers as USER")
    grade.add_argument("--trials", type=int, metavar="N", help="override every exercise's number of trials")
    return parser


def grade(args: argparse.Namespace) -> int:
    for path in args.exercises:
        if not Path(path).exists():
            print(f"gradcheck-suite grade: {path}: no such file or folder", file=sys.stderr)
            return 2
    if not Path(args.submission).is_dir():
        print(f"gradcheck-suite grade: --submission {args.submission}: not a folder", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gradcheck-grade-") as scratch:
        report = Path(args.json) if args.json else Path(scratch) / "grades.json"
        options = ["-p", "gradcheck_suite.plugin", "-p", "no:cacheprovider", "-q", "--isolate",
                   f"--submission={args.submission}", f"--grade-json={report}"]
        if args.time_limit is not None:
            options.append(f"--time-limit={args.time_limit}")
        if args.isolate_user:
            options.append(f"--isolate-user={args.isolate_user}")
        if args.trials is not None:
            options.append(f"--trials={args.trials}")
        code = pytest.main(options + list(args.exercises))
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not report.is_file():
            return 2
        grades = json.loads(report.read_text())
    invalid = [e["name"] for e in grades["exercises"] if any(c["name"] == "config" for c in e["checks"])]
    return 2 if invalid else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "grade":
        return grade(args)
    return 2  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
