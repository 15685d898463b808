"""The result model shared by every front end: checks and exercises with statuses and points."""

from __future__ import annotations

from dataclasses import dataclass, field

# Every status a check can end with; only "passed" earns points. In the order an exercise's own
# status is chosen from its checks' (the first one present wins).
STATUSES = ("error", "crashed", "timeout", "failed", "flagged", "skipped", "passed")

@dataclass(frozen=True)
class CheckResult:
    exercise: str
    check: str
    status: str
    message: str
    seed: int
    trial: str | None = None
    duration: float = 0.0
    not_implemented: bool = False  # the student's code still raises NotImplementedError


@dataclass
class ExerciseResult:
    name: str
    title: str
    max_score: float
    expected_checks: tuple[str, ...]
    checks: list[CheckResult] = field(default_factory=list)
    config_error: str | None = None

    @property
    def complete(self) -> bool:
        ran = {c.check for c in self.checks}
        return self.config_error is None and all(c in ran for c in self.expected_checks)

    @property
    def status(self) -> str:
        if self.config_error is not None:
            return "error"
        statuses = [c.status for c in self.checks]
        if statuses and all(s == "skipped" for s in statuses):
            return "skipped"
        for status in ("error", "crashed", "timeout", "failed", "flagged"):
            if status in statuses:
                return status
        return "passed" if self.complete else "failed"

    @property
    def not_implemented(self) -> bool:
        unfinished = [c for c in self.checks if c.status != "passed"]
        return bool(unfinished) and all(c.not_implemented for c in unfinished)

    @property
    def score(self) -> float:
        return self.max_score if self.status == "passed" else 0.0

    def to_json(self) -> dict:
        checks = [{"name": c.check, "status": c.status, "message": c.message} for c in self.checks]
        if self.config_error is not None:
            checks = [{"name": "config", "status": "error", "message": self.config_error}]
        return {"name": self.name, "status": self.status, "score": self.score, "max_score": self.max_score,
                "checks": checks}


@dataclass
class GradeBook:
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)

    def exercise(self, name: str, title: str, max_score: float, expected_checks: tuple[str, ...]) -> ExerciseResult:
        if name not in self.exercises:
            self.exercises[name] = ExerciseResult(name, title, max_score, expected_checks)
        return self.exercises[name]

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises.values())

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises.values())

    def to_json(self) -> dict:
        return {"score": self.score, "max_score": self.max_score,
                "exercises": [e.to_json() for e in self.exercises.values()]}
