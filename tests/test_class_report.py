"""class.html, the class report `gradcheck-suite batch` writes: pass rates, the score distribution,
the most common failures and likely causes, a link per student. Built here from per-submission
reports written exactly as batch writes them (graded in this process, so fast), rendered in headless
Chromium (the DOM names every exercise and student; a screenshot shows the full-marks bar)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from test_html import CHROMIUM, read_png

from conftest import EXERCISES, REPO_ROOT, VARIANTS, copy_solutions
from gradcheck_suite.batch import CLASS_PAGE, class_page, write_submission
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.report.class_page import BAR_WIDTH, FULL_MARKS_BAR, PLOT_HEIGHT, score_bins

NAMES = ("linear", "relu")
HOSTILE = "<img src=x onerror=alert(1)>"  # a student's folder name holding HTML (no '/', so a valid name)
HTML_MESSAGE = "<b>not bold</b>"
RAISING_RELU = f'''import torch

class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("{HTML_MESSAGE}")

    @staticmethod
    def backward(ctx, grad_output):
        raise ValueError("{HTML_MESSAGE}")
'''
# name -> what replaces the solutions: (file, source path or text)
STUDENTS = {
    "alice": [],
    "bob": [("linear.py", VARIANTS / "linear" / "bug_missing_transpose_grad_w.py")],
    "carol": [("relu.py", VARIANTS / "relu" / "bug_ignores_grad_output.py")],
    "dave": [("relu.py", VARIANTS / "relu" / "bug_ignores_grad_output.py")],
    HOSTILE: [("relu.py", RAISING_RELU)],
    "erin": None,  # never graded: no report
}


def _specs():
    return [load_exercise(EXERCISES / name / "exercise.yaml") for name in NAMES]


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    """A batch's output folder (submissions/<name>.json and .html, class.html) for STUDENTS."""
    root, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("out")
    specs = _specs()
    folders = []
    for name, replaced in STUDENTS.items():
        folder = copy_solutions(root / name)
        folders.append(folder)
        if replaced is None:
            continue
        for file, source in replaced:
            if isinstance(source, Path):
                shutil.copyfile(source, folder / file)
            else:
                (folder / file).write_text(source)
        book = grade_submission(specs, folder, options=RunOptions(trials=3))
        write_submission(out / "submissions" / f"{name}.json", name, book, 0.0)
    (out / CLASS_PAGE).write_text(class_page(specs, sorted(folders), out / "submissions"))
    return out


def test_the_page_counts_pass_rates_failures_and_causes(batch_out):
    page = (batch_out / CLASS_PAGE).read_text()
    # linear: 4 of 5 graded pass (bob fails); relu: 2 of 5 (carol and dave ignore grad_output, the hostile one raises)
    assert "<td>linear</td><td>Linear layer: x @ w + b</td><td class='number'>4 / 5</td>" in page
    assert "<td class='number'>2 / 5</td>" in page
    assert "6 submissions, 5 graded" in page
    # the most common failing check: relu::backward, failed by carol and dave (and errored for the hostile one)
    assert "<td>relu::backward</td><td class='failed'>failed</td><td class='number'>2</td>" in page
    assert ("grad_output is ignored: this is the gradient for an all-ones grad_output; "
            "multiply by grad_output (the chain rule)</td><td class='number'>2</td>") in page
    # bob's missing transpose names its likely cause once
    assert "<td>linear::backward</td><td class='failed'>failed</td><td class='number'>1</td>" in page
    # erin was never graded: named, without a link
    assert "<td>erin</td><td class='not-graded'" in page
    assert "href='submissions/alice.html'" in page and (batch_out / "submissions" / "alice.html").is_file()


def test_student_controlled_text_is_escaped(batch_out):
    page = (batch_out / CLASS_PAGE).read_text()
    report = (batch_out / "submissions" / f"{HOSTILE}.html").read_text()
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "href='submissions/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.html'" in page
    assert HTML_MESSAGE not in report and "&lt;b&gt;not bold&lt;/b&gt;" in report
    assert "<script" not in page and "http" not in page.split("</style>", 1)[1]


def test_the_score_histogram_bins():
    assert score_bins([0.0, 0.05, 0.5, 0.999, 1.0, 1.0]) == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2]


chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (CI installs Debian's chromium)")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          check=True, capture_output=True, text=True, timeout=120)


@chromium
def test_the_rendered_page_names_every_exercise_and_student(batch_out):
    dom = _Elements()
    dom.feed(_chromium("--dump-dom", (batch_out / CLASS_PAGE).as_uri()).stdout)
    assert [a["data-exercise"] for tag, a in dom.found if "data-exercise" in a] == list(NAMES)
    assert {a["data-student"] for tag, a in dom.found if "data-student" in a} == set(STUDENTS)
    assert {a["href"] for tag, a in dom.found if tag == "a"} == \
        {f"submissions/{quote(name)}.html" for name, replaced in STUDENTS.items() if replaced is not None}
    assert "img" not in {tag for tag, _ in dom.found}  # the hostile name stayed text, no element
    assert HOSTILE in dom.text


class _Elements(HTMLParser):
    """Every element's tag and attributes, and the text, of a rendered DOM."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data


@chromium
def test_the_full_marks_bar_is_drawn(batch_out, tmp_path):
    """The full-marks bar, found by its colour on a screenshot: as tall as the highest bar when most
    of the class has full marks; absent from a class where nobody does."""
    shot = tmp_path / "class.png"
    _chromium("--window-size=1200,1600", f"--screenshot={shot}", (batch_out / CLASS_PAGE).as_uri())
    full = _coloured_pixels(shot, FULL_MARKS_BAR)
    # alice alone has full marks; four others score 50% (one exercise of two): the tallest bar is
    # 4 submissions (PLOT_HEIGHT px), alice's a quarter of it
    assert full == BAR_WIDTH * PLOT_HEIGHT // 4, full
    nobody = tmp_path / "nobody.html"
    others = [Path(name) for name in STUDENTS if name != "alice"]
    nobody.write_text(class_page(_specs(), others, batch_out / "submissions"))
    _chromium("--window-size=1200,1600", f"--screenshot={shot}", nobody.as_uri())
    assert _coloured_pixels(shot, FULL_MARKS_BAR) == 0


def _coloured_pixels(shot: Path, colour: tuple[int, int, int]) -> int:
    width, height, rows, channels = read_png(shot)
    return sum(1 for row in rows for i in range(0, len(row), channels)
               if all(abs(row[i + k] - colour[k]) <= 2 for k in range(3)))


@pytest.mark.heavy
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
def test_batch_writes_the_class_page_and_each_students_html(tmp_path):
    """The whole command: two submissions graded in workers, class.html linking to each HTML report."""
    import os

    root, out = tmp_path / "class", tmp_path / "out"
    copy_solutions(root / "alice")
    copy_solutions(root / "bob")
    # A bug every trial shows: with two trials, one that ignores grad_output can draw no positive x
    # and pass the backward check (its edge cases still fail it)
    shutil.copyfile(VARIANTS / "relu" / "bug_wrong_mask.py", root / "bob" / "relu.py")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "batch", str(root), "--exercises",
                           *[str(EXERCISES / n) for n in NAMES], "--out", str(out), "--trials", "2"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    page = (out / CLASS_PAGE).read_text()
    for name in ("alice", "bob"):
        assert f"href='submissions/{name}.html'" in page
        assert f"gradcheck-suite grades: {name}" in (out / "submissions" / f"{name}.html").read_text()
    assert "<td>relu::backward</td><td class='failed'>failed</td><td class='number'>1</td>" in page
