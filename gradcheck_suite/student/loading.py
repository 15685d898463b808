"""Loading a student's file: the module, then their class or functions as an autograd.Function."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Sequence

import torch

from ..errors import StudentCodeError
from .failures import located
from .styles import AUTOGRAD_FUNCTION, LOSS, Style, function_adapter, loss_adapter
from .support import install as install_support


def load_student(path: Path, style: Style, support: Sequence[Path] = ()) -> type[torch.autograd.Function]:
    """The student's operation as a torch.autograd.Function: their class, or an adapter around
    their two functions. StudentCodeError (naming the file and what is missing) when it cannot be.
    `support`: the course's modules the file may import."""
    install_support(support)
    if style.kind == AUTOGRAD_FUNCTION:
        return load_function(path, style.name)  # the class name (Style.name of this style)
    return operation_of(load_module(path), path.name, style)


def operation_of(module: ModuleType, where: str, style: Style) -> type[torch.autograd.Function]:
    """The operation the exercise asks for, taken from an imported module (or a notebook's
    namespace made into one): `where` names it in messages ("linear.py", "your notebook")."""
    if style.kind == AUTOGRAD_FUNCTION:
        return function_class(module, where, style.name)
    if style.kind == LOSS:
        return loss_adapter(student_function(module, where, style.functions[0], style), style)
    forward, backward = (student_function(module, where, name, style) for name in style.functions)
    return function_adapter(forward, backward, style)


def student_function(module: ModuleType, where: str, name: str, style: Style) -> Callable:
    value = getattr(module, name, None)
    if value is None:
        functions = public_names(module, inspect.isfunction)
        classes = public_names(module, is_function_class)
        text = f"{where} defines no function {name!r}" + (f" (it defines: {', '.join(functions)})" if functions else "")
        if classes:
            text += (f"; this exercise asks for {_what(style)}, {style.signatures()}, "
                     f"not a torch.autograd.Function class ({', '.join(classes)})")
        raise StudentCodeError(text)
    if isinstance(value, type) or not callable(value):
        kind = "a class" if isinstance(value, type) else type(value).__name__
        raise StudentCodeError(f"{name} in {where} must be a function, not {kind}: this exercise asks for "
                               f"{_what(style)}, {style.signatures()}")
    return value


def _what(style: Style) -> str:
    return "one function" if style.kind == LOSS else "two functions"


def is_function_class(value) -> bool:
    return isinstance(value, type) and issubclass(value, torch.autograd.Function)



def load_module(path: Path) -> ModuleType:
    """Import the student's file under a private module name; StudentCodeError when it cannot."""
    if not path.is_file():
        raise StudentCodeError(f"{path.name} not found in {path.parent}")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    module_name = f"_gradcheck_student_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None  # a .py file (the exercise schema asks for one)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        code = f": {exc.text.strip()}" if exc.text else ""
        raise StudentCodeError(f"{path.name}, line {exc.lineno}: SyntaxError: {exc.msg}{code}") from None
    except Exception as exc:  # noqa: BLE001 - any failure at import is the student's to fix
        where = located(exc, path)
        raise StudentCodeError(
            f"importing {path.name} raised {type(exc).__name__}: {exc}" + (f"\n  at {where}" if where else "")
        ) from None
    finally:
        if sys.path and sys.path[0] == str(path.parent):
            sys.path.pop(0)
    return module


def load_function(path: Path, class_name: str) -> type[torch.autograd.Function]:
    """The student's torch.autograd.Function subclass (the autograd_function style)."""
    return function_class(load_module(path), path.name, class_name)


def function_class(module: ModuleType, where: str, class_name: str) -> type[torch.autograd.Function]:
    cls = getattr(module, class_name, None)
    if cls is None:
        found = public_names(module, lambda v: isinstance(v, type))
        functions = public_names(module, inspect.isfunction)
        text = f"{where} defines no class {class_name!r}" + (f" (it defines: {', '.join(found)})" if found else "")
        if functions and not found:
            text += (f" (it defines only functions: {', '.join(functions)}); this exercise asks for a "
                     f"torch.autograd.Function subclass named {class_name}")
        raise StudentCodeError(text)
    if not (isinstance(cls, type) and issubclass(cls, torch.autograd.Function)):
        raise StudentCodeError(f"{class_name} in {where} must be a subclass of torch.autograd.Function")
    return cls


def public_names(module: ModuleType, kind: Callable[[object], bool]) -> list[str]:
    """The sorted public names of values of a kind defined in the module itself (for messages)."""
    return sorted(n for n, v in vars(module).items()
                  if kind(v) and not n.startswith("_") and getattr(v, "__module__", None) == module.__name__)
