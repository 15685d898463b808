"""Batch regrading throughput: submissions per minute for the sample course.

    python benchmarks/batch_throughput.py [--submissions 20] [--jobs 2]

Copies the reference solutions into N submission folders, grades them with
`gradcheck-suite batch --jobs J` (autograder mode, the exercises' own trial counts) and reports
submissions per minute, start-up included, and the first row of grades.csv as a sanity check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "batch_throughput.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "class"
        for number in range(args.submissions):
            shutil.copytree(ROOT / "tests" / "solutions", root / f"student{number:03d}")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "batch", str(root), "--exercises",
                        str(ROOT / "exercises"), "--out", str(Path(scratch) / "out"), "--jobs", str(args.jobs)],
                       env=env, check=True, capture_output=True)
        elapsed = time.perf_counter() - started
        rows = (Path(scratch) / "out" / "grades.csv").read_text().splitlines()
    rate = args.submissions / elapsed * 60
    text = (f"{args.submissions} submissions of the sample course (7 exercises, the solutions), "
            f"`--jobs {args.jobs}`, {os.cpu_count()} cores: {elapsed:.1f} s in all, start-up included; "
            f"{rate:.1f} submissions per minute. First graded row: `{rows[2]}`.\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
