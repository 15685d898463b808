"""`gradcheck-suite release SRC DEST`: the students' version of a course source folder, checked first.

The course sources are built in tmp_path from the sample course: each exercise's YAML (with a
hidden region added) beside its reference solution from tests/solutions, with every forward and
backward body between BEGIN/END SOLUTION lines. Few trials: the release checks grade in-process.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXERCISES, SOLUTIONS
from gradcheck_suite.cli import main
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.instructor.environment import torch_requirement, wheel_name
from gradcheck_suite.instructor.release import MarkerError, find_regions, rewrite_modeline, stub_source

TRIALS = ["--trials", "3"]
MARKER = re.compile(r"^\s*# (BEGIN|END) SOLUTION")
HIDDEN = "# BEGIN HIDDEN\ncheck_visibility: {edge_cases: hidden}\n# END HIDDEN\n"


def marked_solution(source: str, messages: dict[str, str] | None = None) -> str:
    """The solution with each forward and backward body between BEGIN/END SOLUTION lines, in
    place of the markers it had (`messages`: the BEGIN line's message, by method name)."""
    messages = messages or {}
    lines = [line for line in source.splitlines(keepends=True) if not MARKER.match(line)]
    source = "".join(lines)
    inserts = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name in ("forward", "backward"):
            indent = " " * node.body[0].col_offset
            message = f": {messages[node.name]}" if node.name in messages else ""
            inserts += [(node.body[0].lineno - 1, f"{indent}# BEGIN SOLUTION{message}\n"),
                        (node.body[-1].end_lineno, f"{indent}# END SOLUTION\n")]
    for at, line in sorted(inserts, reverse=True):
        lines.insert(at, line)
    return "".join(lines)


def make_course(root: Path, names: list[str]) -> Path:
    """SRC/<name>/exercise.yaml (+ a hidden region), SRC/<name>/<file> (the marked solution), README.md."""
    for name in names:
        folder = root / name
        folder.mkdir(parents=True)
        spec = load_exercise(EXERCISES / name / "exercise.yaml")
        (folder / "exercise.yaml").write_text((spec.path.read_text() + HIDDEN))
        (folder / spec.student_file).write_text(marked_solution((SOLUTIONS / name / spec.student_file).read_text()))
        (folder / "README.md").write_text(f"# {name}\n\nImplement the backward pass.\n")
    return root


def region_code(text: str) -> list[str]:
    """Every non-blank, non-comment line inside the SOLUTION regions of `text`, stripped."""
    lines = text.splitlines()
    code = []
    for region in find_regions(lines, "SOLUTION", "solution"):
        code += [line.strip() for line in lines[region.begin:region.end - 1]
                 if line.strip() and not line.strip().startswith("#")]
    return code


def outside_regions(text: str) -> set[str]:
    """The stripped lines of `text` outside its SOLUTION regions."""
    lines = text.splitlines()
    inside = {n for r in find_regions(lines, "SOLUTION", "source") for n in range(r.begin, r.end + 1)}
    return {line.strip() for n, line in enumerate(lines, 1) if n not in inside}


def tree_snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_release_writes_stubs_and_keeps_every_solution_line_out(tmp_path, capsys):
    src = make_course(tmp_path / "instructor" / "course", ["linear", "sigmoid"])
    linear = src / "linear" / "linear.py"
    linear.write_text(marked_solution((SOLUTIONS / "linear" / "linear.py").read_text(), {"forward": "return x @ w + b"}))
    dest = tmp_path / "release" / "2026" / "students"

    assert main(["release", str(src), str(dest), *TRIALS]) == 0
    out = capsys.readouterr().out
    assert "linear: ok (the solution passes its 5 checks; the stub scores 0 / 10)" in out
    assert f"released 2 exercises from {src} to {dest}" in out

    stub = (dest / "linear" / "linear.py").read_text()
    assert '        raise NotImplementedError("return x @ w + b")\n' in stub
    assert '        raise NotImplementedError("Linear.backward: not implemented yet")\n' in stub
    released = "\n".join(p.read_text() for p in dest.rglob("*") if p.is_file())
    released_lines = {line.strip() for line in released.splitlines()}
    for name in ("linear", "sigmoid"):
        for line in region_code((src / name / f"{name}.py").read_text()):
            assert line not in released_lines, f"solution line of {name} released: {line!r}"
    assert "SOLUTION" not in released and "HIDDEN" not in released and "check_visibility" not in released
    assert (dest / "linear" / "README.md").read_text() == (src / "linear" / "README.md").read_text()

    modeline = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")
    before = modeline.match((src / "linear" / "exercise.yaml").read_text())[1]
    after = modeline.match((dest / "linear" / "exercise.yaml").read_text())[1]
    assert after != before
    assert os.path.normpath(dest / "linear" / after) == os.path.normpath(src / "linear" / before)

    requirements = (dest / "requirements.txt").read_text().splitlines()
    assert torch_requirement() in requirements and f"./{wheel_name()}" in requirements
    assert not list(dest.glob("*.whl")), "the wheel only with --wheel"

    assert main(["validate", str(dest)]) == 0
    specs = [load_exercise(dest / name / "exercise.yaml") for name in ("linear", "sigmoid")]
    for spec in specs:
        result = grade_submission([spec], spec.directory).exercises[spec.name]
        assert result.score == 0 and result.not_implemented, spec.name


def test_release_refuses_a_solution_that_fails_a_check_and_leaves_dest_as_it_was(tmp_path, capsys):
    src = make_course(tmp_path / "src", ["linear"])
    solution = src / "linear" / "linear.py"
    solution.write_text(solution.read_text().replace("grad_output.sum(dim=0)", "grad_output.mean(dim=0)"))
    dest = tmp_path / "dest"
    (dest / "old").mkdir(parents=True)
    (dest / "old" / "keep.txt").write_text("last year's release\n")
    before = tree_snapshot(dest)

    assert main(["release", str(src), str(dest), "--force", *TRIALS]) == 1
    out = capsys.readouterr().out
    assert "linear: refused" in out
    assert f"{solution}: the solution fails check 'backward' (failed): gradient for 'b'" in out
    assert f"release refused: 1 of 1 exercise has problems; {dest} was not touched" in out
    assert tree_snapshot(dest) == before
    assert sorted(os.listdir(tmp_path)) == ["dest", "src"]


def test_release_refuses_a_stub_that_still_passes(tmp_path, capsys):
    src = make_course(tmp_path / "src", ["sigmoid"])
    solution = src / "sigmoid" / "sigmoid.py"
    solution.write_text("".join(l for l in solution.read_text().splitlines(keepends=True) if "SOLUTION" not in l))

    assert main(["release", str(src), str(tmp_path / "dest"), *TRIALS]) == 1
    out = capsys.readouterr().out
    assert (f"{solution}: the released stub still passes the exercise (checks it passes: forward, backward, "
            "backward_properties, finite_differences, edge_cases)") in out
    assert not (tmp_path / "dest").exists()


def lines_with(text: str, marker: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == marker]


def _unterminated(text: str) -> tuple[str, list[str]]:
    text = text.replace("        # END SOLUTION\n", "", 1)
    first, second = lines_with(text, "# BEGIN SOLUTION")
    return text, [f"{first}: BEGIN SOLUTION is never closed (no END SOLUTION after it)",
                  f"{second}: BEGIN SOLUTION inside the region opened at line {first}; regions cannot be nested"]


def _unbalanced(text: str) -> tuple[str, list[str]]:
    text = text.replace("        # BEGIN SOLUTION\n", "", 1)
    return text, [f"{lines_with(text, '# END SOLUTION')[0]}: END SOLUTION without a BEGIN SOLUTION before it"]


def _misindented(text: str) -> tuple[str, list[str]]:
    text = text.replace("        # BEGIN SOLUTION\n", "# BEGIN SOLUTION\n", 1)
    return text, [f"{lines_with(text, '# BEGIN SOLUTION')[0]}: the released stub does not compile"]


def test_release_refuses_a_stub_that_earns_partial_credit_under_the_course_weights(tmp_path, capsys):
    """course.yaml is released too (hidden regions out, modeline rewritten) and its weights count."""
    src = make_course(tmp_path / "src", ["linear"])
    (src / "course.yaml").write_text("# yaml-language-server: $schema=../docs/schema/course.schema.json\n"
                                     "weights: {forward: 20, backward: 80}\n")
    solution = src / "linear" / "linear.py"
    forward_given = marked_solution((SOLUTIONS / "linear" / "linear.py").read_text()).replace(
        "        # BEGIN SOLUTION\n        ctx.save", "        ctx.save", 1).replace(
        "x @ w + b\n        # END SOLUTION\n", "x @ w + b\n", 1)
    solution.write_text(forward_given)
    assert main(["release", str(src), str(tmp_path / "dest"), *TRIALS]) == 1
    assert (f"{solution}: the released stub still scores 2 / 10 (checks it passes: forward)"
            in capsys.readouterr().out)

    solution.write_text(marked_solution((SOLUTIONS / "linear" / "linear.py").read_text()))
    assert main(["release", str(src), str(tmp_path / "nested" / "dest"), *TRIALS]) == 0
    released = (tmp_path / "nested" / "dest" / "course.yaml").read_text()
    assert released.startswith("# yaml-language-server: $schema=../../docs/schema/course.schema.json\n")


@pytest.mark.parametrize("edit", [_unterminated, _unbalanced, _misindented], ids=lambda f: f.__name__[1:])
def test_release_refuses_malformed_solution_markers_with_file_and_line(tmp_path, capsys, edit):
    src = make_course(tmp_path / "src", ["relu"])
    py = src / "relu" / "relu.py"
    text, expected = edit(py.read_text())
    py.write_text(text)
    assert main(["release", str(src), str(tmp_path / "dest"), *TRIALS]) == 1
    out = capsys.readouterr().out
    for message in expected:
        assert f"{py}:{message}" in out
    assert not (tmp_path / "dest").exists()


def test_release_refuses_invalid_yaml_as_written_and_as_released(tmp_path, capsys):
    src = make_course(tmp_path / "src", ["linear", "sigmoid"])
    linear_yaml = src / "linear" / "exercise.yaml"
    linear_yaml.write_text(linear_yaml.read_text().replace("points: 10", "pionts: 10"))
    # The edge cases hidden while `checks` still lists them: only the students' version is invalid.
    sigmoid_yaml = src / "sigmoid" / "exercise.yaml"
    sigmoid_yaml.write_text((EXERCISES / "sigmoid" / "exercise.yaml").read_text().replace(
        "edge_cases:", "checks: [forward, backward, edge_cases]\n# BEGIN HIDDEN\nedge_cases:") + "# END HIDDEN\n")
    pionts = lines_with(linear_yaml.read_text(), "pionts: 10")[0]
    checks = lines_with(sigmoid_yaml.read_text(), "checks: [forward, backward, edge_cases]")[0]

    assert main(["release", str(src), str(tmp_path / "dest"), *TRIALS]) == 1
    out = capsys.readouterr().out
    assert f"{linear_yaml}:{pionts}: pionts: unknown key" in out and "(as the instructor wrote it)" in out
    assert (f"{sigmoid_yaml}:{checks}: checks: edge_cases is listed but no edge_cases are given "
            "(as released, without its hidden regions)") in out
    assert not (tmp_path / "dest").exists()


def test_release_refuses_unbalanced_hidden_markers(tmp_path, capsys):
    src = make_course(tmp_path / "src", ["sigmoid"])
    yaml_file = src / "sigmoid" / "exercise.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("# END HIDDEN\n", ""))
    line = yaml_file.read_text().splitlines().index("# BEGIN HIDDEN") + 1
    assert main(["release", str(src), str(tmp_path / "dest"), *TRIALS]) == 1
    assert f"{yaml_file}:{line}: BEGIN HIDDEN is never closed (no END HIDDEN after it)" in capsys.readouterr().out


def test_release_misuse_exits_2_and_writes_nothing(tmp_path, capsys):
    src = make_course(tmp_path / "src", ["relu"])
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    assert main(["release", str(src), str(full)]) == 2
    assert "not empty; pass --force" in capsys.readouterr().err
    assert main(["release", str(src), str(src / "out")]) == 2
    assert "must be outside" in capsys.readouterr().err
    assert main(["release", str(tmp_path / "nowhere"), str(tmp_path / "d")]) == 2
    assert main(["release", str(full), str(tmp_path / "d")]) == 2
    assert "no <exercise>/exercise.yaml" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["full", "src"]


def test_release_wheel_ships_the_wheel_requirements_txt_installs(tmp_path, capsys):
    """--wheel builds gradcheck-suite's wheel beside requirements.txt; pip, run in DEST as a student
    runs it, takes the wheel and accepts the torch installed here (offline: --no-index, --dry-run)."""
    src = make_course(tmp_path / "src", ["relu"])
    dest = tmp_path / "students"
    assert main(["release", str(src), str(dest), *TRIALS, "--wheel"]) == 0
    assert f"environment: {wheel_name()} beside requirements.txt" in capsys.readouterr().out
    assert (dest / wheel_name()).is_file()
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps",
                           "--disable-pip-version-check", "-r", "requirements.txt"],
                          cwd=dest, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Would install gradcheck-suite-{wheel_name().split('-')[1]}" in done.stdout

    given = tmp_path / "gradcheck_suite-9.9.9-py3-none-any.whl"  # a wheel the instructor has: named as it is
    given.write_bytes((dest / wheel_name()).read_bytes())
    assert main(["release", str(src), str(tmp_path / "given"), *TRIALS, "--wheel", str(given)]) == 0
    assert "./gradcheck_suite-9.9.9-py3-none-any.whl" in (tmp_path / "given" / "requirements.txt").read_text()
    assert (tmp_path / "given" / given.name).read_bytes() == given.read_bytes()

    own = make_course(tmp_path / "own", ["relu"])
    (own / "requirements.txt").write_text("torch==2.13.0\n")  # the instructor's own: released as it is
    assert main(["release", str(own), str(tmp_path / "own_students"), *TRIALS]) == 0
    assert (tmp_path / "own_students" / "requirements.txt").read_text() == "torch==2.13.0\n"


