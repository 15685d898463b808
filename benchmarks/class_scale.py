"""Class-scale grading figures, each a ratio against a baseline measured in the same run.

    python benchmarks/class_scale.py [--rounds 5] [--submissions 20] [--buggy 6] [--without-cache]
                                     [--baseline REV] [--no-batch]

Every round runs each command once, in a rotating order (the machine's noise hits them all
alike); the figures are medians over the rounds, and every run is reported with its seconds:

- import: `python -c "import torch, pytest, hypothesis"`, the baseline;
- the whole sample course, in-process: `pytest exercises/ --submission tests/solutions`
  (goal: <= 2.0 x import);
- the same, isolated: `... --isolate` (goal: <= 1.3 x in-process);
- `gradcheck-suite batch --jobs 2` on a class of --submissions full-course submissions,
  --buggy of them with one bug each (tests/variants): seconds per submission per core, i.e.
  wall x 2 / submissions (goal: <= 3 x import); with --without-cache, the same batch with
  GRADCHECK_SUITE_NO_REFERENCE_CACHE=1 too (the reference cache's named baseline);
- with --baseline REV, the course in-process and isolated with the grader at git revision REV (a
  worktree) in the same rounds: how much faster this grader is, whatever the machine's speed that day.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from cluster_throughput import load, make_class  # noqa: E402

PYTEST = [sys.executable, "-m", "pytest", "exercises/", "-q", "-p", "no:cacheprovider", "--submission", "tests/solutions"]


def wall(command: list[str], env: dict | None = None, cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--buggy", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--without-cache", action="store_true")
    parser.add_argument("--baseline", metavar="REV", help="also grade the course in-process and isolated with the "
                        "grader at this git revision (a worktree), in the same rounds")
    parser.add_argument("--no-batch", action="store_true", help="leave the batch out")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "class_scale.md"))
    args = parser.parse_args(argv)
    exercises = sorted(p.parent.name for p in (ROOT / "exercises").glob("*/exercise.yaml"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    load_before = load()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        make_class(scratch / "class", exercises, args.submissions, args.buggy)
        # An installed package has its bytecode compiled (pip does it); a checkout on a machine with
        # PYTHONDONTWRITEBYTECODE=1 set (this one) would otherwise compile the grader on every run.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "gradcheck_suite")], check=True)
        batch = [sys.executable, "-m", "gradcheck_suite.cli", "batch", str(scratch / "class"), "--exercises",
                 str(ROOT / "exercises"), "--out", str(scratch / "out"), "--force", "--jobs", str(args.jobs)]
        commands: dict[str, tuple[list[str], dict, Path]] = {
            "import": ([sys.executable, "-c", "import torch, pytest, hypothesis"], env, ROOT),
            "course in-process": (PYTEST, env, ROOT),
            "course isolated": (PYTEST + ["--isolate"], env, ROOT),
        }
        if args.baseline:
            old = scratch / "baseline"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.baseline],
                           check=True, capture_output=True)
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(old / "gradcheck_suite")], check=True)
            old_env = {**os.environ, "PYTHONPATH": str(old)}
            commands[f"course in-process at {args.baseline}"] = (PYTEST, old_env, old)
            commands[f"course isolated at {args.baseline}"] = (PYTEST + ["--isolate"], old_env, old)
        if not args.no_batch:
            commands[f"batch --jobs {args.jobs}"] = (batch, env, ROOT)
        if args.without_cache and not args.no_batch:
            commands[f"batch --jobs {args.jobs}, no reference cache"] = (
                batch, {**env, "GRADCHECK_SUITE_NO_REFERENCE_CACHE": "1"}, ROOT)
        runs: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for number in range(args.rounds):
            for name in names[number % len(names):] + names[:number % len(names)]:
                if name.startswith("batch"):
                    shutil.rmtree(scratch / "out", ignore_errors=True)
                command, environment, cwd = commands[name]
                runs[name].append(wall(command, environment, cwd))
                print(f"round {number + 1}: {name}: {runs[name][-1]:.2f} s", flush=True)
        if args.baseline:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)
    median = {name: statistics.median(times) for name, times in runs.items()}
    imported = median["import"]
    figures = [
        ("whole course in-process / import", median["course in-process"] / imported, "<= 2.0"),
        ("whole course isolated / in-process", median["course isolated"] / median["course in-process"], "<= 1.3"),
    ]
    if args.baseline:
        figures += [(f"{kind}: this grader / the grader at {args.baseline}",
                     median[f"course {kind}"] / median[f"course {kind} at {args.baseline}"], "(< 1: faster)")
                    for kind in ("in-process", "isolated")]
    per_submission = 0.0
    if not args.no_batch:
        per_submission = median[f"batch --jobs {args.jobs}"] * args.jobs / args.submissions
        figures.append((f"batch --jobs {args.jobs}: seconds per submission per core / import",
                        per_submission / imported, "<= 3"))
    if args.without_cache and not args.no_batch:
        figures.append(("batch with the reference cache / without",
                        median[f"batch --jobs {args.jobs}"] / median[f"batch --jobs {args.jobs}, no reference cache"],
                        "(< 1: the cache saves time)"))
    lines = [
        "# Grading at class scale", "",
        f"`python benchmarks/class_scale.py --rounds {args.rounds} --submissions {args.submissions} "
        f"--buggy {args.buggy} --jobs {args.jobs}{' --without-cache' if args.without_cache else ''}"
        f"{' --baseline ' + args.baseline if args.baseline else ''}{' --no-batch' if args.no_batch else ''}`", "",
        f"torch {torch.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} torch threads; load average (1, 5, 15 min) {load_before} before, {load()} after. "
        f"The course: {len(exercises)} exercises, each with its own trial count. The class: {args.submissions} "
        f"full-course submissions, {args.submissions - args.buggy} correct and {args.buggy} with one bug each. "
        f"Each round runs every command once, the order rotating; medians over {args.rounds} rounds. "
        "The grader's bytecode is compiled first, as `pip install` compiles it.", "",
        "| command | runs (s, in order) | median (s) |", "|---|---|---:|",
    ]
    for name, times in runs.items():
        lines.append(f"| {name} | {', '.join(f'{t:.2f}' for t in times)} | {median[name]:.2f} |")
    lines += ["", "| figure | measured | goal |", "|---|---:|---|"]
    lines += [f"| {what} | **{value:.2f}** | {goal} |" for what, value, goal in figures]
    if not args.no_batch:
        lines += ["", f"Batch: {args.submissions / median[f'batch --jobs {args.jobs}'] * 60:.1f} submissions per "
                      f"minute, {per_submission:.2f} s per submission per core.", ""]
    text = "\n".join(lines)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
