"""`gradcheck-suite build-autograder SRC --platform P --out PATH`: each platform's bundle, run as the platform runs it.

The platforms' images cannot be pulled here, so each is simulated: a folder laid out as the platform
lays it out (Gradescope's /autograder with the zip unpacked in source/, PrairieLearn's /grade with the
grader's files in tests/, a GitHub Classroom checkout of the template repository), the platform's
entry script run on it with its root pointed at the folder (AUTOGRADER_ROOT, PL_GRADE_ROOT), and
the results file checked field by field against the platform's specification.

The course is a part of the sample course's source (tests/solutions), relu with a hidden region.
Whole runs carry the marker heavy; the refusals and the solution-line scan of one bundle do not.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from test_outputs import validate_gradescope
from test_release import region_code

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS
from gradcheck_suite import cli
from gradcheck_suite.cli import main
from gradcheck_suite.grading.manifest import ManifestError, complete, read_manifest
from gradcheck_suite.instructor import bundle
from gradcheck_suite.instructor.environment import requirements_text, torch_requirement
from gradcheck_suite.report.model import GradeBook

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

COURSE = {"linear": 10.0, "relu": 10.0, "cube": 10.0}
HIDDEN = "# BEGIN HIDDEN\ncheck_visibility: {edge_cases: hidden}\n# END HIDDEN\n"
TRIALS = ["--trials", "3"]
PACKAGE = REPO_ROOT / "gradcheck_suite"
PLATFORMS = ("gradescope", "prairielearn", "github-classroom")


def make_source(root: Path, names=tuple(COURSE)) -> Path:
    """The instructor's source of a part of the course: solutions between markers, relu's YAML with a hidden region."""
    for name in names:
        shutil.copytree(SOLUTIONS / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    relu = root / "relu" / "exercise.yaml"
    if relu.exists():
        relu.write_text(relu.read_text() + HIDDEN)
    return root


def build(src: Path, platform: str, out: Path, *extra: str) -> int:
    return main(["build-autograder", str(src), "--platform", platform, "--out", str(out), *TRIALS, *extra])


# ----------------------------------------------------------------------------- what a bundle holds

def unpacked(root: Path) -> dict[str, bytes]:
    """Every file under `root`, each zip archive (a wheel is one) replaced by its members, recursively."""
    files: dict[str, bytes] = {}

    def add(where: str, data: bytes) -> None:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    if not member.endswith("/"):
                        add(f"{where}!{member}", archive.read(member))
        else:
            files[where] = data

    for path in sorted(root.rglob("*")):
        if path.is_file():
            add(str(path.relative_to(root)), path.read_bytes())
    return files


def solution_lines(src: Path) -> set[str]:
    """Lines inside the SOLUTION regions of `src` that students are not given anyway: not in the
    released stubs (exercises/, the release of tests/solutions) nor in gradcheck-suite's own source,
    which they install (a reference's `return x**3` is the package's, not a leak)."""
    given = {line.strip() for p in EXERCISES.glob("*/*.py") for line in p.read_text().splitlines()}
    given |= {line.strip() for p in PACKAGE.rglob("*.py") for line in p.read_text().splitlines()}
    return {line for p in src.glob("*/*.py") for line in region_code(p.read_text())} - given


def leaked(bundle: Path, src: Path) -> list[str]:
    lines = solution_lines(src)
    assert lines, "the scan needs solution lines to look for"
    return [f"{where}: {line.strip()}" for where, data in unpacked(bundle).items()
            for line in data.decode("utf-8", errors="replace").splitlines() if line.strip() in lines]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- fast: refusals, one bundle scanned

def test_a_failing_release_check_refuses_the_build_and_leaves_out_as_it_was(tmp_path, capsys):
    src = make_source(tmp_path / "src", ["linear"])
    solution = src / "linear" / "linear.py"
    solution.write_text(solution.read_text().replace("grad_output.sum(dim=0)", "grad_output.mean(dim=0)"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "autograder.zip").write_bytes(b"last term's autograder")
    before = snapshot(out)

    assert build(src, "gradescope", out, "--force") == 1
    printed = capsys.readouterr().out
    assert f"{solution}: the solution fails check 'backward' (failed): gradient for 'b'" in printed
    assert f"build-autograder refused: the release checks failed; {out} was not touched" in printed
    assert snapshot(out) == before
    assert sorted(os.listdir(tmp_path)) == ["out", "src"]


def test_a_course_file_copying_a_solution_refuses_the_build(tmp_path, capsys):
    """release copies course files as they are; the bundle's scan finds the solution lines in one."""
    src = make_source(tmp_path / "src", ["relu"])
    (src / "notes").mkdir()
    answer = re.sub(r"^\s*# (BEGIN|END) SOLUTION.*\n", "", (src / "relu" / "relu.py").read_text(), flags=re.M)
    (src / "notes" / "relu_answer.py").write_text(answer)
    out = tmp_path / "out"

    assert build(src, "prairielearn", out) == 1
    printed = capsys.readouterr().out
    assert re.search(r"^tests/exercises/notes/relu_answer\.py: solution line '.+'$", printed, re.M), printed
    assert "solution line" in printed.splitlines()[-1] and f"{out} was not touched" in printed
    assert not out.exists()


