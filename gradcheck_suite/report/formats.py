"""The grade book written for the places courses grade in: Gradescope, JUnit readers, Markdown
(GitHub step summaries), GitHub Classroom. Every format is written from the same GradeBook, so
they agree on every status and point.

Student-facing formats never show a hidden check's message (it could hold reference values):
only its name and whether it passed. A check is shown in full where its visibility is
"visible"; Gradescope itself holds back "after_due_date" and "after_published" tests until then,
the other formats treat them as hidden.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from .model import CheckResult, ExerciseResult, GradeBook, Status
from .text import points_text

HIDDEN_MESSAGE = "a hidden check: its details are not shown"
# What a student reads about an exercise that could not be graded; the reason is the instructor's
# (the full JSON, the grader's standard error), since it can name the course's hidden files.
UNGRADABLE_EXERCISE = ("This exercise could not be graded because of a problem in the exercise itself, not in "
                       "your code. Its points still count in the total; please tell your course staff.")


def shown_message(exercise: ExerciseResult, result: CheckResult, gradescope: bool = False) -> str:
    visibility = exercise.result_visibility(result)
    if visibility == "visible" or (gradescope and visibility != "hidden"):
        return result.message
    return HIDDEN_MESSAGE if result.status != Status.PASSED else ""


def _public(exercise: ExerciseResult, result: CheckResult) -> bool:
    return exercise.result_visibility(result) == "visible"


def summary_sentence(book: GradeBook) -> str:
    """One line for a student: the score, and what passed among the checks they may see."""
    results = [(e, c) for e in book.exercises.values() for c in e.checks]
    public = [c for e, c in results if _public(e, c)]
    hidden = len(results) - len(public)
    failing = [c for c in public if c.status != Status.PASSED]
    score = f"Score: {points_text(book.score)} / {points_text(book.max_score)}."
    ungradable = sorted(book.ungradable)
    # An exercise that could not be graded never reads as "all passed": its checks did not run.
    unrun = "" if not ungradable else (
        f" {', '.join(ungradable)} could not be graded (a problem in the exercise, not in your code); "
        f"{'its' if len(ungradable) == 1 else 'their'} points still count in the total.")
    everything = "All checks that ran passed" if ungradable else "All checks passed"
    if hidden:
        verdict = (everything.replace("checks", "public checks", 1) if not failing
                   else f"{len(failing)} of {len(public)} public checks did not pass")
        counted = "1 hidden check also counts" if hidden == 1 else f"{hidden} hidden checks also count"
        return f"{score} {verdict}; {counted} toward the score.{unrun}"
    if not failing:
        return f"{score} {everything}.{unrun}"
    return f"{score} {len(failing)} of {len(public)} checks did not pass.{unrun}"


# ----------------------------------------------------------------------------- Gradescope

def gradescope(book: GradeBook, execution_time: float, stdout_visibility: str = "hidden") -> dict:
    """results.json as Gradescope's autograder specification reads it."""
    tests = []
    for number, exercise in enumerate(book.exercises.values(), start=1):
        if exercise.config_error is not None:
            tests.append({"name": exercise.name, "number": str(number), "score": 0.0,
                          "max_score": exercise.max_score, "status": "failed",
                          "output": UNGRADABLE_EXERCISE, "output_format": "md",
                          "visibility": exercise.visibility, "tags": [exercise.name, "config"]})
            continue
        if exercise.partial_credit:
            for index, result in enumerate(exercise.checks, start=1):
                message = shown_message(exercise, result, gradescope=True)
                tests.append({
                    "name": f"{exercise.title}: {result.check}", "number": f"{number}.{index}",
                    "score": round(exercise.check_score(result), 4),
                    "max_score": round(exercise.check_max_score(result.check), 4),
                    "status": "passed" if result.status == Status.PASSED else "failed",
                    "output": _md_block(result.status, message), "output_format": "md",
                    "visibility": exercise.result_visibility(result), "tags": [exercise.name, result.check]})
        else:
            lines = [f"- **{r.check}**: {r.status}" for r in exercise.checks]
            details = [_md_block(r.status, shown_message(exercise, r, gradescope=True), r.check)
                       for r in exercise.checks if r.status != Status.PASSED]
            tests.append({
                "name": exercise.title, "number": str(number), "score": round(exercise.score, 4),
                "max_score": exercise.max_score, "status": "passed" if exercise.status == Status.PASSED else "failed",
                "output": "\n".join(lines + [""] + details).strip(), "output_format": "md",
                "visibility": exercise.visibility, "tags": [exercise.name]})
    return {"score": round(book.score, 4), "max_score": book.max_score, "execution_time": round(execution_time, 2),
            "output": summary_sentence(book), "output_format": "md", "visibility": "visible",
            "stdout_visibility": stdout_visibility, "tests": tests}


