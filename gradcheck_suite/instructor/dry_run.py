"""`validate`'s dry run: the reference on drawn inputs and on every edge case, and every forbid
name looked up, so that a mistake of the exercise is one `file:line: field: expectation` line
before any student meets it (never a traceback, never a student's failure)."""

from __future__ import annotations

import torch

from ..checks.randomized import reference_disagreement
from ..errors import ConfigProblem, ExerciseBroken
from ..exercise.model import ExerciseSpec
from ..exercise.names import resolve_dotted
from ..exercise.yaml_source import LineDict, YamlSyntaxError, load_yaml
from ..inputs.params import bind_reference, call_params
from ..inputs.strategies import seeded_trials
from ..inputs.tensors import edge_case_inputs, edge_case_sizes, make_inputs, param_arrays
from ..inputs.trial import Trial
from ..numerics import binomial
from ..numerics import reference_eval as reference

DRAWS = 3  # trials besides the smallest one


def problems(spec: ExerciseSpec, course_root=None) -> list[ConfigProblem]:
    """What running the exercise's reference shows to be wrong with the exercise file."""
    try:
        doc = load_yaml(spec.path)
    except (OSError, YamlSyntaxError):
        doc = LineDict()
    lines = doc if isinstance(doc, LineDict) else LineDict()
    found = _forbid_problems(spec, lines, course_root)
    declared = "outputs" in lines
    outputs_line = lines.line_of("outputs") if declared else lines.line_of("reference")
    trials = [Trial.of(spec, {name: low for name, (low, _) in spec.dims.items()},
                       (spec.batch_size[0],) * spec.batch_rank[0], spec.seed)]
    try:
        trials += seeded_trials(spec, DRAWS, spec.seed)
    except ValueError as exc:  # no draw satisfies the constraints
        return found + [ConfigProblem(lines.line_of("constraints"), "constraints", str(exc))]
    written: dict[str, bool] = {side.path: False for side in spec.side_outputs}
    for trial in trials:
        if not trial.satisfies(spec):
            continue
        arrays = param_arrays(spec, trial.sizes or trial.dims, trial.values_seed) if spec.params else {}
        problem = _run(spec, make_inputs(spec, trial), trial.params, f"on the trial {trial.describe()}",
                       (outputs_line, declared), arrays, written)
        if isinstance(problem, ConfigProblem):
            found.append(problem)
            break
        if problem:
            found.append(ConfigProblem(lines.line_of("reference"), "reference", problem))
            break
    else:  # the reference ran on every trial: did it write each side output on one of them?
        found += _never_written(spec, written)
    if spec.random is not None and not any(p.field in ("reference", "outputs") for p in found):
        found += _random_problems(spec, lines, [t for t in trials if t.satisfies(spec)])
    for index, case in enumerate(spec.edge_cases):
        try:
            inputs = edge_case_inputs(spec, case)
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            found.append(ConfigProblem(case.line, f"edge_cases[{index}]", f"cannot build its inputs: {exc}"))
            continue
        arrays = param_arrays(spec, edge_case_sizes(spec, case), spec.seed) if spec.params else {}
        problem = _run(spec, inputs, {}, f"on edge case '{case.name}'", (outputs_line, declared), arrays)
        if isinstance(problem, ConfigProblem):
            if problem not in found:
                found.append(problem)
        elif problem:
            found.append(ConfigProblem(case.line, f"edge_cases[{index}]", problem))
    return found


def _random_problems(spec: ExerciseSpec, lines: LineDict, trials: list[Trial]) -> list[ConfigProblem]:
    """A randomized exercise: its smallest trial (the first) must draw enough elements for the
    binomial test to tell a keep probability q from 1 - q, and its reference must have the
    properties `random:` declares (keep for drop, or the wrong scale, shows there)."""
    randomized = spec.random
    assert randomized is not None
    line = lines.line_of("random")
    found = []
    needed = binomial.min_elements()
    if trials:
        smallest = make_inputs(spec, trials[0])[randomized.input].numel()
        if smallest < needed:
            found.append(ConfigProblem(line, "random.input", (
                f"expected at least {needed} elements of {randomized.input} in every trial, to tell a keep probability "
                f"q from 1 - q (|q - 1/2| >= {binomial.SEPARATION:g}) by the binomial test; the smallest trial "
                f"({trials[0].describe()}) draws {smallest}: raise the lows of the dims its shape names")))
    for trial in trials:
        try:
            problem = reference_disagreement(spec, trial)
        except ExerciseBroken:
            return found  # reported by the reference's own dry run
        if problem:
            key = "keep" if randomized.keeps else "drop"
            found.append(ConfigProblem(line, f"random.{key}", f"expected a reference with the properties random: "
                                                               f"declares: {problem}"))
            break
    return found


