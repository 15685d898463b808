"""What a student's file may use, checked on its source before any of it runs.

Two kinds of finding:

- **forbidden**: a call the exercise rules out (``forbid:`` in the YAML, e.g. the reference
  function itself, and autograd inside a "by hand" backward). It fails the exercise, with the line.
- **review**: a construct no honest answer to a backprop exercise needs and that the usual attacks
  on a grader rely on (imports beyond the numeric ones, ``open``/``exec``/``__import__``, frame and
  dunder access, ``torch._C``/``torch.ops``, defining ``__torch_function__``). It earns no points
  until a person has looked ("flagged for review"); a static check can be evaded, the runtime guards
  and the worker's isolation are the other layers.

Names are resolved through import aliases (``import torch.nn.functional as F``, ``from torch import
autograd as ag``) and simple assignments (``g = torch.autograd.grad``).

The rules target what a gradient exercise forbids, never the habits of honest students: ``from
builtins import range`` (CS231n's template), ``__all__``, a parameter named ``input`` (the PyTorch
tutorial's ``LinearFunction``), an attribute that shares a forbidden function's name
(``ctx.softmax = s``), a helper class's own ``backward`` method, prints, and anything inside
``if __name__ == "__main__":`` (never run by the grader, so never scanned).
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

ALLOWED_IMPORTS = ("torch", "math", "numpy", "typing", "__future__", "functools", "itertools", "collections",
                   "dataclasses", "abc", "numbers", "operator", "enum", "builtins", "copy", "random", "warnings")

# Autograd, anywhere in a file whose backward is to be written by hand: a graph built in the forward
# (a Jacobian or a vjp kept for backward) computes the answer as surely as one built in the backward.
# Subclassing torch.autograd.Function, the ctx API and once_differentiable stay allowed.
AUTOGRAD_FORBIDDEN = ("torch.autograd.grad", "torch.autograd.backward", "torch.autograd.functional",
                      "torch.autograd.forward_ad", "torch.autograd.graph", "torch.autograd.gradcheck",
                      "torch.autograd.Variable", "torch.func", "torch.enable_grad", "torch.set_grad_enabled",
                      "torch.autograd.grad_mode", "torch.autograd.enable_grad", "torch.autograd.set_grad_enabled",
                      "torch.nn.grad")
AUTOGRAD_METHODS = ("backward", "requires_grad_", "register_hook")  # called on a tensor
AUTOGRAD_ATTRIBUTES = ("grad_fn", "next_functions", "_execution_engine")  # the graph itself
BACKWARD_FORBIDDEN = ("torch.vmap",)  # fine in a forward; in a backward, a way around writing it

_REVIEW_CALLS = {"exec", "eval", "compile", "__import__", "open", "globals", "locals", "vars", "breakpoint", "input",
                 "getattr", "setattr", "delattr"}
_REVIEW_ATTRIBUTES = {"_getframe", "f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
                      "ag_frame", "co_code", "modules"}
_ALLOWED_DUNDERS = {"__init__", "__name__", "__doc__", "__future__", "__all__", "__version__", "__author__",
                    "__slots__"}
_REVIEW_TORCH = ("torch._", "torch.ops", "torch.overrides", "torch.utils", "torch.library", "torch.testing",
                 "torch.multiprocessing", "torch.hub", "torch.load", "torch.save", "torch.cuda.memory")
_REVIEW_DEFINITIONS = {"__torch_function__", "__torch_dispatch__", "__eq__", "__bool__", "__getattr__",
                       "__getattribute__", "__del__", "__reduce__", "__reduce_ex__", "__setstate__", "__class_getitem__"}
_STANDARD_MODULES = frozenset(getattr(sys, "stdlib_module_names", ())) | {"os", "sys", "builtins", "ctypes", "importlib",
                                                                         "signal", "threading", "subprocess", "io"}
_DYNAMIC_ACCESS = {"operator.attrgetter", "operator.methodcaller", "functools.reduce.__globals__"}
MAX_SOURCE_BYTES = 1 << 20


@dataclass(frozen=True)
class Finding:
    line: int
    message: str
    kind: str  # "forbidden" or "review"
    scope: str | None = None  # the top-level function or class it is in; None at module level

    def describe(self, filename: str) -> str:
        return f"{filename}, line {self.line}: {self.message}"


def scan_file(path: Path, forbid: Iterable[str] = (), allow_imports: Iterable[str] = (),
              backward: str = "backward", entries: Iterable[str] | None = None) -> list[Finding]:
    """Findings for the file at `path` (none when it is missing or does not parse: loading reports that)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if len(data) > MAX_SOURCE_BYTES:
        return [Finding(1, f"the file is {len(data)} bytes long (more than {MAX_SOURCE_BYTES})", "review")]
    return scan_source(data, forbid, allow_imports, backward, entries)