def _md_block(status: str, message: str, title: str | None = None) -> str:
    head = f"**{title}**: {status}" if title else f"status: {status}"
    if not message:
        return head
    body = "\n".join("    " + line for line in message.splitlines())
    return f"{head}\n\n{body}"


# ----------------------------------------------------------------------------- PrairieLearn

def prairielearn(book: GradeBook) -> dict:
    """results.json as PrairieLearn's external grader reads it: a score in [0, 1], one test per
    exercise with its points, and `gradable: false` when an exercise could not be graded (PrairieLearn
    then shows the submission to staff as not graded instead of scoring it)."""
    tests = []
    for exercise in book.exercises.values():
        if exercise.config_error is not None:
            output = UNGRADABLE_EXERCISE
        else:
            lines = [f"{r.check}: {r.status}" for r in exercise.checks]
            details = [f"{r.check}: {shown_message(exercise, r)}" for r in exercise.checks
                       if r.status != Status.PASSED and shown_message(exercise, r)]
            output = "\n".join(lines + ([""] + details if details else []))
        tests.append({"name": exercise.title, "description": exercise.name, "points": round(exercise.score, 4),
                      "max_points": exercise.max_score, "message": str(exercise.status), "output": output})
    score = book.score / book.max_score if book.max_score else 0.0
    message = summary_sentence(book) + (" " + UNGRADABLE_EXERCISE if book.ungradable else "")
    return {"gradable": not book.ungradable, "score": round(min(1.0, max(0.0, score)), 6),
            "message": message, "output": "", "tests": tests}


# ----------------------------------------------------------------------------- JUnit XML

def junit_xml(book: GradeBook, execution_time: float = 0.0) -> str:
    """One <testsuite> per exercise, one <testcase> per check; points as properties."""
    suites = ET.Element("testsuites", name="gradcheck-suite", tests=str(sum(len(e.checks) for e in book.exercises.values())),
                        time=f"{execution_time:.3f}")
    _properties(suites, score=book.score, max_score=book.max_score)
    for exercise in book.exercises.values():
        results = exercise.checks
        failures = sum(r.status in (Status.FAILED, Status.FLAGGED, Status.TIMEOUT) for r in results)
        errors = sum(r.status in (Status.ERROR, Status.CRASHED) for r in results) + (exercise.config_error is not None)
        suite = ET.SubElement(suites, "testsuite", name=exercise.name, tests=str(len(results) or 1),
                              failures=str(failures), errors=str(errors),
                              skipped=str(sum(r.status == Status.SKIPPED for r in results)),
                              time=f"{sum(r.duration for r in results):.3f}")
        _properties(suite, score=exercise.score, max_score=exercise.max_score, status=exercise.status)
        if exercise.config_error is not None:
            case = ET.SubElement(suite, "testcase", classname=exercise.name, name="config", time="0")
            ET.SubElement(case, "error", message="invalid exercise file", type="config").text = exercise.config_error
            continue
        for result in results:
            case = ET.SubElement(suite, "testcase", classname=exercise.name, name=result.check,
                                 time=f"{result.duration:.3f}")
            _properties(case, score=exercise.check_score(result) if exercise.partial_credit else None,
                        max_score=exercise.check_max_score(result.check) if exercise.partial_credit else None,
                        status=result.status, replay=result.trial)
            message = shown_message(exercise, result)
            first = message.splitlines()[0] if message else result.status
            if result.status == Status.SKIPPED:
                ET.SubElement(case, "skipped", message=first)
            elif result.status in (Status.ERROR, Status.CRASHED):
                ET.SubElement(case, "error", message=first, type=result.status).text = message
            elif result.status != Status.PASSED:
                ET.SubElement(case, "failure", message=first, type=result.status).text = message
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _properties(parent: ET.Element, **values) -> None:
    present = {k: v for k, v in values.items() if v is not None}
    if not present:
        return
    properties = ET.SubElement(parent, "properties")
    for name, value in present.items():
        shown = points_text(value) if isinstance(value, float) else str(value)
        ET.SubElement(properties, "property", name=name, value=shown)