def _run(spec: ExerciseSpec, tensors: dict[str, torch.Tensor], params: dict, where: str,
         outputs: tuple[int | None, bool] = (None, False), arrays: dict | None = None,
         written: dict[str, bool] | None = None) -> str | ConfigProblem | None:
    """Why the reference cannot serve on these inputs (a ConfigProblem of `outputs:` when it returns
    another number of outputs than declared; `outputs`: that field's line, and whether the file has
    it; of `side_outputs:` when it leaves a side output that is no tensor), or None. `written`:
    set to True for each side output the reference changed."""
    bound = bind_reference(spec, call_params(spec, params, arrays)) if spec.params else spec
    inputs = [reference.as_reference_dtype(t) for t in tensors.values()]
    try:
        traced = reference.Traced(bound, inputs)
        traced.vjp([torch.ones_like(out, dtype=torch.float64) if out.is_floating_point() else None
                    for out in traced.outputs])
        if spec.side_outputs:
            problem = _side_output_problem(bound, inputs, written)
            if problem is not None:
                return problem
    except reference.WrongOutputCount as exc:
        line, given = outputs
        declared = ", ".join(o.name for o in spec.outputs) if given else "one output, the default"
        return ConfigProblem(line, "outputs", f"expected as many outputs as the reference "
                                                      f"{spec.reference.target} returns ({exc.returned}); declared: "
                                                      f"{declared}" + _declare(exc.returned))
    except ExerciseBroken as exc:
        return f"expected a reference that runs on the exercise's inputs {where}: {exc.detail}"
    return None


def _side_output_problem(spec: ExerciseSpec, inputs: list[torch.Tensor],
                         written: dict[str, bool] | None) -> ConfigProblem | None:
    """A side output the reference leaves as something other than a tensor (absent included)."""
    after, before = reference.side_values(spec, inputs), reference.given_values(spec)
    for side in spec.side_outputs:
        value, given = after[side.path], before[side.path]
        if isinstance(value, str):
            found = "without it" if value == reference.MISSING else f"holding a {value}"
            return ConfigProblem(side.line, "side_outputs", f"expected an entry the reference writes: "
                                 f"{spec.reference.target} leaves {side.label} {found}")
        if written is not None and not (isinstance(given, torch.Tensor) and given.shape == value.shape
                                        and bool(torch.equal(given.to(value.dtype), value))):
            written[side.path] = True
    return None


def _never_written(spec: ExerciseSpec, written: dict[str, bool]) -> list[ConfigProblem]:
    """Side outputs the reference left as given on every trial drawn."""
    return [ConfigProblem(side.line, "side_outputs",
                          f"expected an entry the reference writes: {spec.reference.target} left {side.label} "
                          f"as given on every trial drawn")
            for side in spec.side_outputs if not written.get(side.path, True)]


def _declare(count: int) -> str:
    """How to declare `count` outputs (nothing to add for one)."""
    if count < 2:
        return ""
    return f" (declare them: outputs: [{', '.join(f'out{k + 1}' for k in range(count))}])"


def _forbid_problems(spec: ExerciseSpec, lines: LineDict, course_root) -> list[ConfigProblem]:
    found = []
    for name in spec.forbid:
        try:
            resolve_dotted(name, course_root)
        except ValueError as exc:
            if "has no attribute" in str(exc):  # the module is there: the name is misspelt
                found.append(ConfigProblem(lines.line_of("forbid"), "forbid", f"expected a function that exists: "
                                                                              f"{name}: {exc}"))
    return found
