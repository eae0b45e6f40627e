"""The README's walk-through as steps a test can run: its requests and the answers it shows.

The convention (README, "A walk through the main flows"): in the sections named in
`WALKTHROUGH_SECTIONS`, every fenced ```sh block is run, in order, by bash, with `curl` from
the machine. A step is one complete shell command (continued lines, quoted multi-line JSON
and `for … done` loops included). The `#` lines right below a step are the answer it shows:

- a problem's `"status":409` names the status; otherwise every request of the step must
  answer 2xx;
- every `"field":value` pair shown (a string, number, `true`, `false` or `null`; strings that
  contain `…` are shortened and skipped) must be in the answer, at any depth;
- an answer that is not JSON (a CSV, `verify`, `grep`) must contain each line shown, its
  parts around `…` in turn.

`NAME=value` steps set a variable for the steps after them, as the shell would.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WALKTHROUGH_SECTIONS = (
    "Signing in",
    "A walk through the main flows",
    "Grants:",
    "Savings groups:",
    "Trainings,",
    "Reconciliation,",
)
_FENCE_SH = "```sh"
_ASSIGNMENT_RE = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)", re.DOTALL)
_STATUS_RE = re.compile(r'"status":\s*([0-9]{3})')
_PAIR_RE = re.compile(
    r'"([A-Za-z_][A-Za-z0-9_]*)":\s*("(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?|null|true|false)'
)


@dataclass(frozen=True)
class Step:
    line: int  # where it starts in the README, 1-based: for a failure's message
    command: str
    shown: tuple[str, ...]  # the comment lines below it, without their "#"

    def assignment(self) -> tuple[str, str] | None:
        found = _ASSIGNMENT_RE.fullmatch(self.command)
        return None if found is None else (found.group(1), found.group(2))

    def status_shown(self) -> int | None:
        found = _STATUS_RE.search(" ".join(self.shown))
        return None if found is None else int(found.group(1))

    def pairs_shown(self) -> list[tuple[str, Any]]:
        text = " ".join(line.strip() for line in self.shown)
        pairs = []
        for key, value in _PAIR_RE.findall(text):
            if "…" not in value:
                pairs.append((key, json.loads(value)))
        return pairs


def _in_walkthrough(heading: str) -> bool:
    return heading.startswith(tuple(f"## {name}" for name in WALKTHROUGH_SECTIONS))


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    words = command.split()
    if words and words[0] == "for" and words[-1] != "done":
        return False
    try:
        shlex.split(command, comments=False)
    except ValueError:  # an open quote: the JSON goes on
        return False
    return True


def _block_steps(lines: list[tuple[int, str]]) -> Iterator[Step]:
    pending: list[str] = []
    start = 0
    steps: list[tuple[int, str, list[str]]] = []
    for number, line in lines:
        if not pending and line.lstrip().startswith("#"):
            if steps:
                steps[-1][2].append(line.lstrip()[1:])
            continue
        if not pending and not line.strip():
            continue
        if not pending:
            start = number
        pending.append(line)
        command = "\n".join(pending)
        if _complete(command):
            steps.append((start, command, []))
            pending = []
    assert not pending, f"README line {start}: an unfinished command"
    for start, command, shown in steps:
        yield Step(start, command, tuple(shown))


def readme_steps(readme: Path) -> list[Step]:
    """Every step of the walk-through sections, in order."""
    steps: list[Step] = []
    heading = ""
    block: list[tuple[int, str]] | None = None
    for number, line in enumerate(readme.read_text(encoding="utf-8").splitlines(), start=1):
        if block is not None:
            if line.startswith("```"):
                steps.extend(_block_steps(block))
                block = None
            else:
                block.append((number, line))
        elif line.startswith("## "):
            heading = line
        elif line.startswith(_FENCE_SH) and _in_walkthrough(heading):
            block = []
    return steps


def flatten_pairs(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, scalar) of a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, dict | list):
                yield from flatten_pairs(inner)
            else:
                yield key, inner
    elif isinstance(value, list):
        for inner in value:
            yield from flatten_pairs(inner)


def json_documents(text: str) -> list[Any] | None:
    """The JSON values printed one after another (a loop prints several); None if not JSON."""
    decoder = json.JSONDecoder()
    documents, at = [], 0
    text = text.strip()
    while at < len(text):
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return None
        documents.append(value)
        at = end
        while at < len(text) and text[at].isspace():
            at += 1
    return documents


def text_shown_missing(shown: tuple[str, ...], output: str) -> list[str]:
    """The parts of the lines shown that the output lacks (each line's parts in order)."""
    missing = []
    for line in shown:
        at = 0
        for part in (p.strip() for p in line.split("…")):
            if not part:
                continue
            found = output.find(part, at)
            if found < 0:
                missing.append(part)
            else:
                at = found + len(part)
    return missing
