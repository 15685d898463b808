"""A Jupyter notebook (.ipynb) as the student's Python file: its code cells, in order.

Only the cells tagged `gradcheck` are kept when any cell carries that tag (so the instructor's
data-loading and plotting cells stay out), else every code cell. What only IPython understands is
taken out: a cell magic (a cell starting with `%%`) drops its whole cell; a line magic (`%...`), a
shell line (`!...`), their assigned forms (`files = !ls`) and help requests (`torch.erf?`) become `pass`, so an indented block
around one stays valid Python. Each cell is preceded by a comment naming its number, so that a
line in an error message can be found in the notebook. Plain JSON parsing: nbformat is not needed.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path
from typing import Iterable

from ..errors import StudentCodeError

__all__ = ["NOTEBOOK_SUFFIX", "TAG", "notebook_source", "source_of_cells", "write_student_files"]

NOTEBOOK_SUFFIX = ".ipynb"
TAG = "gradcheck"
# a magic or shell line, its assigned form (`files = !ls`), or a help request (`?torch.erf`, `torch.erf??`)
_IPYTHON_LINE = re.compile(r"^(?P<indent>\s*)(?:[%!?]|[A-Za-z_][\w.,\s]*=\s*[%!]|[\w.]+\?{1,2}\s*$)")


def notebook_source(path: Path) -> str:
    """The Python source the notebook at `path` makes; StudentCodeError naming the file when it is
    no notebook."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise StudentCodeError(f"{path}: cannot read the notebook ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise StudentCodeError(f"{path}: not a Jupyter notebook (expected JSON: {exc})") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise StudentCodeError(f"{path}: not a Jupyter notebook (expected a JSON object with a list of 'cells')")
    return source_of_cells(cells)


def write_student_files(notebook: Path, names: Iterable[str], folder: Path) -> list[Path]:
    """The notebook's source written to `folder` under each of `names` (the student's file of every
    exercise graded: one notebook answers them all); returns the files written."""
    source = notebook_source(notebook)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in dict.fromkeys(names):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"# made by gradcheck-suite from {Path(notebook).name}\n" + source, encoding="utf-8")
        written.append(target)
    return written


def source_of_cells(cells: list[dict]) -> str:
    """The code cells (those tagged TAG where any is) as one Python source, IPython syntax removed."""
    numbered = [(number, cell) for number, cell in enumerate(cells, start=1) if cell.get("cell_type") == "code"]
    tagged = [(number, cell) for number, cell in numbered if TAG in _tags(cell)]
    chosen = tagged or numbered
    parts = []
    for number, cell in chosen:
        text = _text(cell.get("source", ""))
        if text.lstrip().startswith("%%"):
            parts.append(f"# cell {number}: a cell magic ({text.lstrip().splitlines()[0][:40]}), left out\n")
            continue
        lines: list[str] = []
        for line in text.splitlines():
            lines.append(line if _continues(lines) else _plain(line))
        parts.append(f"# cell {number}\n" + "\n".join(lines) + "\n")
    return "\n".join(parts)


def _plain(line: str) -> str:
    match = _IPYTHON_LINE.match(line)
    if match is None or _is_python(line):
        return line
    return f"{match['indent']}pass  # IPython-only line left out"


def _continues(previous: list[str]) -> bool:
    """Whether the next line continues a statement (inside brackets or a string): not a line of its own."""
    if not previous:
        return False
    try:
        for _ in tokenize.generate_tokens(io.StringIO("\n".join(previous) + "\n").readline):
            pass
    except (tokenize.TokenError, SyntaxError):  # EOF in a multi-line statement or string
        return True
    return False


def _is_python(line: str) -> bool:
    """`x = !y` is IPython, but `x != y` and `a % b` lines are Python: a line that compiles stays."""
    try:
        compile(line.strip(), "<cell>", "exec")
    except SyntaxError:
        return False
    return True


def _tags(cell: dict) -> list[str]:
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _text(source: object) -> str:
    """A cell's source: one string, or (as nbformat writes it) a list of lines."""
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""
