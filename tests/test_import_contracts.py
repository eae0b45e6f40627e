"""The import contracts bite: on a copy of the tree, one import that breaks a contract makes
`lint-imports` fail and name that contract and that import.

The contracts are in `pyproject.toml` (`[tool.importlinter]`), explained in
docs/ARCHITECTURE.md. Each violation is added to a package's `__init__.py` and names a
package, so that it does not depend on how the modules inside are split.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

LAYERS = "Layers point down: api -> ledger areas -> ledger.store -> ledger.core"
AREAS = "Areas import another area only through its rules module or a public module"
REVERSE_ROUTE = "The generic reverse route leaves reversals to the areas that own them"
NO_WEB = "The domain never imports the web framework"
CORE = "The core is standard library only"
REPORTS = "Reports never import personal data themselves"


@dataclass(frozen=True)
class Violation:
    contract: str
    importer: str  # a module of the copy: its file gets the import
    imported: str

    @property
    def path(self) -> Path:
        parts = self.importer.split(".")
        package = Path(*parts)
        if (ROOT / package).is_dir():
            return package / "__init__.py"
        return package.with_suffix(".py")


VIOLATIONS = (
    # An area reaching up into the printed documents.
    Violation(LAYERS, "ledger.training", "ledger.reports"),
    # The store reaching up into an area.
    Violation(LAYERS, "ledger.store", "ledger.savings"),
    # An area reaching into another area past its rules and public modules.
    Violation(AREAS, "ledger.income", "ledger.grants"),
    Violation(REVERSE_ROUTE, "api.controllers.transactions", "ledger.grants"),
    Violation(NO_WEB, "ledger.store", "litestar"),
    Violation(CORE, "ledger.core", "sqlalchemy"),
    # Not even another package of the ledger.
    Violation(CORE, "ledger.core", "ledger.export"),
    Violation(REPORTS, "ledger.reports", "ledger.people"),
)


def _copy_tree(destination: Path) -> Path:
    for name in ("ledger", "api"):
        shutil.copytree(
            ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on `tree`, which imports its own copies of `ledger` and `api`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_contract_has_a_violation_here() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {contract["name"] for contract in config["tool"]["importlinter"]["contracts"]}
    assert names == {violation.contract for violation in VIOLATIONS}


def test_the_tree_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint_imports(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    "violation", VIOLATIONS, ids=[f"{v.importer}->{v.imported}" for v in VIOLATIONS]
)
def test_one_bad_import_breaks_its_contract(tmp_path: Path, violation: Violation) -> None:
    tree = _copy_tree(tmp_path)
    with (tree / violation.path).open("a", encoding="utf-8") as module:
        module.write(f"\nimport {violation.imported}  # breaks: {violation.contract}\n")
    result = _lint_imports(tree)
    assert result.returncode != 0, result.stdout
    assert f"{violation.contract} BROKEN" in result.stdout, result.stdout
    # The report names the import that was added (as the first link of a chain, if indirect).
    assert f"{violation.importer} -> {violation.imported}" in result.stdout, result.stdout
