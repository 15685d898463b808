"""A class on a Dask LocalCluster through `batch --scheduler`: 2 worker processes against 1, and against `--jobs 2`.

    python benchmarks/cluster_throughput.py [--submissions 20] [--buggy 6] [--exercises NAME ...] [--rounds 5]

Builds a class from tests/solutions (`--buggy` of the submissions get one bug variant from
tests/variants each), starts two LocalClusters (2 worker processes, and 1; one thread each), grades
the class once on each to warm them (worker processes import torch once, as a long-lived cluster's
do; the warm-up is reported, not counted), then grades it `--rounds` times in each of the three
ways, interleaved (the order rotates each round), with `--force` into a fresh folder each time:
every batch starts its sandboxes anew, locally and on the workers. Reports every run, the medians
and two ratios: throughput of 2 workers over 1 (goal >= 1.7) and the 2-worker cluster's time over
the local `--jobs 2` run's (goal <= 1.2), with the load average before and after (the machine is
shared). The issue's class is the default: 20 full-course submissions, 6 with bugs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_class(folder: Path, exercises: list[str], submissions: int, buggy: int) -> None:
    from gradcheck_suite.exercise.load import load_exercise

    specs = [load_exercise(ROOT / "exercises" / name / "exercise.yaml") for name in exercises]
    bugs = [(spec, sorted((ROOT / "tests" / "variants" / spec.directory.name).glob("bug_*.py"))) for spec in specs]
    bugs = [(spec, files[0]) for spec, files in bugs if files]
    for number in range(submissions):
        student = folder / f"student{number:03d}"
        student.mkdir(parents=True)
        for spec in specs:
            shutil.copyfile(ROOT / "tests" / "solutions" / spec.directory.name / spec.student_file,
                            student / spec.student_file)
        if number >= submissions - buggy and bugs:
            spec, variant = bugs[number % len(bugs)]
            shutil.copyfile(variant, student / spec.student_file)


def grade(course: Path, klass: Path, out: Path, *extra: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "batch", str(klass), "--exercises", str(course),
                    "--out", str(out), "--force", *extra], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--buggy", type=int, default=6)
    parser.add_argument("--exercises", nargs="+", default=None, help="exercise names (default: the whole course)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cluster_throughput.md"))
    args = parser.parse_args(argv)
    from distributed import LocalCluster

    exercises = args.exercises or sorted(p.parent.name for p in (ROOT / "exercises").glob("*/exercise.yaml"))
    load_before = load()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        course = scratch / "course"
        for name in exercises:
            shutil.copytree(ROOT / "exercises" / name, course / name)
        make_class(scratch / "class", exercises, args.submissions, args.buggy)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=40) as two, \
                LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                             silence_logs=40) as one:
            ways = {"cluster, 2 workers": ("--scheduler", two.scheduler_address),
                    "cluster, 1 worker": ("--scheduler", one.scheduler_address),
                    "local --jobs 2": ("--jobs", "2")}
            warm = {name: grade(course, scratch / "class", scratch / "out", *extra)
                    for name, extra in ways.items() if name.startswith("cluster")}
            runs: dict[str, list[float]] = {name: [] for name in ways}
            names = list(ways)
            for round_number in range(args.rounds):
                order = names[round_number % 3:] + names[:round_number % 3]
                for name in order:
                    runs[name].append(grade(course, scratch / "class", scratch / "out", *ways[name]))
                    print(f"round {round_number + 1}: {name}: {runs[name][-1]:.1f} s", flush=True)
    load_after = load()
    median = {name: statistics.median(times) for name, times in runs.items()}
    scaling = median["cluster, 1 worker"] / median["cluster, 2 workers"]
    against_local = median["cluster, 2 workers"] / median["local --jobs 2"]
    lines = [
        "# A class on a Dask LocalCluster (`batch --scheduler`)", "",
        f"`python benchmarks/cluster_throughput.py --submissions {args.submissions} --buggy {args.buggy} "
        f"--rounds {args.rounds}" + (f" --exercises {' '.join(exercises)}" if args.exercises else "") + "`",
        "",
        f"Class: {args.submissions} submissions ({args.submissions - args.buggy} correct, {args.buggy} with a bug) "
        f"of {len(exercises)} exercise(s) ({', '.join(exercises)}), each exercise's own trial count; "
        f"{os.cpu_count()} cores, shared with other work: load average (1, 5, 15 min) {load_before} before, "
        f"{load_after} after. Each run: a fresh output folder, `--force`, its sandboxes started anew; the "
        f"clusters' worker processes were warmed by one untimed batch each "
        f"({', '.join(f'{n}: {t:.1f} s' for n, t in warm.items())}).", "",
        "| way | runs (s, in order) | median (s) | submissions per minute |", "|---|---|---|---|",
    ]
    for name, times in runs.items():
        lines.append(f"| {name} | {', '.join(f'{t:.1f}' for t in times)} | {median[name]:.1f} | "
                     f"{args.submissions / median[name] * 60:.1f} |")
    lines += ["",
              f"- throughput, 2 workers over 1: **{scaling:.2f}×** (goal ≥ 1.7)",
              f"- time, the 2-worker cluster over local `--jobs 2`: **{against_local:.2f}×** (goal ≤ 1.2)", ""]
    text = "\n".join(lines)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
