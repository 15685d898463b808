"""The exercise model: frozen dataclasses an exercise.yaml becomes (ExerciseSpec and its parts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from .expressions import Expression

FLOAT_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
INT_DTYPES = {"int64": torch.int64, "int32": torch.int32}
DTYPES = {**FLOAT_DTYPES, **INT_DTYPES}


@dataclass(frozen=True)
class Tolerance:
    rtol: float | None = None
    atol: float | None = None


@dataclass(frozen=True)
class Domain:
    kind: str = "real"
    scale: float = 1.0
    low: float | None = None
    high: float | None = None
    avoid: tuple[float, ...] = ()
    margin: float = 1e-2
    distinct: bool = False
    low_expr: Expression | None = None  # a bound that names dims (high: C), resolved per trial
    high_expr: Expression | None = None


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[str | int, ...]
    dtype: torch.dtype
    domain: Domain
    differentiable: bool
    tolerance: Tolerance
    line: int | None = None


@dataclass(frozen=True)
class EdgeCase:
    name: str
    inputs: dict[str, Any]
    line: int | None = None
    visibility: str | None = None  # None: the edge_cases check's own


@dataclass(frozen=True)
class FiniteDifferences:
    mode: str = "auto"
    max_full: int = 128
    directions: int = 2
    tolerance: Tolerance = Tolerance()


@dataclass(frozen=True)
class ExerciseLimits:
    """Per exercise, for all its checks together, in autograder mode (--isolate)."""

    time_seconds: float = 60.0
    cpu_seconds: float | None = None  # defaults to the wall-clock limit
    memory_mb: int = 4096
    output_kb: int = 1024


@dataclass(frozen=True)
class ParamSpec:
    """A non-tensor argument: a fixed value, or drawn from integers, floats or choices (or a dict of them)."""

    name: str
    kind: str  # "value", "integers", "floats", "choices", "fields" or "shape" (an array, a dict param's field)
    value: Any = None  # the fixed value
    low: float = 0  # integers and floats, both ends included
    high: float = 0
    choices: tuple = ()
    fields: tuple["ParamSpec", ...] = ()  # a dict param: one entry per key
    positional: bool = False  # passed after the tensors, in declared order, instead of as a keyword
    line: int | None = None
    shape: tuple[str | int, ...] = ()  # kind "shape": an array of this shape, its values drawn per trial
    domain: Domain | None = None  # kind "shape": where its values come from
    checks: tuple[tuple[Any, tuple[str, ...]], ...] = ()  # choices: (choice, the only checks drawing it)

    @property
    def drawn(self) -> bool:
        """Whether its value is chosen per trial and shown in replay strings (an array's values follow
        the trial's values seed, like an input's, and are not shown)."""
        return self.kind not in ("value", "shape") and (self.kind != "fields" or any(f.drawn for f in self.fields))

    @property
    def arrays(self) -> tuple["ParamSpec", ...]:
        """A dict param's fields that are arrays drawn per trial."""
        return tuple(f for f in self.fields if f.kind == "shape")