def test_misuse_exits_2_and_writes_nothing(tmp_path, capsys):
    assert cli.PLATFORMS == bundle.PLATFORMS and sorted(bundle.LAYOUTS) == sorted(bundle.PLATFORMS), "the CLI names every platform"
    src = make_source(tmp_path / "src", ["relu"])
    assert main(["build-autograder", str(src), "--platform", "gradescope", "--out", str(src / "bundle")]) == 2
    assert "must be outside" in capsys.readouterr().err
    assert main(["build-autograder", str(tmp_path / "nowhere"), "--platform", "gradescope",
                 "--out", str(tmp_path / "out")]) == 2
    assert main(["build-autograder", str(src), "--platform", "gradescope", "--out", str(tmp_path / "out"),
                 "--wheel", str(src / "relu" / "relu.py")]) == 1
    assert "expected a gradcheck_suite-<version>-py3-none-any.whl file" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["src"]


def test_the_gradescope_bundle_holds_the_course_with_its_hidden_checks_and_no_solution_line(tmp_path, capsys):
    src = make_source(tmp_path / "src", ["linear", "relu"])
    out = tmp_path / "out"
    assert build(src, "gradescope", out) == 0
    assert "built the gradescope autograder of 2 exercises" in capsys.readouterr().out
    assert os.listdir(out) == ["autograder.zip"]

    with zipfile.ZipFile(out / "autograder.zip") as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        archive.extractall(tmp_path / "source")
    source = tmp_path / "source"
    assert {"setup.sh", "run_autograder", "manifest.json", "secret-seed", "requirements.txt"} <= set(names)
    assert all(modes[script] & stat.S_IXUSR for script in ("setup.sh", "run_autograder"))
    wheels = [n for n in names if re.fullmatch(r"gradcheck_suite-[^/]+-py3-none-any\.whl", n)]
    assert len(wheels) == 1

    # the instructor's YAML, hidden region included, beside the released stub (never the solution)
    assert (source / "exercises" / "relu" / "exercise.yaml").read_text() == (src / "relu" / "exercise.yaml").read_text()
    assert (source / "exercises" / "relu" / "relu.py").read_text() == (EXERCISES / "relu" / "relu.py").read_text()
    manifest = json.loads((source / "manifest.json").read_text())
    assert {e["name"]: e["points"] for e in manifest["exercises"]} == {"linear": 10.0, "relu": 10.0}
    assert re.fullmatch(r"[0-9a-f]{32}\n", (source / "secret-seed").read_text())
    requirements = (source / "requirements.txt").read_text().splitlines()
    assert torch_requirement() in requirements and f"./{wheels[0]}" in requirements
    assert "libseccomp2" in (source / "setup.sh").read_text()

    files = unpacked(out)
    assert any(name.startswith(f"autograder.zip!{wheels[0]}!gradcheck_suite/") for name in files), "wheel unpacked"
    assert leaked(out, src) == []
    # the scan finds a solution line where there is one
    solution = (src / "relu" / "relu.py").read_text()
    with zipfile.ZipFile(out / "autograder.zip", "a") as archive:
        archive.writestr("exercises/relu/notes.py", solution)
    assert leaked(out, src)


def test_a_secret_is_kept_across_builds_when_given(tmp_path):
    src = make_source(tmp_path / "src", ["relu"])
    secret = tmp_path / "secret"
    secret.write_text("last term's secret\n")
    assert build(src, "prairielearn", tmp_path / "pl", "--secret-seed-file", str(secret)) == 0
    assert (tmp_path / "pl" / "tests" / "secret-seed").read_text() == "last term's secret\n"
    assert build(src, "github-classroom", tmp_path / "gh", "--secret-seed-file", str(secret)) == 0
    assert not list((tmp_path / "gh").rglob("secret-seed")), "no secret where students can read it"


def test_the_torch_range_and_requirements():
    assert torch_requirement("2.13.0+cpu") == "torch>=2.2,<2.14"
    assert torch_requirement("3.0.1") == "torch>=2.2,<3.1"
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert f'"{torch_requirement("2.13.0").split(",")[0]}"' in pyproject, "the lower bound is pyproject's"
    text = requirements_text("torch>=2.2,<2.14", "gradcheck_suite-9.9-py3-none-any.whl")
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "--extra-index-url https://download.pytorch.org/whl/cpu", "torch>=2.2,<2.14",
        "./gradcheck_suite-9.9-py3-none-any.whl"]