# ----------------------------------------------------------------------------- Markdown

_ICONS = {Status.PASSED: "✅", Status.SKIPPED: "⏭️"}


def markdown(book: GradeBook) -> str:
    lines = ["## gradcheck-suite grades", "", summary_sentence(book), "",
             "| exercise | status | points |", "|---|---|---:|"]
    for exercise in book.exercises.values():
        icon = _ICONS.get(exercise.status, "❌")
        lines.append(f"| {exercise.name} | {icon} {exercise.status} | "
                     f"{points_text(exercise.score)} / {points_text(exercise.max_score)} |")
    lines.append(f"| **total** | | **{points_text(book.score)} / {points_text(book.max_score)}** |")
    failing = [(e, c) for e in book.exercises.values() for c in e.checks if c.status not in (Status.PASSED, Status.SKIPPED)]
    configs = [(e, e.config_error) for e in book.exercises.values() if e.config_error is not None]
    if failing or configs:
        lines += ["", "### What did not pass", ""]
    for exercise, config_error in configs:
        lines += [f"<details><summary>{exercise.name}: invalid exercise file</summary>", "", "```text",
                  config_error, "```", "</details>"]
    for exercise, result in failing:
        message = shown_message(exercise, result)
        lines += [f"<details><summary>{exercise.name}::{result.check}: {result.status}</summary>", "", "```text",
                  message.replace("```", "'''"), "```", "</details>"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- GitHub Classroom

def classroom_points(book: GradeBook) -> str:
    """The annotation GitHub Classroom's autograding reads its points from."""
    return f"::notice title=Autograding complete::Points {points_text(book.score)}/{points_text(book.max_score)}"


# ----------------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
"""
# The report's own rules, scoped to its element, so that the same fragment can sit in a notebook's
# output (html_fragment) without restyling the notebook around it.
_REPORT_STYLE = """
.gradcheck-report .swatch { margin: 0 1em 0 .3em; white-space: nowrap; } .gradcheck-report .swatch svg { vertical-align: middle; }
.gradcheck-report table { border-collapse: collapse; margin: 1em 0; }
.gradcheck-report th, .gradcheck-report td { border: 1px solid #ccc; padding: .3em .8em; text-align: left; }
.gradcheck-report td.points { text-align: right; }
.gradcheck-report .passed { color: #16794a; }
.gradcheck-report .failed, .gradcheck-report .error, .gradcheck-report .crashed, .gradcheck-report .timeout,
.gradcheck-report .flagged { color: #b3261e; }
.gradcheck-report pre { background: #f6f6f6; padding: .8em; white-space: pre-wrap; }
.gradcheck-report figure { display: inline-block; margin: .5em 1.5em .5em 0; vertical-align: top; }
.gradcheck-report figcaption { font-size: .9em; }
"""
CELL = 14  # pixels per tensor element in a heatmap


def html(book: GradeBook) -> str:
    """One self-contained page: the grade table and, for each failing backward, a heatmap of
    |student - reference| over each gradient (where a wrong row or column shows at a glance)."""
    whose = f": {book.run['submission']}" if book.run.get("submission") else ""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>gradcheck-suite grades{_escape(whose)}</title>"
            f"<style>{_STYLE}</style></head><body>\n{html_fragment(book, f'gradcheck-suite grades{whose}')}\n"
            "</body></html>\n")


def html_fragment(book: GradeBook, heading: str, level: int = 1) -> str:
    """The report as one element with its own (scoped) style: the heading, the grade table, each
    failure's message and heatmaps. `html` puts it in a page; a notebook shows it inline."""
    rows = "".join(
        f'<tr><td>{_escape(e.name)}</td><td class="{e.status}">{e.status}</td>'
        f'<td class="points">{points_text(e.score)} / {points_text(e.max_score)}</td></tr>'
        for e in book.exercises.values())
    parts = [f"<div class='gradcheck-report'><style>{_REPORT_STYLE}</style><h{level}>{_escape(heading)}</h{level}>"
             f"<p>{_escape(summary_sentence(book))}</p>"
             f"<table><tr><th>exercise</th><th>status</th><th>points</th></tr>{rows}"
             f"<tr><th>total</th><th></th><th class='points'>{points_text(book.score)} / {points_text(book.max_score)}"
             f"</th></tr></table>"]
    sub = min(level + 1, 6)
    for exercise in book.exercises.values():
        for result in exercise.checks:
            if result.status in (Status.PASSED, Status.SKIPPED):
                continue
            message = shown_message(exercise, result)
            parts.append(f"<h{sub}>{_escape(exercise.name)}::{_escape(result.check)}: "
                         f"<span class='{result.status}'>{result.status}</span></h{sub}><pre>{_escape(message)}</pre>")
            if result.heatmaps and exercise.result_visibility(result) == "visible":
                parts.append("<p>|your gradient − reference| on a large example, element by element:</p>")
                parts.append(_heat_scale())
                parts += [_heatmap_svg(h) for h in result.heatmaps]
    parts.append("</div>")
    return "\n".join(parts)


HEATMAP_DECADES = 3.0  # colours run from the allowed error (pale) to 10**3 times it (saturated)


def _heat_colour(excess: float) -> str:
    """The colour of an element whose error is `excess` times what the check allows: within the
    tolerance a pale grey (a correct gradient is never painted as wrong), above it from pale orange
    to saturated red at HEATMAP_DECADES decades."""
    if not excess > 1.0:  # NaN included below
        return "rgb(238,238,238)" if excess == excess else "rgb(60,60,60)"
    level = min(1.0, math.log10(excess) / HEATMAP_DECADES) if math.isfinite(excess) else 1.0
    return f"rgb(255,{int(200 * (1 - level))},{int(120 * (1 - level))})"


def _heatmap_svg(picture: dict) -> str:
    grid = picture["grid"]
    excess = picture.get("excess") or [[0.0] * len(row) for row in grid]
    height, width = len(grid), len(grid[0]) if grid else 0
    cells = []
    for r, (row, times) in enumerate(zip(grid, excess)):
        for c, (value, ratio) in enumerate(zip(row, times)):
            cells.append(f'<rect x="{c * CELL}" y="{r * CELL}" width="{CELL}" height="{CELL}" '
                         f'fill="{_heat_colour(ratio)}" class="cell" data-value="{value:.3g}" '
                         f'data-excess="{ratio:.3g}"><title>|difference| {value:.3g}, {ratio:.3g}× the allowed'
                         f'</title></rect>')
    shape = "×".join(map(str, picture["shape"])) or "scalar"
    dims = picture.get("dims") or []
    axes = (f"rows: {_escape(', '.join(dims[:-1]) or 'one row')}; columns: {_escape(dims[-1])}" if dims
            else "a single value")
    worst = picture.get("max_excess", 0.0)
    verdict = "within the tolerance everywhere" if not worst > 1 else f"up to {worst:.3g}× the allowed error"
    return (f'<figure><svg width="{width * CELL}" height="{height * CELL}" '
            f'class="heatmap" data-input="{_escape(picture["input"])}" style="border:1px solid #999">'
            + "".join(cells) + f'</svg><figcaption>gradient of {_escape(picture["input"])} ({shape}; {axes}): '
            f'largest difference {picture["max"]:.3g}, {verdict}</figcaption></figure>')


def _heat_scale() -> str:
    """The colour scale shared by every heatmap of the page."""
    stops = [("within the tolerance", 1.0), ("10× the allowed error", 10.0), ("100×", 100.0),
             (f"≥ {10 ** HEATMAP_DECADES:g}×", 10 ** HEATMAP_DECADES)]
    swatches = "".join(f'<span class="swatch"><svg width="{CELL}" height="{CELL}"><rect width="{CELL}" '
                       f'height="{CELL}" fill="{_heat_colour(value)}"/></svg> {_escape(label)}</span>'
                       for label, value in stops)
    return f'<p class="scale">colour: |your gradient − reference| against what the check allows: {swatches}</p>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