def test_markers_and_modelines_unit():
    with pytest.raises(MarkerError, match=r"f.py:2: BEGIN SOLUTION inside the region opened at line 1"):
        find_regions(["# BEGIN SOLUTION\n", "# BEGIN SOLUTION\n", "# END SOLUTION\n", "# END SOLUTION\n"],
                     "SOLUTION", "f.py")
    with pytest.raises(MarkerError, match=r"f.py:1: expected '# BEGIN SOLUTION' or '# BEGIN SOLUTION: message'"):
        find_regions(["# BEGIN SOLUTION here\n", "# END SOLUTION\n"], "SOLUTION", "f.py")
    assert find_regions(["# BEGIN SOLUTIONS are below\n"], "SOLUTION", "f.py") == []  # another word
    stub = stub_source('def f(x):\n    # BEGIN SOLUTION: say "hi"\n    return x\n    # END SOLUTION\n', "f.py")
    assert stub.text == 'def f(x):\n    raise NotImplementedError("say \\"hi\\"")\n'
    assert stub.source_line(2) == 2
    here, there = Path("/a/b/src/ex"), Path("/a/out/ex")
    assert rewrite_modeline("# yaml-language-server: $schema=../../s.json\n", here, there) == \
        "# yaml-language-server: $schema=../../b/s.json\n"
    for kept in ("# yaml-language-server: $schema=https://example.org/s.json\n",
                 "# yaml-language-server: $schema=/abs/s.json\n", "name: x\n"):
        assert rewrite_modeline(kept, here, there) == kept


