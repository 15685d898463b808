"""Autograder mode against in-process grading, on the sample course with the solutions.

    python benchmarks/isolation_overhead.py [--repeats 3] [--out benchmarks/results/isolation_overhead.md]

Times whole `pytest exercises/ --submission tests/solutions` runs, with and without --isolate,
interleaved (the machine's noise hits both alike), and reports the medians and their ratio. Also
measures one forward round trip to a worker and the zygote's start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradcheck_suite.sandbox.supervisor import RemoteOp, Sandbox, WorkerLimits

COMMAND = [sys.executable, "-m", "pytest", "exercises/", "-q", "-p", "no:cacheprovider", "--submission",
           "tests/solutions"]


def wall(command) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}")
    return time.perf_counter() - started


def round_trip(calls: int = 200, starts: int = 20) -> tuple[float, float, float, str]:
    """(zygote start-up in s, median forward round trip in ms, median worker start in ms: fork,
    namespaces, the view, the filter, loading the student's file; the isolation level) for the
    linear solution."""
    box = Sandbox(WorkerLimits(time_seconds=60))
    started = time.perf_counter()
    box.ready()
    startup = time.perf_counter() - started
    source = (ROOT / "tests" / "solutions" / "linear" / "linear.py").read_bytes()
    spawns = []
    for _ in range(starts):
        worker = box.worker("linear", "linear.py", source, "Linear", ["x", "w", "b"], [True] * 3, "cpu")
        begun = time.perf_counter()
        worker.start()
        spawns.append(time.perf_counter() - begun)
        worker.close()
    op = RemoteOp(box.worker("linear", "linear.py", source, "Linear", ["x", "w", "b"], [True] * 3, "cpu"))
    op.load()
    inputs = [torch.randn(4, 3, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64),
              torch.randn(2, dtype=torch.float64)]
    times = []
    for _ in range(calls):
        begun = time.perf_counter()
        op.forward(inputs)
        times.append(time.perf_counter() - begun)
    level = box.level
    box.close()
    return startup, statistics.median(times) * 1e3, statistics.median(spawns) * 1e3, level


def fresh_interpreter(repeats: int = 3) -> float:
    """What exec'ing a fresh Python per worker (bubblewrap, nsjail) would cost each exercise: the
    median of `python -I -c "import torch"`."""
    return statistics.median(wall([sys.executable, "-I", "-c", "import torch"]) for _ in range(repeats))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "isolation_overhead.md"))
    args = parser.parse_args(argv)
    local, isolated = [], []
    for _ in range(args.repeats):
        local.append(wall(COMMAND))
        isolated.append(wall(COMMAND + ["--isolate"]))
    startup, trip, spawn, level = round_trip()
    fresh = fresh_interpreter()
    exercises = len(list((ROOT / "exercises").glob("*/exercise.yaml")))
    a, b = statistics.median(local), statistics.median(isolated)
    text = "\n".join([
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; medians of {args.repeats} interleaved runs.",
        "",
        "| grading the sample course (`pytest exercises/ --submission tests/solutions`) | wall time (s) |",
        "|---|---:|",
        f"| in-process | {a:.2f} |",
        f"| `--isolate` (one worker per exercise, isolation level {level}) | {b:.2f} |",
        "",
        f"Ratio isolated / in-process: {b / a:.2f} ({exercises} exercises). Zygote start-up (imports torch once per "
        f"session, overlapped with pytest's own start): {startup:.2f} s. Starting a worker (fork, namespaces, "
        f"the read-only view, the filter, loading the student's file): {spawn:.1f} ms (median of 20). One forward "
        f"round trip to a worker: {trip:.2f} ms (median of 200). A fresh interpreter per worker instead of a "
        f"fork (`python -I -c \"import torch\"`): {fresh:.2f} s each, {fresh * exercises:.0f} s for the course.",
        "",
    ])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
