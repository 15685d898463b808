"""Writing results: the terminal summary table and the JSON report."""

from __future__ import annotations

from .model import GradeBook, Status


def points_text(value: float) -> str:
    """Points as people write them: 10, 7.5, 3.3333."""
    return f"{round(value, 4):g}"


def plural(number: int, noun: str) -> str:
    """'1 exercise', '3 exercises'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def summary_lines(book: GradeBook) -> list[str]:
    rows = [("exercise", "status", "points")]
    for ex in book.exercises.values():
        status: str = ex.status
        if ex.not_implemented:
            status = "not implemented"
        elif status == Status.FAILED and ex.complete is False and not any(c.status == Status.FAILED for c in ex.checks):
            status = "failed (not all checks ran)"
        rows.append((ex.name, status, f"{points_text(ex.score)} / {points_text(ex.max_score)}"))
    rows.append(("total", "", f"{points_text(book.score)} / {points_text(book.max_score)}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for number, row in enumerate(rows):
        if number in (1, len(rows) - 1):
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return lines


def not_implemented_lines(book: GradeBook) -> list[str]:
    """One line per exercise whose code is still the stub (its checks are not shown one by one)."""
    lines = []
    for ex in book.exercises.values():
        if ex.not_implemented:
            first = next(c for c in ex.checks if c.not_implemented).message.splitlines()[0]
            lines.append(f"{ex.name}: {first} ({plural(len(ex.checks), 'check')}, "
                         f"{points_text(ex.max_score)} points to earn)")
    return lines


def next_step(book: GradeBook) -> list[str]:
    """What to run next: the first exercise that does not pass yet, on its own."""
    for ex in book.exercises.values():
        if ex.status not in (Status.PASSED, Status.SKIPPED):
            return [f"next: {'write' if ex.not_implemented else 'fix'} {ex.name}, then run: pytest -k {ex.name}"]
    return ["every exercise passes"] if book.exercises else []
