"""YAML loading that remembers where each key and item came from, for error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import YamlSyntaxError


class LineDict(dict):
    """A mapping that knows the line of itself and of each of its keys (1-based)."""

    line: int | None = None
    key_lines: dict

    def line_of(self, key) -> int | None:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence that knows the line of itself and of each item (1-based)."""

    line: int | None = None
    item_lines: list

    def line_of(self, index: int) -> int | None:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


class _LineLoader(yaml.SafeLoader):
    """PyYAML's own parser, in Python: its error messages say what it found ("but got ':'")."""


# libyaml's parser where PyYAML was built with it: about 7 times faster on a course's files, with the
# same constructors; a file it refuses is parsed again by _LineLoader for the message.
_FastLineLoader: Any = type("_FastLineLoader", (yaml.CSafeLoader,), {}) if hasattr(yaml, "CSafeLoader") else _LineLoader

for _loader in dict.fromkeys((_LineLoader, _FastLineLoader)):
    # YAML 1.2 (what editors and JSON Schema tools use) reads 1e-5 as a number; PyYAML's YAML 1.1
    # would read it as the string "1e-5" and fail a tolerance with a baffling "got '1e-5'".
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
        list("-+0123456789."),
    )
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path):
    """Parse `path`; raise YamlSyntaxError with a line number when it is not valid YAML."""
    text = path.read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError:
        pass
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        raise YamlSyntaxError(line, f"not valid YAML: {problem}") from None
