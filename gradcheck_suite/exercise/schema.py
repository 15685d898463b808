"""The one description of exercise.yaml and course.yaml: every field, its type, default and meaning.

Three things are generated from it, so that they cannot disagree:
- the checks of `config` (allowed keys with a "did you mean", types, ranges, defaults, and the
  "expected ..." half of every message);
- the published JSON Schema (`gradcheck-suite schema`, docs/schema/*.schema.json) that editors use
  for completion and checking;
- the field reference in docs/reference.md.

What a JSON Schema cannot say (a dim used in a shape must be declared under dims, an integer input
needs the integers domain...) stays in `config`, next to the code that builds the ExerciseSpec.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..vocabulary import CHECK_NAMES

DOMAIN_KINDS = ("real", "positive", "unit_interval", "probabilities", "interval", "integers")
FLOAT_DTYPE_NAMES = ("float64", "float32", "float16", "bfloat16")
INT_DTYPE_NAMES = ("int64", "int32")
FD_MODES = ("auto", "full", "projected", "adaptive")
# How the student's file provides the operation: a torch.autograd.Function subclass, or
# forward(*inputs) -> (out, cache) / backward(grad_out, cache) -> grads in torch or in NumPy, or
# one NumPy function returning (loss, gradients), as CS231n's softmax_loss(x, y) -> (loss, dx).
STYLES = ("autograd_function", "functional", "numpy", "loss")
SCAFFOLD_STYLES = STYLES[:3]  # the styles `gradcheck-suite new` writes a template for
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
DEVICES = ("cpu", "cuda")
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
QUALIFIED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"  # at least one dot: module.attribute
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

NO_DEFAULT = object()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Node:
    """One field's value: what it accepts, its default, and the words that describe it."""

    description: str = ""
    default: Any = NO_DEFAULT
    example: Any = NO_DEFAULT
    expected_text: str = ""  # overrides the phrase derived from the constraints

    @property
    def expected(self) -> str:
        return self.expected_text or self._expected()

    def _expected(self) -> str:
        return "a value"

    def accepts(self, value) -> bool:
        return True

    def json(self) -> dict:
        out = self._json()
        if self.description:
            out["description"] = self.description
        if self.default is not NO_DEFAULT:
            out["default"] = self.default
        if self.example is not NO_DEFAULT:
            out["examples"] = [self.example]
        return out

    def _json(self) -> dict:
        return {}

    @property
    def type_text(self) -> str:
        return self._json().get("type", "any")


@dataclass(frozen=True)
class Text(Node):
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    suffix: str | None = None

    def _expected(self) -> str:
        if self.enum:
            return f"one of {', '.join(self.enum)}"
        return "a string"

    def accepts(self, value) -> bool:
        if not isinstance(value, str):
            return False
        if self.enum and value not in self.enum:
            return False
        if self.pattern and not re.match(self.pattern, value):
            return False
        return not self.suffix or value.endswith(self.suffix)

    def _json(self) -> dict:
        out: dict = {"type": "string"}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.pattern:
            out["pattern"] = self.pattern
        if self.suffix:
            out["pattern"] = self.pattern or f"{re.escape(self.suffix)}$"
        return out

    @property
    def type_text(self) -> str:
        return "one of " + " · ".join(f"`{e}`" for e in self.enum) if self.enum else "string"


