"""The README's walk-through runs as written on a fresh database (convention: `readme_steps`).

A fresh server on loopback (`livelihood-ledger serve`'s uvicorn), a fresh database whose first
admin gets the README's one-time password through `LEDGER_ADMIN_PASSWORD`, and bash running
each step in a scratch directory (`.venv` and `tests/` linked from the repository), with `curl`
reporting each request's status on stderr. `$B` is the server's address, however the README
sets it; `livelihood-ledger` runs on the same database.

The answers shown are SQLite's, the embedded default. On PostgreSQL a refused write still
takes a number from its sequence, so later ids differ: there every step's status is checked,
and the fields shown only on SQLite.

`README_TRANSCRIPT=FILE` writes each step's status and output to FILE: the real answers, for
refreshing what the README shows after a change.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import ADMIN_PASSWORD_ENV, create_app
from api.auth import AuthSettings
from ledger.store.database import Database
from tests.api.conftest import TEST_SECRET_KEY
from tests.api.live_server import serving
from tests.api.readme_steps import (
    Step,
    flatten_pairs,
    json_documents,
    readme_steps,
    text_shown_missing,
)
from tests.conftest import TEST_DATABASE

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FIRST_ADMIN_PASSWORD = "ZO_B6khkDAEPj_OSDD4N"
STEP_SECONDS_MAX = 120
_STATUS_MARK = "README-STATUS "
# Every curl of a step prints its status on stderr; the output stays as the README shows it.
_CURL = f"curl() {{ command curl -w '%{{stderr}}{_STATUS_MARK}%{{http_code}}\\n' \"$@\"; }}\n"


@pytest.fixture
def server_url(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, FIRST_ADMIN_PASSWORD)
    url = db.engine.url.render_as_string(hide_password=False)
    app = create_app(url, auth=AuthSettings(secret_key=TEST_SECRET_KEY))
    with serving(app) as (host, port):
        yield f"http://{host}:{port}"


def _scratch(tmp_path: Path) -> Path:
    work = tmp_path / "walk"
    work.mkdir()
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "tests").symlink_to(ROOT / "tests")
    return work


def _run(
    step: Step, variables: dict[str, str], cwd: Path, env: dict[str, str]
) -> tuple[str, str, int]:
    script = _CURL + "".join(f"{k}={_quote(v)}\n" for k, v in variables.items()) + step.command
    done = subprocess.run(
        ["/bin/bash", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS_MAX,
        check=False,
    )
    return done.stdout, done.stderr, done.returncode


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _check(step: Step, output: str, errors: str, exit_code: int, fields: bool = True) -> list[str]:
    """What differs between the answer and what the README shows."""
    where = f"README line {step.line}"
    statuses = [int(s) for s in re.findall(rf"{_STATUS_MARK}([0-9]+)", errors)]
    problems = []
    if exit_code != 0:
        problems.append(f"{where}: exit {exit_code}: {errors[-500:]}")
    expected = step.status_shown()
    if expected is not None and statuses[-1:] != [expected]:
        problems.append(f"{where}: status {statuses}, the README shows {expected}: {output[:300]}")
    if expected is None and any(not 200 <= s < 300 for s in statuses):
        problems.append(f"{where}: status {statuses}: {output[:300]}")
    if not fields:
        return problems
    documents = json_documents(output)
    if documents is None or not documents:
        missing = text_shown_missing(step.shown, output)
        if missing:
            problems.append(f"{where}: not in the output {missing}: {output[:300]}")
        return problems
    actual = list(flatten_pairs(documents))
    for pair in step.pairs_shown():
        if pair not in actual:
            problems.append(f"{where}: {pair[0]}={pair[1]!r} not in {output[:400]}")
    return problems


def test_the_readme_walk_through_runs_as_written(
    server_url: str, db: Database, tmp_path: Path
) -> None:
    steps = readme_steps(README)
    assert len(steps) > 50, "the walk-through was not found"
    cwd = _scratch(tmp_path)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "LEDGER_SECRET_KEY": TEST_SECRET_KEY,
    }
    variables: dict[str, str] = {}
    problems: list[str] = []
    transcript: list[str] = []
    for step in steps:
        assignment = step.assignment()
        if assignment is not None and assignment[0] == "B":
            variables["B"] = server_url
            continue
        if assignment is not None:
            name, value = assignment
            output, errors, code = _run(
                Step(step.line, f"printf %s {value}", ()), variables, cwd, env
            )
            assert code == 0, f"README line {step.line}: {errors}"
            assert output, f"README line {step.line}: {name} is empty"
            variables[name] = output
            continue
        output, errors, code = _run(step, variables, cwd, env)
        transcript.append(f"--- README line {step.line}\n{errors}{output}\n")
        problems.extend(_check(step, output, errors, code, TEST_DATABASE == "sqlite"))
    if os.environ.get("README_TRANSCRIPT"):
        Path(os.environ["README_TRANSCRIPT"]).write_text("".join(transcript), encoding="utf-8")
    assert not problems, "\n".join(problems)
