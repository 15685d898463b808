"""This harness's gradient checks against torch.autograd.gradcheck, slow and fast mode.

    python benchmarks/gradcheck_comparison.py [--quick] [--out benchmarks/results/gradcheck_comparison.md]

For a linear layer (x @ w + b) and an elementwise sigmoid, at input sizes from 10 to 10^6
elements, each method checks a correct backward (it must pass) and a backward that is wrong by
1.0 in a single entry (it must fail). Reported: wall time of the check on the correct function
(best of a few runs), the number of Python calls of forward, and the verdicts. Slow gradcheck is
run only where its 2n forward calls take seconds, not hours. Also times grading the tutorial
course (the seven exercises the budget of 3x the import of torch + pytest + hypothesis was set on;
the whole course against that budget, scaled: benchmarks/course_grading.py).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_grading import IMPORTS, TUTORIAL, grading_command, interleaved_medians  # noqa: E402  (benchmarks/)

from gradcheck_suite.api import check_function

SLOW_LIMIT = 2100  # elements; slow gradcheck above this takes minutes to hours


class Counter:
    calls = 0


def make_linear(bug: bool):
    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            Counter.calls += 1
            ctx.save_for_backward(x, w)
            return x @ w + b

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            grad_w = x.T @ g
            if bug:
                grad_w = grad_w.clone()
                grad_w.view(-1)[grad_w.numel() // 2] += 1.0
            return g @ w.T, grad_w, g.sum(0)

    return Linear


def make_sigmoid(bug: bool):
    class Sigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            Counter.calls += 1
            s = torch.sigmoid(x)
            ctx.save_for_backward(s)
            return s

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            grad = g * s * (1 - s)
            if bug:
                grad = grad.clone()
                grad.view(-1)[grad.numel() // 2] += 1.0
            return grad

    return Sigmoid


def linear_inputs(size: int):
    k = max(1, round((size / 2) ** 0.5))
    gen = torch.Generator().manual_seed(size)
    x = torch.randn(k, k, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(k, k, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(k, generator=gen, dtype=torch.float64, requires_grad=True)
    return [x, w, b]


def sigmoid_inputs(size: int):
    gen = torch.Generator().manual_seed(size)
    return [torch.randn(size, generator=gen, dtype=torch.float64, requires_grad=True)]


CASES = {
    "linear": (make_linear, linear_inputs, lambda x, w, b: x @ w + b),
    "sigmoid": (make_sigmoid, sigmoid_inputs, torch.sigmoid),
}


def run_method(method: str, function, inputs, reference) -> tuple[bool, float, int]:
    """(passed, seconds, forward calls), timed with the garbage collector off, as timeit does."""
    Counter.calls = 0
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        if method == "harness":
            passed = not check_function(function, inputs, reference)
        else:
            passed = torch.autograd.gradcheck(function.apply, tuple(inputs), fast_mode=(method == "gradcheck fast"),
                                              raise_exception=False)
        seconds = time.perf_counter() - started
    finally:
        gc.enable()
    return passed, seconds, Counter.calls


def best_time(method, function, inputs, reference, repeats: int) -> tuple[bool, float, int]:
    runs = [run_method(method, function, inputs, reference) for _ in range(repeats)]
    return runs[0][0], min(r[1] for r in runs), runs[0][2]


def course_timing(repeats: int) -> tuple[float, float]:
    """The import of torch + pytest + hypothesis and the tutorial course's grading, interleaved medians."""
    medians = interleaved_medians({"import": IMPORTS, "course": grading_command([f"exercises/{n}" for n in TUTORIAL])},
                                  repeats)
    return medians["import"], medians["course"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 10^4 only")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gradcheck_comparison.md"))
    args = parser.parse_args(argv)
    sizes = [10, 100, 1000, 2000, 10_000] + ([] if args.quick else [100_000, 1_000_000])
    lines = [
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; float64 inputs. Time: best of 15 "
        "interleaved runs (9 up to 10^5 elements, 5 above) on the correct backward, garbage collector off "
        "while timing (as timeit does). Verdicts: correct backward / "
        "one-entry bug (pass means the check accepted it; the bug must fail).",
        "",
        "| function | elements | method | time (s) | forward calls | correct | one-entry bug |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    summary = []
    for name, (factory, make_inputs, reference) in CASES.items():
        for size in sizes:
            inputs = make_inputs(size)
            n = sum(t.numel() for t in inputs)
            repeats = 15 if n <= 10_000 else 9 if n <= 100_000 else 5
            methods = ["harness", "gradcheck fast"] + (["gradcheck slow"] if n <= SLOW_LIMIT else [])
            correct = factory(False)
            best = {m: float("inf") for m in methods}
            verdict, calls = {}, {}
            # Interleaved repetitions, best time of each: the machine's noise hits all methods alike.
            for _ in range(repeats):
                for method in methods:
                    verdict[method], seconds, calls[method] = run_method(method, correct, inputs, reference)
                    best[method] = min(best[method], seconds)
            for method in methods:
                bug_ok, _, _ = run_method(method, factory(True), inputs, reference)
                lines.append(f"| {name} | {n} | {method} | {best[method]:.4f} | {calls[method]} | "
                             f"{'pass' if verdict[method] else 'FAIL'} | {'pass (missed)' if bug_ok else 'fail (caught)'} |")
                print(lines[-1], flush=True)
            if n > SLOW_LIMIT:
                lines.append(f"| {name} | {n} | gradcheck slow | not run ({2 * n} forward calls) | | | |")
            summary.append(f"{name} {n}: harness / gradcheck fast = {best['harness'] / best['gradcheck fast']:.2f}")
    k = 512
    gen = torch.Generator().manual_seed(k)
    layer = [torch.randn(k, k, generator=gen, dtype=torch.float64, requires_grad=True),
             torch.randn(k, k, generator=gen, dtype=torch.float64, requires_grad=True),
             torch.randn(k, generator=gen, dtype=torch.float64, requires_grad=True)]
    ok, seconds, calls = best_time("harness", make_linear(False), layer, CASES["linear"][2], 3)
    bug_ok, _, _ = run_method("harness", make_linear(True), layer, CASES["linear"][2])
    layer_line = (f"Linear layer with x and w of 512x512 (b of 512): harness check {seconds:.3f} s (best of 3), "
                  f"{calls} forward calls, correct {'pass' if ok else 'FAIL'}, one-entry bug "
                  f"{'missed' if bug_ok else 'caught'}.")
    print(layer_line, flush=True)
    imports, course = course_timing(3)
    lines += ["", "Time ratios (harness / gradcheck fast mode, same inputs, same run):", ""]
    lines += [f"- {s}" for s in summary]
    lines += ["", layer_line]
    lines += ["", f"Grading the tutorial course ({len(TUTORIAL)} exercises: {', '.join(TUTORIAL)}) with the "
              f"solutions (`pytest exercises/<each> --submission tests/solutions`, median of 3): {course:.2f} s; `import torch, pytest, hypothesis`: {imports:.2f} s; "
              f"ratio {course / imports:.2f}."]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
