"""The dependency rule: api -> ledger areas -> ledger.store -> ledger.core, never upwards."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# One package per area (docs/ARCHITECTURE.md): between the store and the documents.
AREAS = (
    "ledger.access",
    "ledger.funds",
    "ledger.grants",
    "ledger.households",
    "ledger.income",
    "ledger.livestock",
    "ledger.outcomes",
    "ledger.people",
    "ledger.reconcile",
    "ledger.savings",
    "ledger.training",
)
# Above the areas, below the api.
OUTER = ("ledger.demo", "ledger.export", "ledger.intake", "ledger.reports", "ledger.verify")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(package: str) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): _imports(path) for path in (ROOT / package).rglob("*.py")}


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in _modules(package).items()
        for name in sorted(names)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_ledger_never_imports_the_web_layer() -> None:
    assert _offenders("ledger", ("api", "litestar", "msgspec", "uvicorn")) == []


def test_core_is_standard_library_only() -> None:
    allowed_prefixes = ("ledger.core", "__future__")
    offenders = []
    import sys

    for module, names in _modules("ledger/core").items():
        for name in names:
            top = name.split(".")[0]
            if name.startswith(allowed_prefixes) or top in sys.stdlib_module_names:
                continue
            offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_every_area_is_listed() -> None:
    packages = {f"ledger.{path.parent.name}" for path in (ROOT / "ledger").glob("*/__init__.py")}
    assert packages - {"ledger.core", "ledger.store"} == {*AREAS, *OUTER} - {"ledger.verify"}


def test_store_does_not_import_areas_exports_or_reports() -> None:
    assert _offenders("ledger/store", (*AREAS, *OUTER)) == []


def test_areas_do_not_import_exports_reports_or_demo() -> None:
    for area in AREAS:
        assert _offenders(area.replace(".", "/"), OUTER) == []


def test_reports_never_import_personal_data() -> None:
    """Printed documents name households by case code: the contacts are out of their reach."""
    forbidden = ("ledger.people", "ledger.demo")
    assert _offenders("ledger/reports", forbidden) == []


def test_api_holds_no_sql() -> None:
    assert _offenders("api", ("sqlalchemy.sql", "sqlalchemy.orm")) == []
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for keyword in ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"):
            assert keyword not in text, f"{path.name} has SQL"
