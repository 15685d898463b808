"""The result model shared by every front end: checks and exercises with statuses and points."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..vocabulary import STATUSES, Status

__all__ = ["STATUSES", "CheckResult", "ExerciseResult", "GradeBook", "Status"]



@dataclass(frozen=True)
class CheckResult:
    exercise: str
    check: str
    status: Status
    message: str
    seed: int
    trial: str | None = None
    duration: float = 0.0
    not_implemented: bool = False  # the student's code still raises NotImplementedError
    heatmaps: tuple = ()  # for a failed backward: |student - reference| per input (checks.gradient_differences)
    grader_error: str | None = None  # the check could not run through no fault of the student: why, for the instructor
    visibility: str | None = None  # the failing item's (an edge case's own), over the check's visibility


@dataclass
class ExerciseResult:
    name: str
    title: str
    max_score: float
    expected_checks: tuple[str, ...]
    checks: list[CheckResult] = field(default_factory=list)
    config_error: str | None = None
    weights: dict[str, float] | None = None  # partial credit per check; None: all or nothing
    visibility: str = "visible"
    check_visibility: dict[str, str] = field(default_factory=dict)

    @property
    def partial_credit(self) -> bool:
        return self.weights is not None

    @property
    def ungradable(self) -> str | None:
        """Why the exercise could not be graded, for the instructor (None when it could): its file is
        invalid, or a check could not run through no fault of the student. Its points stay in the
        maximum: a broken exercise never raises a student's share of the points."""
        if self.config_error is not None:
            return self.config_error
        details = [f"{c.check}: {c.grader_error}" for c in self.checks if c.grader_error]
        return "\n".join(details) if details else None

    def check_max_score(self, check: str) -> float:
        """The points a check carries (with weights; without, the exercise counts as one)."""
        if self.weights is None:
            return 0.0
        return self.max_score * self.weights.get(check, 0.0) / sum(self.weights.values())

    def check_score(self, result: CheckResult) -> float:
        return self.check_max_score(result.check) if result.status == Status.PASSED else 0.0

    def visibility_of(self, check: str) -> str:
        return self.check_visibility.get(check, self.visibility)

    def result_visibility(self, result: CheckResult) -> str:
        """Who sees this result: its failing item's visibility where it has one, else its check's."""
        return result.visibility or self.visibility_of(result.check)

    @property
    def complete(self) -> bool:
        ran = {c.check for c in self.checks}
        return self.config_error is None and all(c in ran for c in self.expected_checks)

    @property
    def status(self) -> Status:
        if self.config_error is not None:
            return Status.ERROR
        statuses = [c.status for c in self.checks]
        if statuses and all(s == Status.SKIPPED for s in statuses):
            return Status.SKIPPED
        for status in (Status.ERROR, Status.CRASHED, Status.TIMEOUT, Status.FAILED, Status.FLAGGED):
            if status in statuses:
                return status
        return Status.PASSED if self.complete else Status.FAILED

    @property
    def not_implemented(self) -> bool:
        unfinished = [c for c in self.checks if c.status != Status.PASSED]
        return bool(unfinished) and all(c.not_implemented for c in unfinished)

    @property
    def score(self) -> float:
        if self.config_error is not None:
            return 0.0
        if self.weights is not None:
            return sum(self.check_score(c) for c in self.checks)
        return self.max_score if self.status == Status.PASSED else 0.0

    def to_json(self) -> dict:
        checks = [{"name": c.check, "status": c.status, "message": c.message} for c in self.checks]
        if self.config_error is not None:
            checks = [{"name": "config", "status": Status.ERROR, "message": self.config_error}]
        return {"name": self.name, "status": self.status, "score": self.score, "max_score": self.max_score,
                "checks": checks}

    def to_full_json(self) -> dict:
        """to_json() and, per check, its points, seed, replayable example, time and visibility."""
        data = self.to_json()
        data.update(title=self.title, visibility=self.visibility, partial_credit=self.partial_credit)
        by_name = {c.check: c for c in self.checks}
        for entry in data["checks"]:
            result = by_name.get(entry["name"])
            if result is None:
                continue
            entry.update(score=self.check_score(result), max_score=self.check_max_score(result.check),
                         seed=result.seed, replay=result.trial, duration=round(result.duration, 4),
                         visibility=self.result_visibility(result), not_implemented=result.not_implemented)
            if result.heatmaps:
                entry["heatmaps"] = list(result.heatmaps)
            if result.grader_error:
                entry["grader_error"] = result.grader_error
        if self.ungradable is not None:
            data["ungradable"] = self.ungradable
        return data


@dataclass
class GradeBook:
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)
    run: dict[str, object] = field(default_factory=dict)  # how the run was made, for the instructor (trials' seed...)
    isolation: dict | None = None  # autograder mode: the isolation level the workers reached, and what held

    def exercise(self, name: str, title: str, max_score: float, expected_checks: tuple[str, ...],
                 **grading) -> ExerciseResult:
        """The exercise's result, made on first use; `grading`: weights, visibility, check_visibility."""
        if name not in self.exercises:
            self.exercises[name] = ExerciseResult(name, title, max_score, expected_checks,
                                                  **{k: v for k, v in grading.items() if v is not None})
        return self.exercises[name]

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises.values())

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises.values())

    def to_json(self) -> dict:
        data = {"score": self.score, "max_score": self.max_score,
                "exercises": [e.to_json() for e in self.exercises.values()]}
        if self.isolation is not None:
            data["isolation"] = self.isolation
        return data

    def to_full_json(self) -> dict:
        data = {"score": self.score, "max_score": self.max_score,
                "exercises": [e.to_full_json() for e in self.exercises.values()]}
        if self.run:
            data["run"] = dict(self.run)
        if self.isolation is not None:
            data["isolation"] = self.isolation
        return data

    @property
    def ungradable(self) -> dict[str, str]:
        """The exercises that could not be graded, and why (for the instructor)."""
        return {name: e.ungradable for name, e in self.exercises.items() if e.ungradable is not None}
