"""`gradcheck-suite new NAME --reference DOTTED.PATH`: a new exercise, ready to validate.

Writes PARENT/NAME/exercise.yaml and PARENT/NAME/NAME.py. The Python file is the exercise in
course-source form: the students' stub (docstrings, signatures) with the solution's places
between `# BEGIN SOLUTION` / `# END SOLUTION` lines. Until the instructor writes the solution
there, every region raises NotImplementedError, so the file grades as a stub does; afterwards
`gradcheck-suite release` derives the students' stub from it.

The inputs are guessed from the reference: its Python signature, else the first line of its
docstring (torch builtins: `gelu(input, approximate='none') -> Tensor`), else one input x. The
leading tensor-like positional parameters become inputs; their shapes are the first of a few
common layouts (elementwise, matmul, x @ w + b, F.linear) on which the reference runs.
"""

from __future__ import annotations

import ast
import inspect
import json
import keyword
import os
import re
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import ScaffoldError
from ..exercise.names import resolve_dotted
from ..exercise.schema import STYLES

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = REPO_ROOT / "docs" / "schema" / "exercise.schema.json"
_NO_DEFAULT = inspect.Parameter.empty
_DOC_SIGNATURE = re.compile(r"^\s*[\w.]+\((?P<params>.*)\)\s*(->.*)?$")
# Parameter names that are options, never tensors (when there is no annotation to go by).
_OPTIONS = {
    "dim", "dims", "axis", "keepdim", "dtype", "out", "inplace", "approximate", "reduction", "p", "eps",
    "alpha", "beta", "min", "max", "lambd", "threshold", "value", "negative_slope", "training", "momentum",
    "normalized_shape", "kernel_size", "stride", "padding", "dilation", "groups", "size_average", "reduce",
    "generator", "layout", "device", "memory_format", "requires_grad", "correction", "unbiased",
}
_OPTIONAL_TENSORS = {"weight", "bias", "other", "target", "mask"}  # tensors even with a None default
_GUESSES = {"dim": -1, "axis": -1}  # values for options the reference needs (no default, or None)
_RENAMES = {"input": "x", "self": "x"}  # builtins' parameter names that would shadow Python's
_PROBE_DIMS = {"N": 2, "K": 3, "M": 4, "D_in": 3, "D_out": 4, "D": 3}
_PROBE_BATCH = (2, 3, 4)
DIM_RANGE = [1, 5]




@dataclass(frozen=True)
class Param:
    name: str
    positional: bool
    default: Any = _NO_DEFAULT
    annotation: str = ""

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT


@dataclass(frozen=True)
class Input:
    name: str
    shape: tuple[str, ...]
    domain: str = "real"


@dataclass
class Guess:
    inputs: list[Input]
    dims: list[str] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    batch_rank: tuple[int, int] | None = None  # None: the default
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- the reference