def scan_source(source: str | bytes, forbid: Iterable[str] = (), allow_imports: Iterable[str] = (),
                backward: str = "backward", entries: Iterable[str] | None = None) -> list[Finding]:
    """`backward`: the name of the function (or Function method) that must compute its gradients
    without autograd: "backward", or the backward function of the functional and numpy styles.

    `entries`: the exercise's own class or functions, where one file serves several exercises
    (CS231n's layers.py): a finding inside a top-level function or class counts only where the
    exercise's entries reach it (calling it, directly or through helpers); one at module level
    counts for every exercise that reads the file."""
    tree = _parse(source)
    if tree is None:
        return []
    scanner = _Scanner(tuple(forbid), tuple(ALLOWED_IMPORTS) + tuple(allow_imports), backward)
    scanner.prepare(tree)
    scanner.visit(tree)
    findings = sorted(set(scanner.findings), key=lambda f: (f.line, f.message))
    if entries is None:
        return findings
    reached = reachable(tree, entries)
    return [f for f in findings if f.scope is None or f.scope in reached]


@functools.lru_cache(maxsize=64)
def _parse_cached(source: bytes) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _parse(source: str | bytes) -> ast.Module | None:
    """The file's syntax tree, parsed once however many exercises read it (None if it does not parse)."""
    return _parse_cached(source.encode() if isinstance(source, str) else source)


def reachable(tree: ast.Module, entries: Iterable[str]) -> set[str]:
    """The top-level functions and classes that `entries` use, directly or through each other."""
    definitions = {node.name: node for node in tree.body
                   if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    uses = {name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in definitions}
            for name, node in definitions.items()}
    reached: set[str] = set()
    pending = [name for name in entries if name in definitions]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(uses[name] - reached)
    return reached


