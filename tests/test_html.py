"""The HTML report: one self-contained page with the grade table and, for a failing backward, a
heatmap of |student - reference|; rendered in headless Chromium and checked on the screenshot."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib

import pytest

from conftest import EXERCISES, SOLUTIONS, VARIANTS, copy_solutions
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.report import formats

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _book(tmp_path, linear_source):
    submission = tmp_path / "submission"
    copy_solutions(submission)
    shutil.copyfile(linear_source, submission / "linear.py")
    specs = [load_exercise(EXERCISES / name / "exercise.yaml") for name in ("linear", "relu")]
    return grade_submission(specs, submission, options=RunOptions(trials=5))


def read_png(path) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows of bytes, channels: 3 or 4) of an 8-bit RGB(A), non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    channels = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for r in range(height):
        kind, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows, channels


def test_the_page_holds_a_heatmap_per_gradient_of_a_failing_backward(tmp_path):
    book = _book(tmp_path, VARIANTS / "linear" / "bug_missing_transpose_grad_w.py")
    backward = next(c for c in book.exercises["linear"].checks if c.check == "backward")
    assert backward.status == "failed" and [h["input"] for h in backward.heatmaps] == ["x", "w", "b"]
    w = backward.heatmaps[1]
    assert w["max"] > 0 and backward.heatmaps[0]["max"] == 0  # only w's gradient is off
    page = formats.html(book)
    assert page.count('class="heatmap"') == 3 and 'data-input="w"' in page
    # scaled against the tolerance: the correct gradients of x and b (errors of about 1e-16) are
    # pale, not painted as wrong as they were when each map was scaled to its own maximum
    for correct in backward.heatmaps[0], backward.heatmaps[2]:
        assert correct["max_excess"] <= 1 and "within the tolerance everywhere" in formats._heatmap_svg(correct)
        assert "rgb(255," not in formats._heatmap_svg(correct)
    assert w["max_excess"] > 10 ** formats.HEATMAP_DECADES and "rgb(255,0,0)" in formats._heatmap_svg(w)
    assert "colour: |your gradient − reference| against what the check allows" in page
    assert "rows: D_in; columns: D_out" in page
    assert "<script" not in page and "http" not in page.split("</style>")[1]  # self-contained
    assert "linear::backward" in page and "relu" in page


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (CI installs Debian's chromium)")
def test_the_heatmap_is_visible_in_headless_chromium(tmp_path):
    book = _book(tmp_path, VARIANTS / "linear" / "bug_missing_transpose_grad_w.py")
    page = tmp_path / "grades.html"
    page.write_text(formats.html(book))
    shot = tmp_path / "screenshot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    width, height, rows, channels = read_png(shot)
    assert (width, height) == (1200, 1600)
    red = sum(1 for row in rows for i in range(0, len(row), channels)
              if row[i] > 220 and row[i + 1] < 90 and row[i + 2] < 90)
    # w's gradient is off in whole rows and columns: at least one full-strength cell (14 x 14 px)
    assert red >= formats.CELL * formats.CELL, f"no heatmap cell found in the screenshot ({red} red pixels)"
    clean = _book(tmp_path / "clean", SOLUTIONS / "linear" / "linear.py")
    page.write_text(formats.html(clean))
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    _, _, rows, channels = read_png(shot)
    assert not any(row[i] > 220 and row[i + 1] < 90 and row[i + 2] < 90
                   for row in rows for i in range(0, len(row), channels))