def test_the_manifest_completes_a_grade_book_and_names_what_is_wrong(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"exercises": [
        {"name": "relu", "folder": "relu", "points": 10, "student_file": "relu.py"},
        {"name": "softmax2", "folder": "softmax", "points": 15, "student_file": "softmax.py"},
        {"name": "linear", "folder": "linear", "points": 10, "student_file": "linear.py"}]}))
    book = GradeBook()
    book.exercise("softmax", "softmax", 0.0, ()).config_error = "exercise.yaml: not valid YAML"  # read by folder
    book.exercise("linear", "Linear", 10.0, ("forward",))
    complete(book, read_manifest(path))
    assert book.max_score == 35 and book.score == 0
    assert book.exercises["softmax"].max_score == 15
    assert "listed in manifest.json with 10 points" in book.ungradable["relu"]
    assert "linear" not in book.ungradable

    path.write_text(json.dumps({"exercises": [{"name": "relu", "folder": "relu", "points": "ten",
                                               "student_file": "relu.py"}]}))
    with pytest.raises(ManifestError, match=r"manifest.json: exercises\[0\].points: expected a number, got 'ten'"):
        read_manifest(path)
    path.write_text("{")
    with pytest.raises(ManifestError, match="manifest.json: not valid JSON"):
        read_manifest(path)


def test_grade_refuses_a_manifest_it_cannot_read_before_grading(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "manifest.json").write_text('{"exercises": [{"name": "relu"}]}')
    assert main(["grade", str(EXERCISES / "relu"), "--submission", str(tmp_path / "sub"),
                 "--manifest", str(tmp_path / "manifest.json")]) == 2
    assert "manifest.json: exercises[0].folder: expected a string, got None" in capsys.readouterr().err


def test_the_examples_are_links_to_the_scripts_build_autograder_ships():
    templates = PACKAGE / "instructor" / "platforms"
    shipped = sorted(str(p.relative_to(templates)) for p in templates.rglob("*") if p.is_file())
    assert shipped == ["github-classroom/classroom.yml", "gradescope/run_autograder", "gradescope/setup.sh",
                       "prairielearn/Dockerfile", "prairielearn/run.sh"]
    for name in shipped:
        example = REPO_ROOT / "examples" / name
        assert example.is_symlink() and example.resolve() == (templates / name).resolve(), name


# ----------------------------------------------------------------------------- heavy: each platform, run as it runs

def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "GRADCHECK_SUITE": f"{sys.executable} -m gradcheck_suite.cli",
            **extra}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bundles")
    src = make_source(root / "src")
    built = {"src": src}
    for platform in PLATFORMS:
        assert build(src, platform, root / platform) == 0, platform
        built[platform] = root / platform
    return built


def _submit(folder: Path, case: str, nested: bool = False) -> None:
    """The student's files in `folder`: flat, as uploaded, or `nested` in <name>/ as in a repository."""
    source = EXERCISES if case == "stubs" else SOLUTIONS  # a broken exercise: an honest submission loses nothing else
    for name in COURSE:
        target = folder / name if nested else folder
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name / f"{name}.py", target / f"{name}.py")


def _break(course: Path, case: str) -> None:
    relu = course / "relu" / "exercise.yaml"
    if case == "unimportable reference":
        relu.write_text(relu.read_text().replace("reference: torch.relu", "reference: no_such_module.relu"))
    elif case == "invalid YAML":
        relu.write_text("name: relu\npoints: [10\n")  # no points left to read: the manifest's count


CASES = ("solutions", "stubs", "unimportable reference", "invalid YAML")


@pytest.mark.heavy
def test_no_bundle_holds_a_solution_line(bundles):
    for platform in PLATFORMS:
        assert leaked(bundles[platform], bundles["src"]) == [], platform
    classroom = bundles["github-classroom"]
    assert "HIDDEN" not in (classroom / "exercises" / "relu" / "exercise.yaml").read_text()
    assert not (classroom / "secret-seed").exists()


