"""The guides in docs/ are run, so that they cannot go stale.

In each page, a ```console block holds commands (`$ ...`) each followed by the output it must
print (a `...` line stands for any lines); a ```python or ```yaml block preceded by
`<!-- file: PATH -->` is written to PATH first. Every page runs, in order, in a fresh folder
holding a copy of the sample course's exercises/.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import EXERCISES, REPO_ROOT, load_specs
from gradcheck_suite.cli import main

DOCS = REPO_ROOT / "docs"
GUIDES = ("students.md", "instructors.md")
FENCE = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.DOTALL)


@dataclass
class Step:
    kind: str  # "file" or "command"
    target: str  # the file's path or the command line
    text: list[str]  # the file's lines, or the output expected


def steps(page: Path) -> list[Step]:
    found = []
    for block in FENCE.finditer(page.read_text(encoding="utf-8")):
        body = block["body"].splitlines()
        if block["file"]:
            found.append(Step("file", block["file"], body))
        elif block["lang"] == "console":
            for line in body:
                if line.startswith("$ "):
                    found.append(Step("command", line[2:], []))
                else:
                    found[-1].text.append(line)
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether `actual` reads as `expected`, each `...` line standing for any lines (none included)."""
    actual = [line.rstrip() for line in actual]
    segments, current = [], []
    for line in expected + ["..."]:
        if line == "...":
            segments.append(current)
            current = []
        else:
            current.append(line.rstrip())
    position = 0
    for index, segment in enumerate(segments):
        if not segment:
            continue
        anchored = index == 0
        starts = [position] if anchored else range(position, len(actual) - len(segment) + 1)
        start = next((s for s in starts if actual[s:s + len(segment)] == segment), None)
        if start is None:
            return False
        position = start + len(segment)
    return expected[-1:] == ["..."] or position == len(actual) or not expected


def run(command: str, workspace: Path, capsys) -> tuple[int, list[str]]:
    """A documented command, as a user would type it in `workspace`."""
    words = shlex.split(command)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    if words[0] == "pytest":
        # The plugin comes from the package's entry point when installed, else named here.
        argv = [sys.executable, "-m", "pytest", "-p", "gradcheck_suite.plugin", "-p", "no:cacheprovider", *words[1:]]
    elif words[:2] == ["gradcheck-suite", "grade"]:  # runs pytest itself: a process of its own
        argv = [sys.executable, "-m", "gradcheck_suite.cli", *words[1:]]
    elif words[0] == "gradcheck-suite":
        code = main(words[1:])
        captured = capsys.readouterr()
        return code, (captured.out + captured.err).splitlines()
    else:
        raise AssertionError(f"the docs run only gradcheck-suite and pytest commands, not {command!r}")
    done = subprocess.run(argv, cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, (done.stdout + done.stderr).splitlines()


@pytest.mark.parametrize("page", GUIDES)
def test_every_example_of_the_guide_runs_as_shown(page, tmp_path, monkeypatch, capsys):
    shutil.copytree(EXERCISES, tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    found = steps(DOCS / page)
    assert any(s.kind == "command" for s in found), f"{page} has no runnable example"
    for step in found:
        if step.kind == "file":
            target = tmp_path / step.target
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(step.text) + "\n", encoding="utf-8")
            continue
        code, output = run(step.target, tmp_path, capsys)
        shown = "\n".join(output)
        assert matches(step.text, output), f"docs/{page}: `{step.target}` printed\n{shown}\nexpected\n" + \
            "\n".join(step.text)
        if step.target.startswith("gradcheck-suite"):
            assert code == 0, f"docs/{page}: `{step.target}` exited {code}\n{shown}"


def test_the_matcher_tells_a_match_from_a_mismatch():
    assert matches(["a", "...", "c"], ["a", "b", "c"])
    assert matches(["...", "b", "..."], ["a", "b", "c"])
    assert matches(["a", "b"], ["a", "b"])
    assert not matches(["a", "b"], ["a", "b", "c"])
    assert not matches(["...", "b", "c", "..."], ["b", "x", "c"])
    assert not matches(["...", "d"], ["a", "b", "c"])
    assert not matches(["b", "..."], ["a", "b"])


def test_the_guides_are_linked_from_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    for page in (*GUIDES, "reference.md"):
        assert f"docs/{page}" in readme, page


def test_the_readme_describes_the_course_as_it_is():
    """Every exercise has a row in the README's course tables, with its points where a row gives them,
    and the course's size and total are the real ones."""
    readme = (REPO_ROOT / "README.md").read_text()
    specs = load_specs()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(\w+)` \|.*$", readme, re.M)}
    assert set(specs) <= set(rows), sorted(set(specs) - set(rows))
    for name, spec in specs.items():
        points = re.search(r"\| (\d+) \|$", rows[name])
        if points:
            assert float(points.group(1)) == spec.points, name
    total = sum(spec.points for spec in specs.values())
    assert f"The sample course has {len(specs)} exercises, {total:g} points." in readme.replace("\n", " ")