def reference_parameters(function: Callable) -> list[Param] | None:
    """The reference's parameters from its signature, else its docstring's first line; None if neither."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return _docstring_parameters(function.__doc__ or "")
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [Param(p.name, p.kind in positional, p.default,
                  "" if p.annotation is _NO_DEFAULT else str(p.annotation))
            for p in signature.parameters.values()
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def _docstring_parameters(doc: str) -> list[Param] | None:
    lines = doc.strip().splitlines()
    match = _DOC_SIGNATURE.match(lines[0]) if lines else None
    if match is None:
        return None
    try:
        definition = ast.parse(f"def f({match['params']}): pass").body[0]
    except SyntaxError:
        return None
    assert isinstance(definition, ast.FunctionDef)  # the source starts "def f("
    arguments = definition.args
    positional = arguments.posonlyargs + arguments.args
    defaults = [_NO_DEFAULT] * (len(positional) - len(arguments.defaults)) + [_literal(d) for d in arguments.defaults]
    params = [Param(a.arg, True, d) for a, d in zip(positional, defaults)]
    params += [Param(a.arg, False, _NO_DEFAULT if d is None else _literal(d))
               for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    return params


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)  # a default we cannot evaluate; only its presence matters


def _is_tensor(param: Param) -> bool:
    if param.annotation:
        return "Tensor" in param.annotation
    if param.name in _OPTIONS:
        return False
    return param.required or (param.default is None and param.name in _OPTIONAL_TENSORS)


def split_parameters(params: list[Param]) -> tuple[list[str], dict[str, Any], list[str]]:
    """(input names, reference kwargs, options the reference needs that we cannot guess). The
    inputs are the leading tensor-like positional parameters: the grader passes them in order."""
    inputs: list[str] = []
    for param in params:
        if not (param.positional and _is_tensor(param)):
            break
        inputs.append(param.name)
    kwargs, unknown = {}, []
    for param in params[len(inputs):]:
        if param.name in _GUESSES and (param.required or param.default is None):
            kwargs[param.name] = _GUESSES[param.name]
        elif param.required:
            unknown.append(param.name)
    return inputs, kwargs, unknown


def _input_name(name: str, taken: set[str]) -> str:
    new = _RENAMES.get(name, name)
    if keyword.iskeyword(new) or new in taken:
        new = f"{name}_"
    return new


# ----------------------------------------------------------------------------- shapes

def _layouts(count: int) -> list[list[tuple[str, ...]]]:
    """Candidate shapes for `count` inputs, most general first."""
    layouts: list[list[tuple[str, ...]]] = [[("...",)] * count]
    if count == 1:
        layouts.append([("N", "N")])
    if count == 2:
        layouts.append([("N", "K"), ("K", "M")])
    if count == 3:
        layouts += [[("N", "D_in"), ("D_in", "D_out"), ("D_out",)], [("N", "D_in"), ("D_out", "D_in"), ("D_out",)]]
    if count > 1:
        layouts.append([("N", "D")] + [("D",)] * (count - 1))
    return layouts


def _probe_tensor(shape: tuple[str, ...], batch: tuple[int, ...], domain: str, seed: int) -> torch.Tensor:
    sizes = [s for dim in shape for s in (batch if dim == "..." else (_PROBE_DIMS[dim],))]
    generator = torch.Generator().manual_seed(seed)
    tensor = torch.randn(sizes, dtype=torch.float64, generator=generator)
    if domain == "positive":
        tensor = tensor.abs() + 0.1
    return tensor.requires_grad_(True)


def _runs(function: Callable, kwargs: dict, layout, domain: str, batch=_PROBE_BATCH) -> bool:
    """Whether the reference gives a finite, differentiable float tensor on inputs of this layout."""
    tensors = [_probe_tensor(shape, batch, domain, seed) for seed, shape in enumerate(layout)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = function(*tensors, **kwargs)
    except Exception:  # noqa: BLE001 - any error means: not this layout
        return False
    return (isinstance(out, torch.Tensor) and out.is_floating_point() and out.requires_grad
            and bool(torch.isfinite(out).all()))


def guess_inputs(function: Callable, target: str) -> Guess:
    params = reference_parameters(function)
    kwargs: dict[str, Any]
    unknown: list[str]
    if params is None:
        names, kwargs, unknown = ["x"], {}, []
        notes = [f"no signature or docstring signature for {target}: one input x guessed"]
    else:
        names, kwargs, unknown = split_parameters(params)
        notes = [f"{target} needs {name}=...: add it under reference.kwargs" for name in unknown]
        if not names:
            names = ["x"]
            notes.append(f"no tensor-like positional parameter in {target}'s signature: one input x guessed")
    taken: set[str] = set()
    renamed = []
    for name in names:
        renamed.append(_input_name(name, taken))
        taken.add(renamed[-1])
    for layout in _layouts(len(names)):
        for domain in ("real", "positive"):
            if _runs(function, kwargs, layout, domain):
                return _guess(renamed, layout, domain, kwargs, notes, function)
    notes.append(f"no common layout of input shapes runs {target}: set inputs[].shape and dims")
    return _guess(renamed, _layouts(len(names))[0], "real", kwargs, notes, function)


def _guess(names, layout, domain, kwargs, notes, function) -> Guess:
    dims = list(dict.fromkeys(d for shape in layout for d in shape if d != "..."))
    guess = Guess([Input(n, s, domain) for n, s in zip(names, layout)], dims, kwargs, notes=notes)
    if any("..." in s for s in layout) and not _runs(function, kwargs, layout, domain, batch=()):
        guess.batch_rank = (1, 3)  # the reference needs at least one dimension
    return guess


# ----------------------------------------------------------------------------- the files

def class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) or "Exercise"


def schema_modeline(folder: Path, schema: Path = SCHEMA, root: Path = REPO_ROOT) -> str | None:
    """The editor's schema modeline for an exercise file in `folder`: relative to it inside this
    checkout, None outside it (an absolute path into one person's checkout would travel with the
    course, and `release` keeps absolute paths as they are)."""
    folder = folder.resolve()
    if not (root / "pyproject.toml").is_file() or root.resolve() not in (folder, *folder.parents):
        return None
    return f"# yaml-language-server: $schema={Path(os.path.relpath(schema, folder)).as_posix()}"


def _flow(value) -> str:
    """A YAML flow value (JSON is YAML)."""
    return json.dumps(value)


def exercise_yaml(name: str, target: str, style: str, guess: Guess, modeline: str | None) -> str:
    lines = [modeline] if modeline else []
    lines += [f"# Written by `gradcheck-suite new` from {target}.",
              "# The inputs, their shapes and domains are guessed from its signature: check them (a kink",
              f"# needs `avoid:`), then write the solution between the BEGIN/END SOLUTION lines of {name}.py;",
              "# `gradcheck-suite release` makes the students' stub from it."]
    lines += [f"# TODO: {note}" for note in guess.notes]
    lines += [f"name: {name}", f"title: {_flow(f'{target} by hand')}", "points: 10", "student:",
              f"  file: {name}.py", f"  style: {style}"]
    if style == "autograd_function":
        lines.append(f"  class: {class_name(name)}")
    else:
        lines += ["  forward: forward", "  backward: backward"]
    if guess.kwargs:
        kwargs = ", ".join(f"{key}: {_flow(value)}" for key, value in guess.kwargs.items())
        lines += ["reference:", f"  function: {target}", f"  kwargs: {{{kwargs}}}"]
    else:
        lines.append(f"reference: {target}")
    if guess.dims:
        lines.append("dims:")
        lines += [f"  {dim}: {_flow(DIM_RANGE)}" for dim in guess.dims]
    lines.append("inputs:")
    for item in guess.inputs:
        lines += [f"  - name: {item.name}", f"    shape: [{', '.join(item.shape)}]"]
        if item.domain != "real":
            lines.append(f"    domain: {{kind: {item.domain}}}")
    if guess.batch_rank is not None:
        lines += ["batch:", f"  rank: {_flow(list(guess.batch_rank))}"]
    lines += ["trials: 20", f"seed: {zlib.crc32(name.encode()) % 10_000}"]
    if target.startswith("torch."):
        lines += ["# The function the exercise asks for may not be called (checked in the source and at run time).",
                  f"forbid: [{target}]"]
    return "\n".join(lines) + "\n"


def _shapes_text(guess: Guess) -> str:
    def shape(dims: tuple[str, ...]) -> str:
        return "any shape" if dims == ("...",) else "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    return ", ".join(f"{i.name} {shape(i.shape)}" for i in guess.inputs)


def solution_template(name: str, target: str, style: str, guess: Guess) -> str:
    args = ", ".join(i.name for i in guess.inputs)
    call = f"{target}({args}{''.join(f', {k}={v!r}' for k, v in guess.kwargs.items())})"
    short = f"{target.rsplit('.', 1)[-1]}({args})"
    grads = [f"grad_{i.name}" for i in guess.inputs]
    returned = grads[0] if len(grads) == 1 else f"({', '.join(grads)})"
    if style == "autograd_function":
        return _AUTOGRAD_TEMPLATE.format(name=name, cls=class_name(name), args=args, call=call, short=short,
                                         returned=returned, shapes=_shapes_text(guess))
    numpy = style == "numpy"
    return _FUNCTIONAL_TEMPLATE.format(
        name=name, args=args, call=call, short=short, returned=returned, shapes=_shapes_text(guess),
        module="numpy as np" if numpy else "torch",
        kind="NumPy arrays in, NumPy arrays out (no torch)" if numpy else
        "torch tensors in, torch tensors out; no torch.autograd, .backward() or torch.func")


_UNWRITTEN = "the instructor's solution is not written yet"

_AUTOGRAD_TEMPLATE = '''"""Exercise {name}: ``{call}`` with a hand-written backward.