@dataclass(frozen=True)
class Number(Node):
    minimum: float | None = None
    exclusive: bool = False  # minimum itself excluded
    integer: bool = False

    def _expected(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.minimum is None:
            return kind if self.integer else "a finite number"
        return f"{kind} {'>' if self.exclusive else '>='} {self.minimum:g}"

    def accepts(self, value) -> bool:
        if not (_is_integer(value) if self.integer else _is_number(value)):
            return False
        if self.minimum is None:
            return True
        return value > self.minimum if self.exclusive else value >= self.minimum

    def _json(self) -> dict:
        out: dict = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:
            out["exclusiveMinimum" if self.exclusive else "minimum"] = self.minimum
        return out


def Integer(**kwargs) -> Number:  # noqa: N802 - reads as a type in the tables below
    return Number(integer=True, **kwargs)


@dataclass(frozen=True)
class Boolean(Node):
    def _expected(self) -> str:
        return "true or false"

    def accepts(self, value) -> bool:
        return isinstance(value, bool)

    def _json(self) -> dict:
        return {"type": "boolean"}


@dataclass(frozen=True)
class ListOf(Node):
    item: Node = field(default_factory=Node)
    min_items: int = 0

    def accepts(self, value) -> bool:
        return isinstance(value, list) and len(value) >= self.min_items and all(self.item.accepts(v) for v in value)

    def _expected(self) -> str:
        return f"a list of {self.item.expected}"

    def _json(self) -> dict:
        out: dict = {"type": "array", "items": self.item.json()}
        if self.min_items:
            out["minItems"] = self.min_items
        return out

    @property
    def type_text(self) -> str:
        return f"list of {self.item.type_text}"


@dataclass(frozen=True)
class Mapping(Node):
    """Fixed keys (`fields`), or any keys (matching `keys`) with values of one kind (`values`)."""

    fields: dict[str, Node] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    values: Node | None = None
    keys: Text | None = None

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(self.fields)

    def _expected(self) -> str:
        return "a mapping"

    def accepts(self, value) -> bool:
        return isinstance(value, dict)

    def _json(self) -> dict:
        out: dict = {"type": "object"}
        if self.fields:
            out["properties"] = {name: node.json() for name, node in self.fields.items()}
            out["additionalProperties"] = False
        if self.required:
            out["required"] = list(self.required)
        if self.values is not None:
            out["additionalProperties"] = self.values.json()
        if self.keys is not None:
            out["propertyNames"] = self.keys.json()
        return out

    @property
    def type_text(self) -> str:
        return f"mapping of {self.values.type_text}" if self.values is not None else "mapping"


@dataclass(frozen=True)
class AnyOf(Node):
    options: tuple[Node, ...] = ()

    def accepts(self, value) -> bool:
        return any(o.accepts(value) for o in self.options)

    def _json(self) -> dict:
        return {"anyOf": [o.json() for o in self.options]}

    @property
    def type_text(self) -> str:
        return " or ".join(o.type_text for o in self.options)


# ------------------------------------------------------------------------------------ the fields

def _range(description: str, minimum: int, example) -> AnyOf:
    return AnyOf(
        description=description, example=example,
        options=(Integer(minimum=minimum), ListOf(item=Integer(minimum=minimum), min_items=2)),
        expected_text=f"[low, high] with integers {minimum} <= low <= high",
    )


def tolerance(description: str) -> Mapping:
    return Mapping(
        description=description, example={"rtol": 1e-5, "atol": 1e-8},
        fields={
            "rtol": Number(minimum=0, example=1e-5,
                           description="Relative tolerance (|got - expected| <= atol + rtol*|expected|)."),
            "atol": Number(minimum=0, example=1e-8, description="Absolute tolerance."),
        },
    )


STUDENT = Mapping(
    description="Where the student's code is and how it is written.",
    example={"file": "linear.py", "class": "Linear"},
    required=("file",),
    fields={
        "file": Text(description="The student's file, next to exercise.yaml (no folders).", suffix=".py",
                     pattern=r"^[^/\\]+\.py$", expected_text="a file name ending in .py", example="linear.py"),
        "style": Text(enum=STYLES, default=STYLES[0], description=(
            "autograd_function: a torch.autograd.Function subclass (named by class). functional: "
            "forward(*inputs) -> (out, cache) and backward(grad_out, cache) -> grads on tensors. numpy: the "
            "same two functions on NumPy arrays. loss: one function on NumPy arrays returning (loss, gradients) "
            "(CS231n's softmax_loss(x, y) -> (loss, dx)), named by forward; the gradients are the loss's, one per "
            "differentiable input (or the one array when there is one).")),
        "class": Text(pattern=IDENTIFIER, expected_text="a class name", example="Linear",
                      description="The torch.autograd.Function subclass (autograd_function style only)."),
        "forward": Text(pattern=IDENTIFIER, expected_text="a function name", default="forward",
                        example="affine_forward",
                        description="The forward function (functional and numpy styles), or the loss function (loss style)."),
        "backward": Text(pattern=IDENTIFIER, expected_text="a function name", default="backward",
                         example="affine_backward",
                         description="The backward function (functional and numpy styles)."),
    },
)

REFERENCE = AnyOf(
    description=("The differentiable torch function the student's forward is compared with, as a dotted path, or a "
                 "mapping with the function and keyword arguments."),
    example="torch.sigmoid",
    expected_text=("a dotted path to a differentiable torch function (e.g. torch.sigmoid) or a mapping with "
                   "function and kwargs"),
    options=(
        Text(pattern=DOTTED),
        Mapping(required=("function",), fields={
            "function": Text(pattern=DOTTED, expected_text="a dotted path such as torch.sigmoid",
                             example="torch.nn.functional.softmax",
                             description="Dotted path of the reference function."),
            "kwargs": Mapping(description="Keyword arguments passed to the reference on every call.",
                              example={"dim": -1}),
        }),
    ),
)

DOMAIN_FIELDS = Mapping(
    description="Where the input's values are drawn from.",
    example={"kind": "real", "avoid": [0.0]},
    fields={
        "kind": Text(enum=DOMAIN_KINDS, default="real", description=(
            "real: normal times scale (uniform in [low, high] when both are given); positive: log-uniform in "
            "[0.1, 4] times scale (or [low, high]); unit_interval: uniform in [0, 1]; probabilities: softmax of "
            "normal logits times scale, rows summing to 1 over the last dim; interval: uniform in [low, high] "
            "(default [-scale, scale]); integers: uniform integers with low <= v < high (integer dtypes).")),
        "scale": Number(minimum=0, exclusive=True, default=1.0, description="Spread of real and positive values."),
        "low": AnyOf(options=(Number(), Text()), example=-3.0,
                     expected_text="a number, or an expression of dims and integer params such as 'C - 1'",
                     description="Lower bound (interval, integers); may be an expression of dims and integer params."),
        "high": AnyOf(options=(Number(), Text()), example="C",
                      expected_text="a number, or an expression of dims and integer params such as 'C'",
                      description=("Upper bound (interval, integers); may be an expression of dims and integer "
                                   "params, e.g. C for class labels 0 <= y < C.")),
        "avoid": ListOf(item=Number(), example=[0.0], description=(
            "Kinks to keep samples margin away from, e.g. [0.0] for relu; a trial that crosses one anyway is "
            "redrawn, never failed.")),
        "margin": Number(minimum=0, default=1e-2, description="Distance kept from every avoided point."),
        "distinct": Boolean(default=False, description="Keep values apart from each other (ties in max, sort)."),
    },
)

DOMAIN = AnyOf(description=DOMAIN_FIELDS.description, example="positive",
               expected_text="a domain kind or a mapping of domain fields",
               options=(Text(enum=DOMAIN_KINDS), DOMAIN_FIELDS))

SHAPE_ENTRY = AnyOf(options=(Integer(minimum=0), Text(pattern=r"^(\.\.\.|[A-Za-z_][A-Za-z0-9_]*)$")))

INPUT = Mapping(
    description="One input of the operation, in the order forward takes them.",
    required=("name", "shape"),
    example={"name": "x", "shape": ["N", "D"]},
    fields={
        "name": Text(pattern=IDENTIFIER, expected_text="an identifier such as x", example="x",
                     description="The argument's name, used in messages."),
        "shape": ListOf(item=SHAPE_ENTRY, example=["...", "N", "D"], description=(
            "Dim names declared under dims, fixed sizes, and at most one '...' for extra batch dims.")),
        "dtype": Text(enum=FLOAT_DTYPE_NAMES + INT_DTYPE_NAMES, example="int64",
                      description="This input's dtype (default: the exercise's dtype)."),
        "domain": DOMAIN,
        "differentiable": Boolean(example=False, description="Whether a gradient is expected (default: true for float dtypes)."),
        "tolerance": tolerance("Tolerance for this input's gradient (overrides the exercise's)."),
    },
)

CHECK = Text(enum=CHECK_NAMES)

PARAM_KINDS = ("value", "integers", "floats", "choices", "fields", "shape")


def _param_fields(nested: bool) -> dict[str, Node]:
    fields: dict[str, Node] = {
        "name": Text(pattern=IDENTIFIER, expected_text="an identifier such as stride", example="negative_slope",
                     description="The keyword (or, for a dict param's field, the key) it is passed as."),
        "value": Node(example=1e-5, description="A fixed value (a number, string, boolean, list or mapping)."),
        "integers": ListOf(item=Integer(), min_items=2, example=[1, 3], expected_text="[low, high] with integers low <= high",
                           description="Drawn uniformly from the integers low..high, both included."),
        "floats": ListOf(item=Number(), min_items=2, example=[0.01, 0.5], expected_text="[low, high] with numbers low <= high",
                         description="Drawn uniformly from the interval [low, high]."),
        "choices": ListOf(item=Node(), min_items=1, example=["train", "test"], expected_text="a non-empty list of values",
                          description="Drawn from these values."),
        "checks": Mapping(values=ListOf(item=CHECK, min_items=1), example={"test": ["forward"]},
                          expected_text="a mapping of some of its choices to lists of check names",
                          description=(
                              "With choices: the checks a choice is drawn for (a choice not listed is drawn for "
                              "every check). CS231n's batchnorm: {test: [forward]} grades test mode's forward and "
                              "side outputs, and draws train mode alone for the backward checks.")),
    }
    if nested:
        fields["shape"] = ListOf(item=SHAPE_ENTRY, example=["D"], expected_text="a list of dim names and sizes such as [D]",
                                 description=(
                                     "An array of this shape (dim names and sizes), its values drawn per trial like an "
                                     "input's (CS231n's bn_param['running_mean']): a NumPy array for the numpy style, "
                                     "a tensor otherwise, in the exercise's dtype."))
        fields["domain"] = DOMAIN
    if not nested:
        fields["fields"] = ListOf(item=Mapping(fields=_param_fields(True), required=("name",)), min_items=1,
                                  example=[{"name": "stride", "integers": [1, 2]}, {"name": "pad", "value": 1}],
                                  expected_text="a non-empty list of {name, value | integers | floats | choices | shape}",
                                  description="A dict param (CS231n's conv_param): one entry per key, each fixed or drawn.")
        fields["positional"] = Boolean(default=False, description=(
            "Pass it positionally after the tensor inputs, in the order params are declared (CS231n's "
            "conv_forward_naive(x, w, b, conv_param)), instead of as a keyword argument."))
    return fields


PARAM = Mapping(
    description=("A non-tensor argument of the student's forward and of the reference: exactly one of value, "
                 "integers, floats, choices or fields."),
    required=("name",),
    example={"name": "negative_slope", "floats": [0.01, 0.5]},
    fields=_param_fields(False),
)

OUTPUT_FIELDS = Mapping(fields={
    "differentiable": Boolean(default=True, description=(
        "false for an output that carries no gradient (indices, statistics): compared in the forward check "
        "only, never given an upstream gradient.")),
})

OUTPUTS = AnyOf(
    description=(
        "The names of the forward's outputs, in the order it returns them (default: one differentiable output). "
        "With several, the forward returns a tuple, the backward gets one upstream gradient per differentiable "
        "output, and messages name the output."),
    example=["h", "c"],
    expected_text=("a non-empty list of output names such as [h, c], or a mapping of names to "
                   "{differentiable: true | false}"),
    options=(
        ListOf(item=Text(pattern=IDENTIFIER), min_items=1),
        Mapping(keys=Text(pattern=IDENTIFIER), values=OUTPUT_FIELDS,
                example={"out": {}, "argmax": {"differentiable": False}}),
    ),
)

RANDOM_KINDS = ("dropout",)
RANDOM_SCALES = ("inverted", "none")
PARAM_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"  # a param, or a dict param's field

RANDOM = Mapping(
    description=(
        "A randomized forward (dropout), graded by properties instead of against the reference's values: every "
        "output element is 0 or the input scaled as `scale` says; the fraction kept passes a two-sided binomial "
        "test for the keep probability (a correct op fails it less than once in 10^8 trials); the same seed gives "
        "the same mask; the backward applies exactly the mask read from the forward's own output. Runs the "
        "forward, backward and backward_properties checks; finite_differences, double_backward and edge_cases "
        "assume a deterministic forward and are not run. The input must have enough elements in every trial "
        "to tell a keep probability q from 1 - q (validate says how many)."),
    example={"kind": "dropout", "input": "x", "drop": "p"},
    required=("kind",),
    fields={
        "kind": Text(enum=RANDOM_KINDS, example="dropout", description=(
            "dropout: each element of the input is kept (and scaled) or set to 0, independently, with the keep "
            "probability.")),
        "input": Text(pattern=IDENTIFIER, expected_text="an input's name", example="x",
                      description="The input the randomness applies to (default: the first input)."),
        "keep": Text(pattern=PARAM_PATH, expected_text="a param's name, or a dict param's field as dropout_param.p",
                     example="dropout_param.p",
                     description="The param holding the probability of keeping an element (CS231n's p)."),
        "drop": Text(pattern=PARAM_PATH, expected_text="a param's name, or a dict param's field as dropout_param.p",
                     example="p",
                     description="The param holding the probability of dropping an element (torch's p); give "
                                 "keep or drop, not both."),
        "scale": Text(enum=RANDOM_SCALES, default="inverted", description=(
            "inverted: a kept element is x / keep probability (inverted dropout, torch and CS231n); none: a kept "
            "element is x.")),
        "seed": Text(pattern=PARAM_PATH, expected_text="a param's name, or a dict param's field as dropout_param.seed",
                     example="dropout_param.seed",
                     description="The param holding a seed the student's forward seeds its generator with: two "
                                 "calls with the same seed must drop the same elements."),
        "deterministic": Mapping(keys=Text(pattern=PARAM_PATH), values=Node(), example={"dropout_param.mode": "test"},
                                 description=(
                                     "Param values under which the forward is deterministic (test mode): those "
                                     "trials are graded against the reference as in any other exercise.")),
    },
)

EDGE_VALUE = AnyOf(options=(
    Number(), ListOf(item=Node()),
    Mapping(fields={"shape": ListOf(item=Integer(minimum=0)), "fill": Number(), "random": Boolean()}),
))

EDGE_CASE = Mapping(
    description="Fixed inputs where stability matters (large values, exact zeros...).",
    fields={
        "name": Text(description="A short description, shown in messages.", example="large logits"),
        "inputs": Mapping(values=EDGE_VALUE, description=(
            "A value for every input: a number, a nested list, {shape: [...], fill: number} or "
            "{shape: [...], random: true}."),
            example={"x": [[1000.0, -1000.0]]}),
        "visibility": Text(enum=VISIBILITIES, example="hidden", description=(
            "Who sees this case's failure (default: the edge_cases check's visibility). Visible cases run "
            "first; a visible case's failure is shown in full even when others are hidden.")),
    },
    required=("inputs",),
)

EXERCISE = Mapping(
    description="One exercise of a gradcheck-suite course.",
    required=("name", "student", "reference", "inputs"),
    fields={
        "name": Text(pattern=IDENTIFIER, expected_text="an identifier such as linear", example="linear",
                     description="The exercise's name, used in test ids and reports."),
        "title": Text(description="A one-line title for reports (default: the name).",
                      example="Linear layer: x @ w + b"),
        "points": Number(minimum=0, default=1, description="Points for the exercise.", example=10),
        "student": STUDENT,
        "reference": REFERENCE,
        "dtype": Text(enum=FLOAT_DTYPE_NAMES, default="float64", description=(
            "Dtype of the floating-point inputs the student's code gets; the reference and the finite "
            "differences stay in float64, and tolerances follow the dtype.")),
        "device": Text(enum=DEVICES, default="cpu", description=(
            "Where the student's code runs; a cuda exercise on a machine without a GPU is skipped "
            "(0 points, never passed).")),
        "dims": Mapping(keys=Text(pattern=IDENTIFIER), values=AnyOf(
                            options=(*_range("size range", 0, [1, 5]).options, Text()),
                            expected_text=("[low, high] with integers 0 <= low <= high, or an expression of dims "
                                           "and integer params such as 'd1 * d2'")),
                        example={"N": [1, 6], "d1": [1, 3], "d2": [1, 3], "D": "d1 * d2"},
                        description=(
                            "Symbolic dims and their [low, high] size ranges (an integer for a fixed size), or an "
                            "expression of other dims and integer params (names, integers, + - * // % and "
                            "parentheses; a dict param's field as conv_param.stride) for a derived dim.")),
        "constraints": ListOf(item=Text(), example=["(H + 2 * pad - HH) % stride == 0"],
                              expected_text="a list of comparisons such as 'H % stride == 0'",
                              description=(
                                  "Comparisons of dims and integer params every trial satisfies (trials that "
                                  "break one are redrawn); a derived dim is also kept >= 0.")),
        "batch": Mapping(description="The shared batch shape that '...' in a shape stands for.",
                         example={"rank": [0, 2]},
                         fields={
                             "rank": _range("How many extra dims, [low, high] (default [0, 3]).", 0, [0, 2]),
                             "size": _range("Size of each extra dim, [low, high] (default [1, 4]).", 0, [1, 3]),
                         }),
        "inputs": ListOf(item=INPUT, min_items=1, description="The operation's inputs, in order.",
                         example=[{"name": "x", "shape": ["N", "D"]}, {"name": "w", "shape": ["D", "M"]}],
                         expected_text="a non-empty list of inputs (name, shape, ...)"),
        "params": ListOf(item=PARAM, description=(
            "Non-tensor arguments, fixed or drawn anew for every trial, passed to the student's forward and to the "
            "reference after the tensors; a drawn integer param may size a shape like a dim; shown in failure "
            "messages and replay strings."),
            example=[{"name": "negative_slope", "floats": [0.01, 0.5]}],
            expected_text="a list of {name, value | integers | floats | choices | fields}"),
        "outputs": OUTPUTS,
        "side_outputs": ListOf(item=Text(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$"),
                               min_items=1, example=["bn_param.running_mean", "bn_param.running_var"],
                               expected_text="a non-empty list of dict-param entries such as bn_param.running_mean",
                               description=(
                                   "Entries of a dict param the forward writes (param.key): the student's forward and "
                                   "the reference each get a fresh copy of the dict, and the values found in it after "
                                   "the call are compared in the forward check, with the exercise's tolerances.")),
        "random": RANDOM,
        "trials": Integer(minimum=1, default=25, description="Random trials per check."),
        "seed": Integer(minimum=0, default=0, description="Run seed for this exercise (replayable)."),
        "tolerance": tolerance("Tolerance for forward and gradients (default: per dtype, as torch.testing)."),
        "finite_differences": Mapping(description="How the finite-difference check estimates derivatives.",
                                      example={"mode": "full"}, fields={
            "mode": Text(enum=FD_MODES, default="auto", description=(
                "full: every Jacobian-vector product; projected: random directions; adaptive: Richardson "
                "steps; auto: full for small inputs, projected above max_full.")),
            "max_full": Integer(minimum=1, default=128, description="Largest input size for the full mode in auto."),
            "directions": Integer(minimum=1, default=2, description="Random directions in projected mode."),
            "tolerance": tolerance("Tolerance of the finite-difference comparison."),
        }),
        "double_backward": Boolean(default=False, description="Also check the backward's own gradient."),
        "hint": Text(default="", example="grad_b sums grad_output over the batch dimension.",
                     description="Shown to the student with every failure of this exercise."),
        "edge_cases": ListOf(item=EDGE_CASE, description="Fixed inputs checked besides the random trials.",
                             example=[{"name": "large logits", "inputs": {"x": [[1000.0, -1000.0]]}}],
                             expected_text="a list of {name, inputs}"),
        "checks": ListOf(item=CHECK, min_items=1, example=["forward", "backward"], description=(
            "Which checks run (default: forward, backward, backward_properties, finite_differences, plus "
            "edge_cases and double_backward when configured)."),
            expected_text=f"a non-empty list drawn from {', '.join(CHECK_NAMES)}"),
        "non_contiguous": Boolean(default=False, description="Also feed strided (non-contiguous) inputs."),
        "forbid": ListOf(item=Text(pattern=QUALIFIED), example=["torch.nn.functional.softmax"],
                         expected_text="a list of dotted names such as torch.nn.functional.softmax",
                         description=(
                             "Functions the student may not call; a name also stands for its aliases (torch.softmax, "
                             "Tensor.softmax, torch.special.softmax). Checked in the source and at run time.")),
        "allow_imports": ListOf(item=Text(pattern=DOTTED), example=["scipy.special"],
                                expected_text="a list of module names such as scipy.special",
                                description=(
                                    "Modules the student may import beyond torch, math, numpy and the standard "
                                    "numeric helpers (other imports flag the submission for review).")),
        "limits": Mapping(description="Per exercise, all checks together, in autograder mode (--isolate).",
                          example={"time_seconds": 30}, fields={
            "time_seconds": Number(minimum=0, exclusive=True, default=60.0, expected_text="a number of seconds > 0",
                                   description="Wall-clock seconds."),
            "cpu_seconds": Number(minimum=0, exclusive=True, expected_text="a number of seconds > 0", example=20,
                                  description="CPU seconds (default: the wall-clock limit)."),
            "memory_mb": Integer(minimum=0, exclusive=True, default=4096, expected_text="a number of MiB > 0",
                                 description="Address space of the worker, MiB."),
            "output_kb": Integer(minimum=0, exclusive=True, default=1024, expected_text="a number of KiB > 0",
                                 description="Student output kept, KiB."),
        }),
        "weights": Mapping(keys=CHECK, values=Number(minimum=0), example={"forward": 20, "backward": 80},
                           description=(
                               "Partial credit: a passed check earns points x weight / sum of weights (default: all "
                               "or nothing).")),
        "visibility": Text(enum=VISIBILITIES, default="visible",
                           description=(
                               "Who sees the results: Gradescope holds tests back until then; other student-facing "
                               "formats show only the name of a check that is not visible.")),
        "check_visibility": Mapping(keys=CHECK, values=Text(enum=VISIBILITIES), example={"edge_cases": "hidden"},
                                    description="Visibility per check (overrides visibility)."),
    },
)

COURSE = Mapping(
    description="Course-wide settings (course.yaml beside the exercise folders); an exercise's own values win.",
    fields={
        "weights": EXERCISE.fields["weights"],
        "visibility": EXERCISE.fields["visibility"],
        "exercises": Mapping(keys=Text(pattern=IDENTIFIER), values=Number(minimum=0), example={"linear": 10, "relu": 10},
                             description=(
                                 "Every exercise of the course and its points. An exercise that cannot be graded "
                                 "(a file that does not parse, a reference that cannot be imported) keeps these "
                                 "points in the maximum, so a broken exercise never raises a student's share.")),
        "allow_imports": ListOf(item=Text(pattern=DOTTED), example=["scipy.special"],
                                expected_text="a list of module names such as scipy.special",
                                description="Modules every exercise's students may import (added to each exercise's own "
                                            "allow_imports)."),
        "support": ListOf(item=Text(pattern=r"^[^/\\][^\\]*$"), example=["cs231n"],
                          expected_text="a list of paths relative to course.yaml, such as cs231n or helpers.py",
                          description=(
                              "Course modules the students' files may import (a package folder or a .py file "
                              "beside course.yaml, e.g. CS231n's im2col helpers): importable in-process and in the "
                              "autograder's workers without PYTHONPATH; their functions may be named in forbid.")),
    },
)

SCHEMAS = {"exercise": EXERCISE, "course": COURSE}


def json_schema(kind: str = "exercise") -> dict:
    """The published JSON Schema (draft 2020-12) of exercise.yaml or course.yaml."""
    root = SCHEMAS[kind]
    return {"$schema": SCHEMA_DIALECT, "title": f"gradcheck-suite {kind}.yaml", **root.json()}


def json_schema_text(kind: str = "exercise") -> str:
    return json.dumps(json_schema(kind), indent=2) + "\n"