@dataclass(frozen=True)
class CallParams:
    """The non-tensor arguments of one call: positionals after the tensors, then keywords."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    arg_names: tuple[str, ...] = ()  # the positional params' names, to find a side output in them

    def __bool__(self) -> bool:
        return bool(self.args or self.kwargs)

    def named(self, name: str):
        """The value of the param `name` (positional or keyword); KeyError if there is none."""
        if name in self.arg_names:
            return self.args[self.arg_names.index(name)]
        return self.kwargs[name]

    def to_wire(self) -> dict:
        return {"args": list(self.args), "kwargs": dict(self.kwargs), "arg_names": list(self.arg_names)}

    @classmethod
    def from_wire(cls, data) -> "CallParams":
        if not data:
            return cls()
        return cls(tuple(data["args"]), dict(data["kwargs"]), tuple(data.get("arg_names", ())))


@dataclass(frozen=True)
class SideOutput:
    """An entry of a dict param the forward writes (CS231n's bn_param['running_mean']): read from the
    dict after the call and compared with what the reference wrote into its own copy."""

    param: str
    key: str
    line: int | None = None

    @property
    def path(self) -> str:
        return f"{self.param}.{self.key}"

    @property
    def label(self) -> str:
        """As messages name it: bn_param['running_mean']."""
        return f"{self.param}[{self.key!r}]"


@dataclass(frozen=True)
class OutputSpec:
    """One output of the forward. A non-differentiable one (indices, statistics) is compared in the
    forward check only and never given an upstream gradient."""

    name: str
    differentiable: bool = True
    line: int | None = None


ONE_OUTPUT = (OutputSpec("out"),)  # what an exercise without `outputs:` has


@dataclass(frozen=True)
class RandomSpec:
    """A randomized forward, graded by the properties of its `kind` instead of against the reference's
    values (exercise.randomness reads it; checks.randomized checks it).

    dropout: every element of `input` is kept with the keep probability and scaled (`scale`
    inverted: by 1 / keep; none: not at all) or set to 0; the backward applies the forward's mask."""

    kind: str  # "dropout"
    input: str  # the tensor the randomness is applied to
    probability: str  # the param (or a dict param's field, as dropout_param.p) holding the probability
    keeps: bool  # True: `probability` is the probability of keeping an element (CS231n); False: of dropping it
    scale: str = "inverted"  # "inverted" (kept elements / keep probability) or "none"
    seed: str | None = None  # the param field holding a seed: the same seed must give the same mask
    deterministic: tuple[tuple[str, Any], ...] = ()  # (param path, value): under these the op is deterministic
    line: int | None = None

    def keep_probability(self, params: dict[str, Any]) -> float:
        value = float(param_value(params, self.probability))
        return value if self.keeps else 1.0 - value

    def scale_factor(self, params: dict[str, Any]) -> float:
        """What a kept element is multiplied by."""
        keep = self.keep_probability(params)
        return 1.0 / keep if self.scale == "inverted" and keep > 0 else 1.0

    def is_deterministic(self, params: dict[str, Any]) -> bool:
        """Whether these params make the op deterministic (test mode): then it is graded as any other."""
        return any(param_value(params, path) == value for path, value in self.deterministic)


def param_value(params: dict[str, Any], path: str) -> Any:
    """A param's value by name, or a dict param's field by name.key (KeyError when absent)."""
    name, _, key = path.partition(".")
    value = params[name]
    return value[key] if key else value


@dataclass(frozen=True)
class Reference:
    target: str
    function: Callable
    kwargs: dict
    args: tuple = ()  # positional params of one trial, after the tensors (see CallParams)


@dataclass(frozen=True)
class ExerciseSpec:
    path: Path
    name: str
    title: str
    points: float
    student_file: str
    student_class: str | None  # None for the functional and numpy styles
    reference: Reference
    inputs: tuple[InputSpec, ...]
    dims: dict[str, tuple[int, int]]
    batch_rank: tuple[int, int]
    batch_size: tuple[int, int]
    trials: int
    seed: int
    tolerance: Tolerance
    hint: str
    edge_cases: tuple[EdgeCase, ...]
    device: str
    finite_differences: FiniteDifferences
    checks: tuple[str, ...]
    non_contiguous: bool = False
    forbid: tuple[str, ...] = ()
    allow_imports: tuple[str, ...] = ()
    limits: ExerciseLimits = ExerciseLimits()
    weights: dict | None = None  # {check: weight}; None: all or nothing
    visibility: str = "visible"
    check_visibility: dict | None = None  # {check: visibility}
    student_style: str = "autograd_function"
    student_functions: tuple[str, str] = ("forward", "backward")  # functional and numpy styles
    support: tuple[Path, ...] = ()  # the course's modules the student's file may import (course.yaml)
    params: tuple[ParamSpec, ...] = ()  # non-tensor arguments, fixed or drawn per trial
    derived: dict[str, Expression] = field(default_factory=dict)  # dims computed from others, in order
    constraints: tuple[Expression, ...] = ()  # every trial satisfies these
    outputs: tuple[OutputSpec, ...] = ONE_OUTPUT  # the forward's outputs, in the order it returns them
    side_outputs: tuple[SideOutput, ...] = ()  # dict-param entries the forward writes, compared after it
    random: RandomSpec | None = None  # a randomized forward, graded by properties

    @property
    def sized(self) -> bool:
        """Whether a trial's sizes go beyond its drawn dims (params, derived dims, constraints)."""
        return bool(self.params or self.derived or self.constraints) or any(
            i.domain.low_expr is not None or i.domain.high_expr is not None for i in self.inputs)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def differentiable_inputs(self) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if i.differentiable)

    @property
    def several_outputs(self) -> bool:
        """Whether the forward returns a tuple (messages then name the output)."""
        return len(self.outputs) > 1

    @property
    def differentiable_outputs(self) -> tuple[bool, ...]:
        return tuple(o.differentiable for o in self.outputs)

    def input(self, name: str) -> InputSpec:
        return next(i for i in self.inputs if i.name == name)