Implement ``{cls}.forward`` and ``{cls}.backward`` so that
``{cls}.apply({args})`` equals ``{call}``
and its gradients equal torch.autograd's.
Inputs: {shapes}.

Compute the gradients by hand with plain torch operations; do not call torch.autograd,
``.backward()`` or torch.func inside backward. Do not hard-code a dtype or device.
"""

import torch


class {cls}(torch.autograd.Function):
    """``{call}``

    forward(ctx, {args}):
        Return the output. Save what backward needs with ``ctx.save_for_backward``.
        Do not modify the inputs in place.

    backward(ctx, grad_output):
        ``grad_output`` is dL/d(output). Return {returned},
        each with exactly the shape and dtype of its input.
    """

    @staticmethod
    def forward(ctx, {args}):
        # BEGIN SOLUTION: {cls}.forward: compute {short}
        raise NotImplementedError("{cls}.forward: {unwritten}")
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: {cls}.backward: return {returned}
        raise NotImplementedError("{cls}.backward: {unwritten}")
        # END SOLUTION
'''.replace("{unwritten}", _UNWRITTEN)

_FUNCTIONAL_TEMPLATE = '''"""Exercise {name}: ``{call}`` as a forward and a backward function.

``forward({args})`` returns ``(out, cache)``;
``backward(grad_out, cache)`` returns {returned}.
Inputs: {shapes}. {kind}.
Do not modify the inputs in place; do not hard-code a dtype.
"""

import {module}


def forward({args}):
    """Return ``(out, cache)``: out as ``{call}``, cache holding what backward needs."""
    # BEGIN SOLUTION: forward: compute {short} and return (out, cache)
    raise NotImplementedError("forward: {unwritten}")
    # END SOLUTION


def backward(grad_out, cache):
    """``grad_out`` is dL/d(out). Return {returned},
    each with exactly the shape of its input."""
    # BEGIN SOLUTION: backward: return {returned}
    raise NotImplementedError("backward: {unwritten}")
    # END SOLUTION
'''.replace("{unwritten}", _UNWRITTEN)


def create_exercise(name: str, target: str, style: str = STYLES[0],
                    parent: Path = Path("exercises")) -> tuple[Path, list[str]]:
    """Write PARENT/NAME/exercise.yaml and PARENT/NAME/NAME.py; (the exercise file, what to check
    in the guesses)."""
    if not (name.isascii() and name.isidentifier()):
        raise ScaffoldError(f"{name!r} is not an identifier (letters, digits and _, not starting with a digit)")
    if style not in STYLES:
        raise ScaffoldError(f"style {style!r}: expected one of {', '.join(STYLES)}")
    folder = Path(parent) / name
    if folder.exists():
        raise ScaffoldError(f"{folder}: already exists; choose another NAME or --dir")
    try:
        function = resolve_dotted(target)
    except (ValueError, ImportError) as exc:
        raise ScaffoldError(f"--reference {target}: cannot import it: {exc}") from None
    guess = guess_inputs(function, target)
    folder.mkdir(parents=True)
    path = folder / "exercise.yaml"
    path.write_text(exercise_yaml(name, target, style, guess, schema_modeline(folder)), encoding="utf-8")
    (folder / f"{name}.py").write_text(solution_template(name, target, style, guess), encoding="utf-8")
    return path, guess.notes
