"""What installing gradcheck-suite costs a pytest run that grades nothing.

    python benchmarks/plugin_overhead.py [--runs N]

The package registers its pytest plugin through an entry point, so every pytest run in the
environment loads it, also in projects with no exercises. This times a one-test project run with
the plugin and with it disabled (`-p no:gradcheck_suite.plugin`), interleaved, and reports the
ratio of the medians (goal: at most 1.15), every run's seconds, and whether `import
gradcheck_suite` (or loading the plugin) imports torch. Results go to
benchmarks/results/plugin_overhead.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "plugin_overhead.md"
GOAL = 1.15
PLUGIN = "gradcheck_suite.plugin"


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # works installed or not
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run(project: Path, with_plugin: bool) -> float:
    # -p PLUGIN loads it even where the package is not installed; where it is, the entry point
    # has registered it already and -p changes nothing.
    switch = ["-p", PLUGIN] if with_plugin else ["-p", f"no:{PLUGIN}"]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *switch, "test_one.py"],
                          cwd=project, env=environment(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "1 passed" not in done.stdout:
        raise SystemExit(f"the one-test project did not pass:\n{done.stdout}\n{done.stderr}")
    return elapsed


def imports_torch(statement: str) -> bool:
    code = f"import sys; {statement}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=environment(), capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def plugin_is_loaded(project: Path) -> bool:
    """The 'with' runs really load the plugin: its options are in pytest's help."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", PLUGIN, "--help"], cwd=project, env=environment(),
                         capture_output=True, text=True)
    return "--submission" in out.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each kind, interleaved (default 15)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pytest.ini").write_text("[pytest]\n")
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        assert plugin_is_loaded(project), "the plugin did not load"
        run(project, True), run(project, False)  # warm the file cache
        with_plugin, without = [], []
        for _ in range(args.runs):
            with_plugin.append(run(project, True))
            without.append(run(project, False))
    ratio = statistics.median(with_plugin) / statistics.median(without)
    package_torch = imports_torch("import gradcheck_suite")
    plugin_torch = imports_torch(f"import {PLUGIN}")
    lines = [
        "# Plugin overhead",
        "",
        f"`python benchmarks/plugin_overhead.py --runs {args.runs}`: a one-test project, `python -m pytest -q`,",
        f"with the plugin and with `-p no:{PLUGIN}`, interleaved; Python {sys.version.split()[0]}.",
        "",
        "| run | median (s) | runs (s) |",
        "|---|---:|---|",
        f"| with the plugin | {statistics.median(with_plugin):.3f} | {', '.join(f'{t:.3f}' for t in with_plugin)} |",
        f"| plugin disabled | {statistics.median(without):.3f} | {', '.join(f'{t:.3f}' for t in without)} |",
        "",
        f"Ratio with / without: **{ratio:.3f}** (goal ≤ {GOAL}).",
        f"`import gradcheck_suite` imports torch: {package_torch}; `import {PLUGIN}` imports torch: {plugin_torch}.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ratio <= GOAL and not package_torch and not plugin_torch else 1


if __name__ == "__main__":
    sys.exit(main())