@pytest.mark.heavy
@pytest.mark.parametrize("case", CASES)
def test_gradescope_runs_the_bundle_as_it_runs_an_autograder(bundles, tmp_path, case):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundles["gradescope"] / "autograder.zip") as archive:
        archive.extractall(root / "source")
    _break(root / "source" / "exercises", case)
    _submit(root / "submission", case)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=_env(AUTOGRADER_ROOT=str(root)),
                          capture_output=True, text=True, timeout=600)
    report = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(report)
    tests = {t["tags"][0]: t for t in report["tests"]}
    assert report["max_score"] == sum(COURSE.values()) == sum(t["max_score"] for t in tests.values())
    assert sorted(tests) == sorted(COURSE)
    full = json.loads((root / "results" / "gradcheck.json").read_text())
    assert full["run"]["trials"] == "secret seed", "the bundle's secret, not the public seeds"
    if case == "solutions":
        assert done.returncode == 0, done.stderr[-2000:]
        assert report["score"] == 30 and all(t["status"] == "passed" for t in tests.values())
    elif case == "stubs":
        assert done.returncode == 0, done.stderr[-2000:]
        assert report["score"] == 0 and all(t["status"] == "failed" for t in tests.values())
    else:
        assert done.returncode != 0, "Gradescope shows the autograder's exit and output to staff"
        assert "relu could not be graded; its points stay in the maximum" in done.stderr
        assert tests["relu"]["score"] == 0 and tests["relu"]["max_score"] == 10 and tests["relu"]["status"] == "failed"
        assert "not in your code" in tests["relu"]["output"]
        assert report["score"] == 20 and "All checks passed" not in report["output"]
        assert "relu could not be graded" in report["output"]


@pytest.mark.heavy
@pytest.mark.parametrize("case", CASES)
def test_prairielearn_runs_the_bundle_as_its_external_grader_does(bundles, tmp_path, case):
    root = tmp_path / "grade"
    shutil.copytree(bundles["prairielearn"] / "tests", root / "tests")
    _break(root / "tests" / "exercises", case)
    _submit(root / "student", case)
    done = subprocess.run(["bash", str(root / "tests" / "run.sh")], env=_env(PL_GRADE_ROOT=str(root)),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, "PrairieLearn reads results.json after a zero exit; gradable: false tells staff"
    results = json.loads((root / "results" / "results.json").read_text())
    assert set(results) >= {"gradable", "score", "message", "output", "tests"}
    assert isinstance(results["gradable"], bool) and isinstance(results["message"], str)
    assert isinstance(results["score"], float) and 0 <= results["score"] <= 1
    tests = {t["description"]: t for t in results["tests"]}
    assert sorted(tests) == sorted(COURSE)
    for test in tests.values():
        assert {"name", "points", "max_points", "output", "message"} <= set(test)
        assert isinstance(test["name"], str) and isinstance(test["output"], str) and isinstance(test["message"], str)
        assert 0 <= test["points"] <= test["max_points"]
    assert sum(t["max_points"] for t in tests.values()) == sum(COURSE.values())
    if case == "solutions":
        assert results["gradable"] is True and results["score"] == 1.0
        assert all(t["points"] == t["max_points"] == 10 for t in tests.values())
    elif case == "stubs":
        assert results["gradable"] is True and results["score"] == 0.0
    else:
        assert results["gradable"] is False
        assert (tests["relu"]["points"], tests["relu"]["max_points"], tests["relu"]["message"]) == (0, 10, "error")
        assert results["score"] == pytest.approx(20 / 30, abs=1e-6)


@pytest.mark.heavy
@pytest.mark.parametrize("case", ("solutions", "stubs", "unimportable reference"))
def test_github_classroom_runs_the_template_repository_workflow(bundles, tmp_path, case):
    """The workflow's grading steps, run in a checkout of the template repository where the student
    wrote their code in exercises/<name>/ (the steps that install come from the network, and are
    replaced by this checkout's package)."""
    repo = tmp_path / "repo"
    shutil.copytree(bundles["github-classroom"], repo)
    _break(repo / "exercises", case)
    _submit(repo / "exercises", case, nested=True)
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    runs = [step["run"] for step in workflow["jobs"]["grade"]["steps"] if "run" in step]
    assert runs[0] == "pip install -r requirements.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gradcheck-suite").write_text(f'#!/bin/sh\nexec {sys.executable} -m gradcheck_suite.cli "$@"\n')
    (bin_dir / "gradcheck-suite").chmod(0o755)
    summary = tmp_path / "summary.md"
    env = _env(PATH=f"{bin_dir}:{os.environ['PATH']}", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    done = [subprocess.run(["bash", "-c", run], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
            for run in runs[1:]]
    graded = done[-1]
    points = re.search(r"^::notice title=Autograding complete::Points (\S+)/(\S+)$", graded.stdout, re.M)
    assert points, graded.stdout[-2000:]
    assert points[2] == "30", "every exercise's points in the maximum"
    assert (repo / "grades.xml").is_file() and summary.read_text().strip()
    if case == "solutions":
        assert graded.returncode == 0 and points[1] == "30"
    elif case == "stubs":
        assert graded.returncode == 0 and points[1] == "0"
    else:
        assert graded.returncode != 0, "the run fails: the student and the teacher both see it"
        assert points[1] == "20"
