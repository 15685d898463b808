"""The pytest front end, run with pytester on a copy of the sample course (see the `course` fixture)."""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest

from conftest import REPO_ROOT, VARIANTS, exercise_names, load_specs

SPECS = load_specs()
MAX_SCORE = sum(spec.points for spec in SPECS.values())
QUICK = ("--trials", "3")  # enough to exercise every check where the verdict does not depend on search


def output_of(result) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def points(value: float) -> str:
    return f"{value:g}"


def table_row(output: str, name: str) -> list[str]:
    """The grade-table row of exercise `name` (or 'total'), split on runs of spaces."""
    section = output.split("gradcheck-suite grades", 1)[1]
    for line in section.splitlines():
        if line.split(" ", 1)[0] == name:
            return re.split(r"\s{2,}", line.strip())
    raise AssertionError(f"no row {name!r} in the grade table:\n{section}")


def make_submission(course, name="submission", replace=None, drop=()):
    """The solutions' files copied flat into `name`/ (as a student hands them in), with some
    replaced ({file name: text}) or dropped."""
    target = course / name
    target.mkdir()
    for solution in (course / "solutions").glob("*/*.py"):
        shutil.copy(solution, target / solution.name)
    for file_name in drop:
        (target / file_name).unlink()
    for file_name, text in (replace or {}).items():
        (target / file_name).write_text(text, encoding="utf-8")
    return target


def test_stubs_are_not_implemented(course, pytester):
    """A student's first run: one line per exercise not written yet and the table, not a failure
    block per check; the checks still count as failed (the exit status)."""
    result = pytester.runpytest("exercises")
    output = output_of(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for name, spec in SPECS.items():
        assert re.search(rf"^{name}: .*is not implemented yet .*\({len(spec.checks)} checks, "
                         rf"{points(spec.points)} points to earn\)$", output, re.M), name
        assert table_row(output, name) == [name, "not implemented", f"0 / {points(spec.points)}"]
    assert table_row(output, "total") == ["total", f"0 / {points(MAX_SCORE)}"]
    assert "Traceback" not in output and "FAILURES" not in output and "FAILED" not in output
    checks = sum(len(s.checks) for s in SPECS.values())
    assert re.search(rf"^=+ {checks} not implemented in [\d.]+s", output.strip().splitlines()[-1]), output[-500:]
    # pytest's own header and summary lines aside: at most 2 lines per exercise, plus the table
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if line.startswith("collected "))
    body = [line for line in lines[start + 1:-1] if line.strip() and not line.startswith("=")]
    table = 4 + len(SPECS) + 1  # header, rule, a row each, rule, total; then the next step
    assert len(body) - table - 1 <= 2 * len(SPECS), "\n".join(body)
    assert body[-1] == f"next: write {sorted(SPECS)[0]}, then run: pytest -k {sorted(SPECS)[0]}"


def test_solutions_get_full_marks_and_a_json_report(course, pytester):
    # The report's form, on every exercise; test_end_to_end grades the course with its full trials.
    result = pytester.runpytest("exercises", "--submission", "solutions", "--grade-json", "r.json", *QUICK)
    output = output_of(result)
    assert result.ret == pytest.ExitCode.OK, output
    report = json.loads((course / "r.json").read_text())
    assert set(report) == {"score", "max_score", "exercises"}
    assert report["score"] == report["max_score"] == MAX_SCORE
    assert [e["name"] for e in report["exercises"]] == sorted(SPECS)  # collection order
    for entry in report["exercises"]:
        spec = SPECS[entry["name"]]
        assert set(entry) == {"name", "status", "score", "max_score", "checks"}
        assert entry["status"] == "passed" and entry["score"] == entry["max_score"] == spec.points
        assert [c["name"] for c in entry["checks"]] == list(spec.checks)
        for check in entry["checks"]:
            assert set(check) == {"name", "status", "message"}
            assert check["status"] == "passed" and check["message"] == ""
    assert table_row(output, "total") == ["total", f"{points(MAX_SCORE)} / {points(MAX_SCORE)}"]
    assert not list(course.glob(".r.json.*"))  # the atomic write leaves no temporary file


def test_json_statuses_of_a_failing_submission(course, pytester):
    submission = make_submission(course, drop=["relu.py"], replace={
        "sigmoid.py": (VARIANTS / "sigmoid" / "bug_sign_error.py").read_text()})
    result = pytester.runpytest("exercises", "--submission", submission.name, "--grade-json", "r.json", *QUICK)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = json.loads((course / "r.json").read_text())
    statuses = {e["name"]: e["status"] for e in report["exercises"]}
    assert statuses["relu"] == "error" and statuses["sigmoid"] == "failed"
    assert {s for n, s in statuses.items() if n not in ("relu", "sigmoid")} == {"passed"}
    assert report["score"] == MAX_SCORE - SPECS["relu"].points - SPECS["sigmoid"].points
    for entry in report["exercises"]:
        assert entry["status"] in {"passed", "failed", "error"}
        assert entry["score"] == (entry["max_score"] if entry["status"] == "passed" else 0)
        assert all(c["status"] in {"passed", "failed", "error"} for c in entry["checks"])


