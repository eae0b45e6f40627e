"""Short functions: none in `ledger/` or `api/` runs over 70 lines.

A function is counted from its `def` line to its last line (decorators aside, docstring and
comments included). A function that is long by nature (a table definition, say) may be
longer when its `def` line says why: `def define_tables() -> None:  # long: one table a block`.
Tests and migrations are not held to it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ledger", "api")
FUNCTION_LINES_MAX = 70
_LONG_REASON_RE = re.compile(r"#\s*long:\s*\S")


def function_lengths(path: Path) -> list[tuple[str, int, int]]:
    """(qualified name, first line, number of lines) of every function in `path`, nested
    ones and methods included, but for those whose def line gives a reason to be long."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                assert child.end_lineno is not None
                length = child.end_lineno - child.lineno + 1
                if not _LONG_REASON_RE.search(lines[child.lineno - 1]):
                    found.append((name.rstrip("."), child.lineno, length))
            visit(child, name)

    visit(ast.parse(source), "")
    return found


def test_no_function_is_longer_than_70_lines() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}:{line} {name} ({length} lines)"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for name, line, length in function_lengths(path)
        if length > FUNCTION_LINES_MAX
    ]
    assert too_long == [], "\n".join(too_long)


def test_a_reason_on_the_def_line_lets_a_function_be_long(tmp_path: Path) -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(FUNCTION_LINES_MAX))
    module = tmp_path / "tables.py"
    module.write_text(
        f"def define_tables() -> None:  # long: one table a block\n{body}"
        f"class Store:\n    def read(self) -> None:\n{body.replace('    ', '        ')}",
        encoding="utf-8",
    )
    assert function_lengths(module) == [("Store.read", FUNCTION_LINES_MAX + 3, 71)]
