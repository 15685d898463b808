"""The class report (`class.html`, written by `gradcheck-suite batch`): one self-contained page for
the instructor with each exercise's pass rate, the distribution of scores, the checks that failed
most often and their likely causes, and a row per student linking to that student's own report.

It reads the per-submission reports exactly as batch writes them (GradeBook.to_full_json plus
"submission"), so it can be rebuilt from a batch's folder at any time. Every student-controlled
text (folder names, failure messages) is escaped; the page has no script and loads nothing.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence
from urllib.parse import quote

from ..vocabulary import Status
from .text import plural, points_text

__all__ = ["BAR_WIDTH", "BIN_LABELS", "ClassExercise", "FULL_MARKS_BAR", "HISTOGRAM_BAR", "PLOT_HEIGHT", "class_html",
           "score_bins", "student_link"]

# A failure message names a likely cause on lines "  likely cause: ..." (numerics.diagnoses).
_LIKELY_CAUSE = re.compile(r"^\s*likely cause: (.+?)\s*$", re.MULTILINE)
_NOT_FAILING = {Status.PASSED, Status.SKIPPED}
MOST_COMMON = 10  # rows in the "most common" tables

# The histogram: ten bins of 10% below full marks, and full marks on their own.
BIN_LABELS = [f"{10 * i}–{10 * i + 10}%" for i in range(10)] + ["100%"]
HISTOGRAM_BAR = (66, 103, 178)  # rgb of a bar below full marks
FULL_MARKS_BAR = (46, 204, 113)  # rgb of the full-marks bar (tests find it on a screenshot)
BAR_WIDTH, BAR_GAP, PLOT_HEIGHT = 44, 12, 160  # pixels

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .8em; text-align: left; vertical-align: top; }
td.number { text-align: right; }
.rate { display: inline-block; height: .8em; background: rgb(66,103,178); }
.rate-box { display: inline-block; width: 100px; background: #eee; margin-right: .5em; }
.failed, .error, .crashed, .timeout, .flagged, .not-graded { color: #b3261e; }
svg text { font-size: 11px; fill: #222; }
"""


@dataclass(frozen=True)
class ClassExercise:
    """An exercise as the class report names it."""

    name: str
    title: str
    points: float


def score_bins(fractions: Sequence[float]) -> list[int]:
    """How many scores fall in each of BIN_LABELS: [0, 10%), ..., [90%, 100%), and exactly full marks."""
    counts = [0] * len(BIN_LABELS)
    for fraction in fractions:
        if fraction >= 1.0:
            counts[-1] += 1
        else:
            counts[min(9, max(0, int(fraction * 10)))] += 1
    return counts


def class_html(exercises: Sequence[ClassExercise], reports: Mapping[str, dict | None],
               links: Mapping[str, str] | None = None, title: str = "gradcheck-suite class report") -> str:
    """The page. `reports`: each submission's name -> its report as batch writes it, or None when
    it was not graded; `links`: submission name -> the (relative) address of its own HTML report."""
    links = links or {}
    graded = {name: report for name, report in reports.items() if report is not None}
    maximum = sum(e.points for e in exercises)
    fractions = [report["score"] / maximum if maximum else 1.0 for report in graded.values()]
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{_e(title)}</h1>",
             f"<p>{_e(plural(len(reports), 'submission'))}, {len(graded)} graded"
             + (f"; mean score {points_text(_mean([r['score'] for r in graded.values()]))} / {points_text(maximum)}"
                if graded else "") + ".</p>",
             _exercise_table(exercises, graded),
             "<h2>Score distribution</h2>", _histogram(score_bins(fractions)),
             _common_failures(graded), _students(exercises, reports, links, maximum),
             "</body></html>"]
    return "\n".join(parts) + "\n"


def _exercise_table(exercises: Sequence[ClassExercise], graded: Mapping[str, dict]) -> str:
    rows = []
    for exercise in exercises:
        entries = [_exercise_entry(report, exercise.name) for report in graded.values()]
        present = [e for e in entries if e is not None]
        passed = sum(e["status"] == Status.PASSED for e in present)
        rate = passed / len(present) if present else 0.0
        mean = _mean([e["score"] for e in present]) if present else 0.0
        rows.append(f"<tr class='exercise' data-exercise='{_e(exercise.name)}'><td>{_e(exercise.name)}</td>"
                    f"<td>{_e(exercise.title)}</td>"
                    f"<td class='number'>{passed} / {len(present)}</td>"
                    f"<td><span class='rate-box'><span class='rate' style='width:{round(100 * rate)}px'></span>"
                    f"</span>{round(100 * rate)}%</td>"
                    f"<td class='number'>{points_text(mean)} / {points_text(exercise.points)}</td></tr>")
    return ("<h2>Exercises</h2><table><tr><th>exercise</th><th>title</th><th>passed</th><th>pass rate</th>"
            "<th>mean points</th></tr>" + "".join(rows) + "</table>")


