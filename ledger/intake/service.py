"""Spreadsheet imports: a preview that lists every row's problems and changes nothing, then an
import that records every row or none.

Each row goes through the service of its kind (`ledger.intake.kinds`) in a savepoint of its
own, so that one bad row is reported with its row number and column and the others are still
checked; the preview rolls every row back, the import commits only when no row has a
problem. A file imported once (by the SHA-256 of its content) adds nothing the second time,
and a row already recorded (by its natural key: a case code, a group and member number...)
is counted, not recorded again.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, select

from ledger.core.errors import LedgerError, LedgerRejected, invalid, not_found
from ledger.intake.kinds import KINDS, Column, Kind, cell_value
from ledger.intake.sheets import Cell, Row, read_rows
from ledger.store.books import utc_now
from ledger.store.tables import imports

KIND_NOT_FOUND = not_found("import_kind_not_found", "Nothing of this kind can be imported.", "kind")


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # as the spreadsheet numbers it
    column: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an import did, or (preview) would do."""

    kind: str
    content_sha256: str
    rows: int
    added: int
    already_present: int
    problems: tuple[RowProblem, ...]
    already_imported: bool  # this very file was imported before: nothing is done again
    import_id: int | None = None


def get_kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise LedgerRejected([KIND_NOT_FOUND])
    return kind


def _header_names(cells: Sequence[Cell]) -> list[str]:
    return [str(c).strip() if c is not None else "" for c in cells]


def _is_header(cells: Sequence[Cell], kind: Kind) -> bool:
    names = set(_header_names(cells)) - {""}
    known = {c.header_en for c in kind.columns} | {c.header_km for c in kind.columns}
    return bool(names) and names <= known


def _layout(rows: list[Row], kind: Kind) -> tuple[dict[str, int], list[Row]]:
    """Which position holds each column, and the data rows: the first row is a header row
    (Khmer or English names), and so may be the second (the template has both)."""
    if not _is_header(rows[0].cells, kind):
        raise LedgerRejected(
            [invalid("header_missing", "The first row names the columns, as the template does.")]
        )
    first_data = 2 if len(rows) > 1 and _is_header(rows[1].cells, kind) else 1
    names = _header_names(rows[0].cells)
    positions: dict[str, int] = {}
    for column in kind.columns:
        found = [i for i, n in enumerate(names) if n in (column.header_en, column.header_km)]
        if len(found) > 1:
            raise LedgerRejected(
                [invalid("column_repeated", "A column is named twice.", column.key)]
            )
        if found:
            positions[column.key] = found[0]
        elif column.required:
            raise LedgerRejected([invalid("column_missing", "A column is missing.", column.key)])
    return positions, rows[first_data:]


def _values(row: Row, kind: Kind, positions: dict[str, int]) -> dict[str, Any] | list[LedgerError]:
    values: dict[str, Any] = {}
    errors: list[LedgerError] = []
    for column in kind.columns:
        position = positions.get(column.key)
        cell = row.cells[position] if position is not None and position < len(row.cells) else None
        value = cell_value(cell, column)
        if isinstance(value, LedgerError):
            errors.append(value)
        else:
            values[column.key] = value
    return errors or values


def _problems(row: Row, errors: Sequence[LedgerError], kind: Kind) -> list[RowProblem]:
    columns = {c.key for c in kind.columns}
    return [RowProblem(row.number, _column_of(e.field, columns), e.code, e.message) for e in errors]


def _column_of(field: str | None, columns: set[str]) -> str | None:
    """The column a service's error names (its field, or the field's first part)."""
    if field is None:
        return None
    head = field.split(".", 1)[0].split("[", 1)[0]
    return head if head in columns else None


def _apply(
    conn: Connection, kind: Kind, rows: list[Row], today: datetime.date, user: str | None
) -> tuple[int, int, list[RowProblem]]:
    """Record every row in a savepoint of its own: (added, already present, problems)."""
    positions, data = _layout(rows, kind)
    added = present = 0
    problems: list[RowProblem] = []
    seen: dict[tuple[Any, ...], int] = {}
    for row in data:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in row.cells):
            continue
        values = _values(row, kind, positions)
        if isinstance(values, list):
            problems += _problems(row, values, kind)
            continue
        key = kind.key(values)
        if key in seen:
            problems.append(_repeated(row, seen[key]))
            continue
        seen[key] = row.number
        if kind.present(conn, values):
            present += 1
            continue
        savepoint = conn.begin_nested()
        try:
            kind.record(conn, values, today, user)
            savepoint.commit()
            added += 1
        except LedgerRejected as rejected:
            savepoint.rollback()
            problems += _problems(row, rejected.errors, kind)
    return added, present, problems


def _repeated(row: Row, first: int) -> RowProblem:
    return RowProblem(
        row.number, None, "row_repeated", f"This row names what row {first} names already."
    )


def _previous(conn: Connection, kind: Kind, digest: str) -> Any:
    return conn.execute(
        select(imports).where(and_(imports.c.kind == kind.name, imports.c.content_sha256 == digest))
    ).first()


def _replayed(kind: Kind, digest: str, previous: Any) -> Outcome:
    return Outcome(
        kind=kind.name,
        content_sha256=digest,
        rows=previous.rows,
        added=0,
        already_present=previous.rows,
        problems=(),
        already_imported=True,
        import_id=previous.id,
    )


def preview(
    conn: Connection, kind_name: str, content: bytes, today: datetime.date, user: str | None
) -> Outcome:
    """What importing `content` would do, with every row's problems; nothing is kept."""
    kind = get_kind(kind_name)
    rows = read_rows(content)
    digest = hashlib.sha256(content).hexdigest()
    previous = _previous(conn, kind, digest)
    if previous is not None:
        return _replayed(kind, digest, previous)
    savepoint = conn.begin_nested()
    try:
        added, present, problems = _apply(conn, kind, rows, today, user)
    finally:
        savepoint.rollback()
    return Outcome(
        kind.name,
        digest,
        added + present + _row_count(problems),
        added,
        present,
        tuple(problems),
        False,
    )


def _row_count(problems: Sequence[RowProblem]) -> int:
    return len({p.row for p in problems})


def import_file(
    conn: Connection,
    kind_name: str,
    content: bytes,
    file_name: str,
    today: datetime.date,
    user: str | None,
) -> Outcome:
    """Record every row of `content`, or none: refused with every row's problems."""
    kind = get_kind(kind_name)
    rows = read_rows(content)
    digest = hashlib.sha256(content).hexdigest()
    previous = _previous(conn, kind, digest)
    if previous is not None:
        return _replayed(kind, digest, previous)
    added, present, problems = _apply(conn, kind, rows, today, user)
    if problems:
        raise LedgerRejected(
            [
                LedgerError(p.code, p.message, f"rows[{p.row}].{p.column or 'row'}", "invalid")
                for p in problems
            ]
        )
    import_id = conn.execute(
        insert(imports)
        .values(
            kind=kind.name,
            content_sha256=digest,
            file_name=file_name,
            rows=added + present,
            added=added,
            already_present=present,
            created_at=utc_now(),
            created_by=user,
        )
        .returning(imports.c.id)
    ).scalar_one()
    return Outcome(kind.name, digest, added + present, added, present, (), False, import_id)


def template_columns(kind_name: str) -> tuple[Column, ...]:
    return get_kind(kind_name).columns