def test_missing_student_file_fails_only_that_exercise(course, pytester):
    submission = make_submission(course, drop=["softmax.py"])
    result = pytester.runpytest("exercises", "--submission", submission.name, *QUICK)
    output = output_of(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for check in SPECS["softmax"].checks:
        assert f"softmax::{check} error: softmax.py not found in {submission.name}" in output
    for name in SPECS:
        expected = "error" if name == "softmax" else "passed"
        assert table_row(output, name)[1] == expected, output
    assert result.parseoutcomes()["failed"] == len(SPECS["softmax"].checks)


BROKEN_FILES = {
    "sigmoid.py": ("import torch\n\nclass Sigmoid(torch.autograd.Function)\n    pass\n",
                   "sigmoid.py, line 3: SyntaxError: "),
    "relu.py": ("import torch\n\nraise RuntimeError('half-finished file')\n",
                "importing relu.py raised RuntimeError: half-finished file\n    at relu.py, line 3, in <module>"),
    "softmax.py": ("import torch\n\nclass SoftMax(torch.autograd.Function):\n    pass\n",
                   "softmax.py defines no class 'Softmax' (it defines: SoftMax)"),
}


def test_broken_student_files_fail_only_their_exercise_without_a_traceback(course, pytester):
    submission = make_submission(course, replace={f: text for f, (text, _) in BROKEN_FILES.items()})
    result = pytester.runpytest("exercises", "--submission", submission.name, *QUICK)
    output = output_of(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Traceback" not in output
    broken = {f.removesuffix(".py") for f in BROKEN_FILES}
    for file_name, (_, message) in BROKEN_FILES.items():
        name = file_name.removesuffix(".py")
        for check in SPECS[name].checks:
            assert f"{name}::{check} error: {message}" in output, output
    for name in SPECS:
        assert table_row(output, name)[1] == ("error" if name in broken else "passed"), output
    assert result.parseoutcomes()["failed"] == sum(len(SPECS[n].checks) for n in broken)


def test_invalid_exercise_file_is_a_failing_config_item(course, pytester):
    path = course / "exercises" / "relu" / "exercise.yaml"
    path.write_text(path.read_text() + "hnt: typo\n")
    bad_line = len(path.read_text().splitlines())
    result = pytester.runpytest("exercises", "--submission", "solutions", "--grade-json", "r.json", *QUICK)
    output = output_of(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Traceback" not in output
    assert "FAILED exercises/relu/exercise.yaml::config" in output
    assert f"invalid exercise file:\n{path}:{bad_line}: hnt: unknown key" in output
    assert "did you mean 'hint'?" in output
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1
    assert outcomes["passed"] == sum(len(s.checks) for n, s in SPECS.items() if n != "relu")
    assert table_row(output, "relu") == ["relu", "error", "0 / 10"]  # its points stay in the maximum
    report = json.loads((course / "r.json").read_text())
    (relu,) = [e for e in report["exercises"] if e["name"] == "relu"]
    assert relu["status"] == "error"
    assert relu["checks"] == [{"name": "config", "status": "error", "message": relu["checks"][0]["message"]}]
    assert relu["checks"][0]["message"].startswith(f"{path}:{bad_line}: hnt: unknown key")


def test_replay_reproduces_the_printed_failure(course, pytester):
    # grad_b averaged instead of summed is only wrong for a batch of N >= 2, so the replayed
    # example must carry the failing shape, not just a seed.
    make_submission(course, replace={"linear.py": (VARIANTS / "linear" / "bug_grad_b_mean.py").read_text()})
    first = pytester.runpytest("exercises/linear", "--submission", "submission")
    output = output_of(first)
    # Newer pytest versions repeat the whole message in the short summary: the same command twice.
    commands = sorted(set(re.findall(r"^\s*replay: (pytest \S+::linear::backward .*)$", output, re.M)))
    assert len(commands) == 1, output
    argv = shlex.split(commands[0])
    assert argv[:2] == ["pytest", "exercises/linear/exercise.yaml::linear::backward"]
    example = argv[argv.index("--replay") + 1]
    assert re.search(r"(^|,)N=([2-9]|\d\d)(,|$)", example), example
    failure = re.search(r"^linear::backward failed: (.*)$", output, re.M).group(1)

    replay = pytester.runpytest(*argv[1:])
    replay_output = output_of(replay)
    assert replay.ret == pytest.ExitCode.TESTS_FAILED
    assert replay.parseoutcomes() == {"failed": 1}
    assert f"linear::backward failed: {failure}" in replay_output


def test_grading_is_deterministic(course, pytester):
    make_submission(course, replace={
        "linear.py": (VARIANTS / "linear" / "bug_grad_b_mean.py").read_text(),
        "softmax.py": (VARIANTS / "softmax" / "bug_sum_wrong_dim.py").read_text(),
        "sigmoid.py": (VARIANTS / "sigmoid" / "bug_unstable_forward.py").read_text(),
        "one_layer_net.py": (VARIANTS / "one_layer_net" / "bug_backward_missing_mean.py").read_text(),
    })
    # The four bugged exercises and two passing ones: grading the whole course twice costs half a
    # minute and shows nothing more about determinism.
    folders = [f"exercises/{name}" for name in ("linear", "softmax", "sigmoid", "one_layer_net", "relu", "mlp_loss")]
    reports = []
    for run in ("first.json", "second.json"):
        result = pytester.runpytest(*folders, "--submission", "submission", "--grade-json", run)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        reports.append((course / run).read_bytes())
    assert reports[0] == reports[1]
    text = reports[0].decode()
    assert "smallest failing input" in text and '"status": "failed"' in text  # not a trivial report
    assert len(json.loads(text)["exercises"]) == len(folders)


def test_no_hypothesis_directory_in_the_graded_tree(course, pytester, monkeypatch):
    # Hypothesis fixes its storage directory from the working directory when it is first imported,
    # so only a fresh process started in the graded tree shows where it writes.
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    result = pytester.runpytest_subprocess("exercises/relu", "exercises/sigmoid", "--submission", "solutions",
                                           "-p", "no:cacheprovider", timeout=120)
    assert result.ret == pytest.ExitCode.OK, output_of(result)
    assert not (course / ".hypothesis").exists()


def test_every_exercise_is_collected(course, pytester):
    result = pytester.runpytest("exercises", "--collect-only", "-q")
    output = output_of(result)
    for name, spec in SPECS.items():
        for check in spec.checks:
            assert f"exercises/{name}/exercise.yaml::{name}::{check}" in output
    assert set(exercise_names()) == set(SPECS)


def test_pytest_rewrites_the_asserts_of_tests_but_not_of_the_grader():
    """pytest would rewrite every module of the plugin's package, as it does test files: time on every
    run where the rewritten bytecode is not cached (an autograder's fresh container)."""
    import sys

    from _pytest.assertion.rewrite import AssertionRewritingHook

    import gradcheck_suite.checks.backward
    import gradcheck_suite.grading.runner
    assert isinstance(sys.modules[__name__].__loader__, AssertionRewritingHook)  # rewriting is on in this run
    assert not isinstance(gradcheck_suite.checks.backward.__loader__, AssertionRewritingHook)
    assert not isinstance(gradcheck_suite.grading.runner.__loader__, AssertionRewritingHook)


def test_a_course_run_rewrites_no_module_of_the_grader_or_hypothesis(course, pytester):
    """The same in a fresh grading run, and for Hypothesis, which the grader imports (pytest marks it
    too: it ships a plugin). This test session imported Hypothesis before grading anything, and
    keeps it rewritten: the pytest runs it starts in-process have no 'already imported' warning."""
    (pytester.path / "probe.py").write_text(
        "import sys\n"
        "from _pytest.assertion.rewrite import AssertionRewritingHook\n"
        "def pytest_sessionfinish(session):\n"
        "    rewritten = sorted(name for name, module in list(sys.modules.items())\n"
        "                       if isinstance(getattr(module, '__loader__', None), AssertionRewritingHook))\n"
        "    print('\\nIMPORTED', sorted(name for name in sys.modules if name.startswith(('hypothesis', 'gradcheck'))))\n"
        "    print('REWRITTEN', rewritten)\n")
    result = pytester.runpytest_subprocess("exercises/relu", "--submission", "solutions", "-p", "probe", "-s", *QUICK)
    lines = output_of(result).splitlines()
    imported = next(line for line in lines if line.startswith("IMPORTED"))
    rewritten = next(line for line in lines if line.startswith("REWRITTEN"))
    assert "'hypothesis.core'" in imported and "'gradcheck_suite.checks.backward'" in imported, imported
    assert "'conftest'" in rewritten  # rewriting is on in that run
    assert "'hypothesis" not in rewritten and "gradcheck_suite" not in rewritten, rewritten