def test_the_sample_course_is_the_release_of_its_source(tmp_path, capsys):
    """tests/solutions is the instructor's source of the sample course (each exercise's YAML and
    its solution between markers); exercises/ is exactly what `release` makes of it."""
    dest = tmp_path / "students"
    assert main(["release", str(SOLUTIONS), str(dest), *TRIALS]) == 0
    names = sorted(p.parent.name for p in SOLUTIONS.glob("*/exercise.yaml"))
    assert sorted(p.parent.name for p in EXERCISES.glob("*/exercise.yaml")) == names
    assert f"released {len(names)} exercises" in capsys.readouterr().out

    released = tree_snapshot(dest)
    assert sorted(released) == sorted(tree_snapshot(EXERCISES))
    modeline = re.compile(rb"^# yaml-language-server: \$schema=(\S+)\n")
    for relative, content in released.items():
        shipped = (EXERCISES / relative).read_bytes()
        if relative.endswith(".yaml"):
            ours, theirs = modeline.match(content), modeline.match(shipped)
            assert os.path.normpath(dest / relative / ".." / ours[1].decode()) == \
                   os.path.normpath(EXERCISES / relative / ".." / theirs[1].decode())
            content, shipped = content[ours.end():], shipped[theirs.end():]
        assert content == shipped, f"exercises/{relative} is not the release of tests/solutions/{relative}"

    released_lines = {line.strip() for text in released.values() for line in text.decode().splitlines()}
    for source in SOLUTIONS.glob("*/*.py"):
        text = source.read_text()
        code = region_code(text)
        assert code, f"{source} has no solution region"
        # A line the source also gives outside its regions (a formula quoted in a docstring) is
        # the exercise's text, not a leak.
        given = outside_regions(text)
        leaked = [line for line in code if line in released_lines and line not in given]
        assert not leaked, f"solution lines of {source} in the release: {leaked}"

    specs = [load_exercise(dest / name / "exercise.yaml") for name in names]
    book = grade_submission(specs, None)
    for spec in specs:
        result = book.exercises[spec.name]
        assert result.score == 0 and result.status != "passed", spec.name