def _leaf(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_main_guard(test: ast.expr) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def _bound_names(node: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names a function (its parameters and what its body assigns) or a module binds: a builtin's
    name bound there (a parameter called `input`) is the student's own, not the builtin."""
    bound: set[str] = set()
    if not isinstance(node, ast.Module):
        arguments = node.args
        bound |= {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        bound |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    pending: list[ast.AST] = list(node.body)
    while pending:  # this scope only: a nested function's names are its own
        child = pending.pop()
        if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            bound.add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(child.name)
            continue
        elif isinstance(child, ast.Lambda):
            continue
        pending.extend(ast.iter_child_nodes(child))
    return bound


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


def _is_function_class(node: ast.ClassDef) -> bool:
    return any(isinstance(base, (ast.Name, ast.Attribute)) and ast.unparse(base).split(".")[-1] == "Function"
               for base in node.bases)


class _Scanner(ast.NodeVisitor):
    def __init__(self, forbid: tuple[str, ...], allowed_imports: tuple[str, ...], backward: str = "backward"):
        self.forbid = forbid
        self.backward = backward
        self.forbid_leaves = {_leaf(f): f for f in forbid}
        self.allowed_imports = allowed_imports
        self.aliases: dict[str, str] = {}
        self.findings: list[Finding] = []
        self.function_stack: list[str] = []
        self.scopes: list[set[str]] = []  # names bound by the module and each enclosing function
        self.called: set[int] = set()  # ids of the expressions that are called
        self.own_attributes: set[str] = set()  # attribute names the file assigns (ctx.softmax = s)
        self.own_methods: set[str] = set()  # methods of the file's own classes other than autograd Functions
        self.top_level: list[tuple[str, int, int]] = []  # (name, first line, last line) of each definition

    def prepare(self, tree: ast.Module) -> None:
        """What the whole file says about its own names, before any finding is made."""
        self.scopes = [_bound_names(tree)]
        self.top_level = [(node.name, _first_line(node), node.end_lineno or node.lineno) for node in tree.body
                          if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.called.add(id(node.func))
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                self.own_attributes.add(node.attr)
            elif isinstance(node, ast.ClassDef) and not _is_function_class(node):
                self.own_methods |= {item.name for item in node.body
                                     if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def _bound(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    # --------------------------------------------------------------- helpers
    def _add(self, node: ast.AST, message: str, kind: str) -> None:
        line = getattr(node, "lineno", 1)
        scope = next((name for name, first, last in self.top_level if first <= line <= last), None)
        self.findings.append(Finding(line, message, kind, scope))

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name an expression stands for, through import aliases; None if it is no name."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        base = self.aliases.get(node.id)
        if base is None:
            return None
        return ".".join([base] + list(reversed(parts)))

    @property
    def in_backward(self) -> bool:
        return self.backward in self.function_stack

    def _check_import(self, node: ast.AST, module: str) -> None:
        if not any(_matches(module, allowed) for allowed in self.allowed_imports):
            self._add(node, f"imports {module}, which a backprop exercise does not need", "review")

    def _check_name(self, node: ast.AST, name: str) -> None:
        if ".torch." in name:  # torch.nn.functional.torch is torch itself: judge the name it stands for
            name = "torch." + name.rsplit(".torch.", 1)[1]
        for banned in self.forbid:
            if _matches(name, banned) or (name.startswith("torch.") and _leaf(name) in self.forbid_leaves
                                          and name.count(".") <= 3 and _leaf(name) == _leaf(banned)):
                self._add(node, f"uses {name}, which this exercise forbids ({banned}): write it yourself", "forbidden")
                return
        for banned in AUTOGRAD_FORBIDDEN:
            if _matches(name, banned):
                self._add(node, f"uses {name}: autograd is not allowed anywhere in this exercise; compute the "
                                "gradients by hand", "forbidden")
                return
        if name.startswith("torch.") and "backward" in _leaf(name):
            self._add(node, f"uses {name}, one of torch's own backward kernels: compute the gradients by hand",
                      "forbidden")
            return
        if self.in_backward:
            for banned in BACKWARD_FORBIDDEN:
                if _matches(name, banned):
                    self._add(node, f"{self.backward} uses {name}: compute the gradients by hand, without autograd",
                              "forbidden")
                    return
        if name.startswith("builtins.") and _leaf(name) in _REVIEW_CALLS:
            self._add(node, f"uses {name}, which a backprop exercise does not need", "review")
            return
        for risky in _REVIEW_TORCH:
            if name.startswith(risky) and name != "torch.__version__":
                self._add(node, f"uses {name}, which a backprop exercise does not need", "review")
                return
        parts = name.split(".")
        if parts[0] == "torch" and any(p.startswith("_") and not (p.startswith("__") and p.endswith("__"))
                                       for p in parts[1:]):
            self._add(node, f"uses {name}, torch's private API, which a backprop exercise does not need", "review")
            return
        if parts[0] == "torch" and len(parts) > 1 and parts[1] in _STANDARD_MODULES:
            self._add(node, f"uses {name}: the standard module {parts[1]} as torch re-exports it, which a "
                            "backprop exercise does not need", "review")
            return
        if name in _DYNAMIC_ACCESS:
            self._add(node, f"uses {name}, attribute access by string, which a backprop exercise does not need",
                      "review")

    # --------------------------------------------------------------- visitors
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_import(node, alias.name)
            self._check_name(node, alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                self.aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self._add(node, "uses a relative import; the submission is graded as a single file", "review")
            return
        self._check_import(node, module)
        for alias in node.names:
            if alias.name == "*":
                # `from cs231n.layers import *` is how CS231n's own files use its helpers; names from
                # torch that way would hide what the source check must see
                if module.split(".")[0] == "torch" or not any(_matches(module, a) for a in self.allowed_imports):
                    self._add(node, f"imports * from {module}; import the names you use", "review")
                continue
            full = f"{module}.{alias.name}"
            self.aliases[alias.asname or alias.name] = full
            self._check_name(node, full)

    def visit_Assign(self, node: ast.Assign) -> None:
        target = self.resolve(node.value)
        for t in node.targets:
            if isinstance(t, ast.Name) and target is not None:
                self.aliases[t.id] = target
            patched = self.resolve(t) if isinstance(t, ast.Attribute) else None
            if patched is not None:
                self._add(node, f"assigns to {patched}: a submission may not change the libraries it uses", "review")
        self.generic_visit(node)

    def _visit_function(self, node) -> None:
        if node.name in _REVIEW_DEFINITIONS:
            self._add(node, f"defines {node.name}, which a backprop exercise does not need", "review")
        self.function_stack.append(node.name)
        self.scopes.append(_bound_names(node))
        self.generic_visit(node)
        self.scopes.pop()
        self.function_stack.pop()

    def visit_If(self, node: ast.If) -> None:
        if _is_main_guard(node.test):
            for statement in node.orelse:  # the self-test under the guard never runs in the grader
                self.visit(statement)
            return
        self.generic_visit(node)

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self.resolve(node)
        if name is not None:
            self._check_name(node, name)
        elif (id(node) in self.called and node.attr in self.forbid_leaves
              and node.attr not in self.own_attributes | self.own_methods):
            banned = self.forbid_leaves[node.attr]
            self._add(node, f"uses .{node.attr}, which this exercise forbids ({banned}): write it yourself",
                      "forbidden")
        elif (id(node) in self.called and node.attr in AUTOGRAD_METHODS
              and node.attr not in self.own_methods | self.own_attributes):
            self._add(node, f"calls .{node.attr}(): autograd is not allowed anywhere in this exercise; compute the "
                            "gradients by hand", "forbidden")
        elif node.attr in AUTOGRAD_ATTRIBUTES and node.attr not in self.own_attributes:
            self._add(node, f"uses .{node.attr}, the autograd graph: compute the gradients by hand", "forbidden")
        if node.attr in _REVIEW_ATTRIBUTES or (node.attr.startswith("__") and node.attr not in _ALLOWED_DUNDERS):
            self._add(node, f"uses .{node.attr}, which a backprop exercise does not need", "review")
        if name is None:  # the chain's own parts are checked once, from the outermost attribute
            self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in _REVIEW_CALLS and node.id not in self.aliases and not self._bound(node.id):
            self._add(node, f"uses {node.id}, which a backprop exercise does not need", "review")
        elif node.id.startswith("__") and node.id not in _ALLOWED_DUNDERS:
            self._add(node, f"uses {node.id}, which a backprop exercise does not need", "review")
        else:
            name = self.resolve(node)
            if name is not None and name != node.id:
                self._check_name(node, name)