def _histogram(counts: Sequence[int]) -> str:
    """Inline SVG: one bar per bin, its height proportional to its count; full marks in its own colour."""
    top = max(counts) or 1
    label_room, width = 30, len(counts) * (BAR_WIDTH + BAR_GAP)
    shapes = []
    for index, (label, count) in enumerate(zip(BIN_LABELS, counts)):
        x = index * (BAR_WIDTH + BAR_GAP)
        height = round(PLOT_HEIGHT * count / top)
        colour = FULL_MARKS_BAR if index == len(counts) - 1 else HISTOGRAM_BAR
        shapes.append(f'<rect class="bar" data-bin="{_e(label)}" data-count="{count}" x="{x}" '
                      f'y="{PLOT_HEIGHT - height}" width="{BAR_WIDTH}" height="{height}" '
                      f'fill="rgb{colour}"><title>{_e(label)}: {plural(count, "submission")}</title></rect>')
        shapes.append(f'<text x="{x + BAR_WIDTH / 2}" y="{PLOT_HEIGHT + 14}" text-anchor="middle">{_e(label)}</text>')
        shapes.append(f'<text x="{x + BAR_WIDTH / 2}" y="{PLOT_HEIGHT + 27}" text-anchor="middle">{count}</text>')
    return (f'<svg class="histogram" width="{width}" height="{PLOT_HEIGHT + label_room}" role="img" '
            f'aria-label="score distribution">' + "".join(shapes) + "</svg>"
            "<p>Share of the maximum score; the last bar (green) counts full marks.</p>")


def _common_failures(graded: Mapping[str, dict]) -> str:
    """The checks that did not pass most often, and the likely causes named in their messages,
    each counted once per submission."""
    checks: Counter[tuple[str, str, str]] = Counter()
    causes: Counter[tuple[str, str, str]] = Counter()
    for report in graded.values():
        seen_checks, seen_causes = set(), set()
        for exercise in report.get("exercises", []):
            for check in exercise.get("checks", []):
                status = check.get("status")
                if status in _NOT_FAILING:
                    continue
                kind = "not implemented" if check.get("not_implemented") else str(status)
                seen_checks.add((exercise["name"], check["name"], kind))
                for cause in _LIKELY_CAUSE.findall(check.get("message") or ""):
                    seen_causes.add((exercise["name"], check["name"], cause))
        checks.update(seen_checks)
        causes.update(seen_causes)
    check_rows = "".join(
        f"<tr class='failing-check'><td>{_e(exercise)}::{_e(check)}</td><td class='{_e(kind.replace(' ', '-'))}'>"
        f"{_e(kind)}</td><td class='number'>{count}</td></tr>"
        for (exercise, check, kind), count in _most_common(checks))
    cause_rows = "".join(
        f"<tr class='likely-cause'><td>{_e(exercise)}::{_e(check)}</td><td>{_e(cause)}</td>"
        f"<td class='number'>{count}</td></tr>"
        for (exercise, check, cause), count in _most_common(causes))
    parts = ["<h2>Most common failing checks</h2>"]
    parts.append("<table><tr><th>check</th><th>how it ended</th><th>submissions</th></tr>" + check_rows + "</table>"
                 if check_rows else "<p>No check failed.</p>")
    parts.append("<h2>Most common likely causes</h2>")
    parts.append("<table><tr><th>check</th><th>likely cause</th><th>submissions</th></tr>" + cause_rows + "</table>"
                 if cause_rows else "<p>No failure named a likely cause.</p>")
    return "\n".join(parts)


def _students(exercises: Sequence[ClassExercise], reports: Mapping[str, dict | None], links: Mapping[str, str],
              maximum: float) -> str:
    head = "".join(f"<th>{_e(e.name)}</th>" for e in exercises)
    rows = []
    for name, report in reports.items():
        shown = (f"<a href='{_e(links[name])}'>{_e(name)}</a>" if name in links else _e(name))
        if report is None:
            rows.append(f"<tr class='student' data-student='{_e(name)}'><td>{shown}</td>"
                        f"<td class='not-graded' colspan='{len(exercises) + 1}'>not graded</td></tr>")
            continue
        cells = []
        for exercise in exercises:
            entry = _exercise_entry(report, exercise.name)
            status = str(entry["status"]) if entry else "missing"
            cells.append(f"<td class='{_e(status)}'>{_e(status)}</td>")
        rows.append(f"<tr class='student' data-student='{_e(name)}'><td>{shown}</td>"
                    f"<td class='number'>{points_text(report['score'])} / {points_text(maximum)}</td>"
                    + "".join(cells) + "</tr>")
    return ("<h2>Students</h2><table><tr><th>submission</th><th>score</th>" + head + "</tr>"
            + "".join(rows) + "</table>")


def student_link(name: str, folder: str = "submissions") -> str:
    """The relative address of a submission's HTML report, from the batch's output folder."""
    return f"{folder}/{quote(name)}.html"


def _exercise_entry(report: dict, name: str) -> dict | None:
    return next((e for e in report.get("exercises", []) if e.get("name") == name), None)


def _most_common(counter: Counter) -> list:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:MOST_COMMON]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
