"""Bank statements and matching, in pure code: no database.

- `parse_statement` reads a bank's CSV export through a `ColumnMapping` into `StatementLine`s,
  or returns every problem found as data (missing columns, bad dates, amounts with commas or
  currency symbols in the wrong place, another currency than the account's, a running
  balance that does not add up). It refuses what it cannot read exactly; it never guesses.
- `fingerprint_lines` gives each line a fingerprint, so importing the same file twice, or
  two statements that overlap, stores each line once.
- `propose_matches` pairs statement lines with the account's postings: the same amount,
  dates within a window, then the most similar reference or description; one line to one
  posting first, then one line to several postings and several lines to one posting.
"""

from __future__ import annotations

import bisect
import csv
import datetime
import hashlib
import io
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.core.amount import parse_units
from ledger.core.errors import LedgerError, invalid
from ledger.core.text import has_forbidden_character
from ledger.core.transaction import Posting, Transaction

# Limits on an imported statement (see docs/ACCOUNTING.md, "Reconciliation").
STATEMENT_BYTES_MAX = 5 * 1024 * 1024
STATEMENT_LINES_MAX = 20_000
STATEMENT_LINE_LENGTH_MAX = 2_000  # characters in one CSV row
STATEMENT_HEADER_ROW_MAX = 20  # preamble rows a bank prints before the column headings
DESCRIPTION_LENGTH_MAX = 500
REFERENCE_LENGTH_MAX = 100
ERRORS_REPORTED_MAX = 20  # a file with a thousand bad rows is described by its first ones
DATE_WINDOW_DAYS_DEFAULT = 5
DATE_WINDOW_DAYS_MAX = 31
MATCH_SIDE_MAX = 50  # lines or postings in one match
# How many candidates one side may have before combinations are not tried (2 and 3 at a time).
COMBINATION_CANDIDATES_MAX = 12
COMBINATION_SIZE_MAX = 3

DATE_FORMATS = {
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD/MM/YYYY": "%d/%m/%Y",
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD-MM-YYYY": "%d-%m-%Y",
    "DD-Mon-YYYY": "%d-%b-%Y",
    "DD Mon YYYY": "%d %b %Y",
}
# Symbols a bank prints before an amount, and the currency each means.
CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "៛": "KHR", "฿": "THB"}
_CURRENCY_CODE_RE = re.compile(r"[A-Z]{3}")
# Digits with no separator, or groups of three separated by commas: 1234.50 or 1,234.50.
_PLAIN_NUMBER_RE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
_GROUPED_NUMBER_RE = re.compile(r"[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]+)?")
_WORD_RE = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which column of a bank's CSV holds what (by its heading, compared without case).

    Give `amount` (signed: money in is positive) or both `debit` and `credit` (money out and
    money in, each positive). `balance` is the running balance, checked line by line when
    given. `header_row` is the 0-based row holding the headings (banks print a preamble).
    """

    date: str
    description: str
    date_format: str = "YYYY-MM-DD"
    reference: str | None = None
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    balance: str | None = None
    currency: str | None = None
    header_row: int = 0


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a statement. `units` is the change to the account (in: +, out: -)."""

    row: int  # 1-based row of the CSV file, for messages
    date: datetime.date
    description: str
    reference: str
    units: int
    balance: int | None


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    lines: tuple[StatementLine, ...]

    @property
    def first_date(self) -> datetime.date:
        return min(line.date for line in self.lines)

    @property
    def last_date(self) -> datetime.date:
        return max(line.date for line in self.lines)

    @property
    def closing_balance(self) -> int | None:
        """The running balance after the last line, when the file has one."""
        return self.lines[-1].balance


def validate_mapping(mapping: ColumnMapping) -> list[LedgerError]:
    errors: list[LedgerError] = []
    if mapping.date_format not in DATE_FORMATS:
        errors.append(
            invalid(
                "date_format_unknown",
                f"The date format is one of {', '.join(DATE_FORMATS)}.",
                "mapping.date_format",
            )
        )
    has_amount = mapping.amount is not None
    has_pair = mapping.debit is not None and mapping.credit is not None
    if has_amount == has_pair or (not has_pair and (mapping.debit or mapping.credit)):
        errors.append(
            invalid(
                "mapping_amount_columns",
                "Map either `amount`, or both `debit` and `credit`.",
                "mapping.amount",
            )
        )
    if not 0 <= mapping.header_row <= STATEMENT_HEADER_ROW_MAX:
        errors.append(
            invalid(
                "mapping_header_row_invalid",
                f"The heading row is between 0 and {STATEMENT_HEADER_ROW_MAX}.",
                "mapping.header_row",
            )
        )
    return errors


def parse_amount_text(text: str, currency: str, precision: int, field: str) -> int | LedgerError:
    """A bank's amount in smallest units of `currency`.

    Accepted: `1234.50`, `1,234.50` (commas only between groups of three digits), a leading
    `-` or parentheses for money out, and the account's own currency symbol or code before
    the number (`$1,234.50`, `USD 1234.50`). Refused: a comma anywhere else (`1,23.00`, a
    decimal comma), a symbol after the number or inside it, another currency's symbol.
    """
    rest = text.strip()
    negative = False
    if rest.startswith("(") and rest.endswith(")"):
        negative, rest = True, rest[1:-1].strip()
    if rest.startswith("-"):
        negative, rest = not negative, rest[1:].strip()
    marked: str | None = None
    for symbol in sorted(CURRENCY_SYMBOLS, key=len, reverse=True):
        if rest.startswith(symbol):
            marked, rest = CURRENCY_SYMBOLS[symbol], rest[len(symbol) :].strip()
            break
    else:
        code = rest[:3]
        if _CURRENCY_CODE_RE.fullmatch(code) and rest[3:4] in (" ", ""):
            marked, rest = code, rest[3:].strip()
    if rest.startswith("-") and not negative:
        negative, rest = True, rest[1:]
    if marked is not None and marked != currency:
        return invalid(
            "statement_currency_mismatch",
            f"The amount is in {marked}; the account holds {currency}.",
            field,
        )
    if _GROUPED_NUMBER_RE.fullmatch(rest):
        rest = rest.replace(",", "")
    elif not _PLAIN_NUMBER_RE.fullmatch(rest):
        return invalid(
            "statement_amount_invalid",
            "An amount is digits with an optional decimal point, commas only between groups "
            "of three digits, and the account's currency symbol only before the number.",
            field,
        )
    units = parse_units(rest, precision, field)
    if isinstance(units, LedgerError):
        return units
    return -units if negative else units


def _column_index(
    headings: Sequence[str], wanted: str | None, name: str
) -> int | LedgerError | None:
    if wanted is None:
        return None
    folded = [h.strip().casefold() for h in headings]
    try:
        return folded.index(wanted.strip().casefold())
    except ValueError:
        return invalid(
            "statement_column_missing",
            f"The file has no column headed {wanted!r} (mapped as {name}).",
            f"mapping.{name}",
        )


def _rows(text: str) -> list[list[str]] | LedgerError:
    if len(text.encode("utf-8")) > STATEMENT_BYTES_MAX:
        return invalid(
            "statement_too_large",
            f"A statement file is at most {STATEMENT_BYTES_MAX // (1024 * 1024)} MiB.",
            "csv",
        )
    if not text.strip():
        return invalid("statement_empty", "The statement file is empty.", "csv")
    physical = text.splitlines()
    if len(physical) > STATEMENT_LINES_MAX + STATEMENT_HEADER_ROW_MAX + 1:
        return invalid(
            "statement_too_many_lines",
            f"A statement has at most {STATEMENT_LINES_MAX} lines; split the file.",
            "csv",
        )
    for number, line in enumerate(physical, start=1):
        if len(line) > STATEMENT_LINE_LENGTH_MAX:
            return invalid(
                "statement_line_too_long",
                f"Row {number} is longer than {STATEMENT_LINE_LENGTH_MAX} characters.",
                "csv",
            )
        if has_forbidden_character(line, one_line=True):
            return invalid(
                "statement_control_character",
                f"Row {number} holds a control character: is this a CSV file?",
                "csv",
            )
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return invalid("statement_not_csv", "The file is not valid CSV.", "csv")


def parse_statement(
    text: str, mapping: ColumnMapping, currency: str, precision: int
) -> ParsedStatement | list[LedgerError]:
    """The statement's lines in file order, or every problem found (at most 20)."""
    mapping_errors = validate_mapping(mapping)
    if mapping_errors:
        return mapping_errors
    rows = _rows(text.lstrip("\ufeff"))
    if isinstance(rows, LedgerError):
        return [rows]
    if len(rows) <= mapping.header_row:
        return [invalid("statement_empty", "The file has no heading row.", "csv")]
    headings = rows[mapping.header_row]
    indexes: dict[str, int | None] = {}
    errors: list[LedgerError] = []
    for name in ("date", "description", "reference", "amount", "debit", "credit", "balance",
                 "currency"):  # fmt: skip
        found = _column_index(headings, getattr(mapping, name), name)
        if isinstance(found, LedgerError):
            errors.append(found)
        else:
            indexes[name] = found
    if errors:
        return errors
    body = [(number, row) for number, row in enumerate(rows, start=1)][mapping.header_row + 1 :]
    body = [(number, row) for number, row in body if any(cell.strip() for cell in row)]
    if not body:
        return [invalid("statement_empty", "The statement has no lines.", "csv")]
    if len(body) > STATEMENT_LINES_MAX:
        return [
            invalid(
                "statement_too_many_lines",
                f"A statement has at most {STATEMENT_LINES_MAX} lines; split the file.",
                "csv",
            )
        ]
    layout = _Layout(len(headings), indexes, mapping, currency, precision)
    lines: list[StatementLine] = []
    for number, row in body:
        parsed = _parse_row(number, row, layout)
        if isinstance(parsed, list):
            errors.extend(parsed)
            if len(errors) >= ERRORS_REPORTED_MAX:
                break
        else:
            lines.append(parsed)
    if not errors:
        errors.extend(_balance_errors(lines))
    if errors:
        return errors[:ERRORS_REPORTED_MAX]
    return ParsedStatement(tuple(lines))


@dataclass(frozen=True, slots=True)
class _Layout:
    """How the rows of one file are read: the number of headings, the index of each mapped
    column, the mapping, and the account's currency with its precision."""

    width: int
    indexes: dict[str, int | None]
    mapping: ColumnMapping
    currency: str
    precision: int

    def cell(self, row: Sequence[str], name: str) -> str:
        index = self.indexes.get(name)
        if index is None or index >= len(row):
            return ""
        return row[index].strip()

    def amount(self, text: str, field: str) -> int | LedgerError:
        return parse_amount_text(text, self.currency, self.precision, field)


def _parse_row(
    number: int, row: Sequence[str], layout: _Layout
) -> StatementLine | list[LedgerError]:
    """One line of the statement, or every problem with its row."""
    field = f"csv.row[{number}]"
    errors: list[LedgerError] = []
    if len(row) > layout.width and any(cell.strip() for cell in row[layout.width :]):
        # An amount with an unquoted comma ("1,0.00") spills into a cell of its own.
        errors.append(
            invalid(
                "statement_row_width",
                f"Row {number} has more cells than the headings: a comma outside quotes?",
                field,
            )
        )
    date = _row_date(number, layout.cell(row, "date"), layout.mapping.date_format, field)
    if isinstance(date, LedgerError):
        errors.append(date)
    if (
        layout.indexes.get("currency") is not None
        and layout.cell(row, "currency").upper() != layout.currency
    ):
        errors.append(
            invalid(
                "statement_currency_mismatch",
                f"Row {number} is not in {layout.currency}, the account's currency.",
                f"{field}.currency",
            )
        )
    units = _row_units(number, row, layout, field)
    if isinstance(units, LedgerError):
        errors.append(units)
    balance: int | LedgerError | None = None
    if layout.mapping.balance is not None:
        balance = layout.amount(layout.cell(row, "balance"), f"{field}.balance")
        if isinstance(balance, LedgerError):
            errors.append(balance)
    description = layout.cell(row, "description")
    reference = layout.cell(row, "reference")
    text_error = _row_text_error(number, description, reference, field)
    if text_error is not None:
        errors.append(text_error)
    if errors:
        return errors
    assert isinstance(date, datetime.date)
    assert isinstance(units, int)
    assert balance is None or isinstance(balance, int)
    return StatementLine(number, date, description, reference, units, balance)


def _row_date(number: int, text: str, date_format: str, field: str) -> datetime.date | LedgerError:
    try:
        return datetime.datetime.strptime(  # noqa: DTZ007 - a calendar date, no time
            text, DATE_FORMATS[date_format]
        ).date()
    except ValueError:
        return invalid(
            "statement_date_invalid",
            f"Row {number}: the date is not a {date_format} date.",
            f"{field}.date",
        )


def _row_units(number: int, row: Sequence[str], layout: _Layout, field: str) -> int | LedgerError:
    """The row's change to the account: its signed amount, or its debit or credit."""
    if layout.mapping.amount is None:
        return _debit_credit(
            number,
            layout.cell(row, "debit"),
            layout.cell(row, "credit"),
            layout.currency,
            layout.precision,
            field,
        )
    amount = layout.cell(row, "amount")
    if not amount:
        return invalid("statement_amount_missing", f"Row {number} has no amount.", field)
    return layout.amount(amount, f"{field}.amount")


def _row_text_error(
    number: int, description: str, reference: str, field: str
) -> LedgerError | None:
    if len(description) > DESCRIPTION_LENGTH_MAX or len(reference) > REFERENCE_LENGTH_MAX:
        return invalid(
            "statement_text_too_long",
            f"Row {number}: a description has at most {DESCRIPTION_LENGTH_MAX} characters"
            f" and a reference {REFERENCE_LENGTH_MAX}.",
            field,
        )
    return None


def _debit_credit(
    number: int, debit: str, credit: str, currency: str, precision: int, field: str
) -> int | LedgerError:
    if bool(debit) == bool(credit):
        return invalid(
            "statement_amount_missing",
            f"Row {number} needs an amount in exactly one of debit and credit.",
            field,
        )
    text, sign, column = (credit, 1, "credit") if credit else (debit, -1, "debit")
    units = parse_amount_text(text, currency, precision, f"{field}.{column}")
    if isinstance(units, LedgerError):
        return units
    if units < 0:
        return invalid(
            "statement_amount_invalid",
            f"Row {number}: debit and credit columns hold positive amounts.",
            f"{field}.{column}",
        )
    return sign * units


def _balance_errors(lines: Sequence[StatementLine]) -> list[LedgerError]:
    """Each running balance is the one before plus the line: proof the columns were read
    right (a debit taken for a credit shows here)."""
    errors: list[LedgerError] = []
    for before, line in itertools.pairwise(lines):
        if before.balance is None or line.balance is None:
            continue
        if before.balance + line.units != line.balance:
            errors.append(
                invalid(
                    "statement_balance_inconsistent",
                    f"Row {line.row}: the running balance does not follow from the row before.",
                    f"csv.row[{line.row}].balance",
                )
            )
            if len(errors) >= ERRORS_REPORTED_MAX:
                break
    return errors


def fingerprint_lines(lines: Iterable[StatementLine], currency: str) -> list[str]:
    """A fingerprint per line: the same line in a re-imported or overlapping file has the
    same one. Two identical lines on one day (two withdrawals of 20.00) are told apart by
    their order among the identical lines of that day."""
    seen: dict[tuple[object, ...], int] = {}
    prints: list[str] = []
    for line in lines:
        key = (
            line.date.isoformat(),
            line.units,
            currency,
            " ".join(line.description.split()).casefold(),
            line.reference.strip().casefold(),
            line.balance,
        )
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        text = "\x1f".join(str(part) for part in (*key, occurrence))
        prints.append(hashlib.sha256(text.encode("utf-8")).hexdigest())
    return prints


# -- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    """An unmatched statement line or posting, as matching sees it."""

    id: int
    date: datetime.date
    units: int
    text: str  # description and reference, or narration, payee and links
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    line_ids: tuple[int, ...]
    posting_ids: tuple[int, ...]
    score: float  # 0..1: date closeness and text similarity
    kind: str  # 'one_to_one', 'one_line_to_many', 'many_lines_to_one'


def words(text: str) -> frozenset[str]:
    return frozenset(_WORD_RE.findall(text.casefold()))


def similarity(line: Side, posting: Side) -> float:
    """1.0 when the line's reference appears in the posting's text; else the share of words
    they have in common (Jaccard)."""
    posting_words = words(posting.text)
    reference = words(line.reference)
    if reference and reference <= posting_words:
        return 1.0
    line_words = words(line.text) | reference
    if not line_words or not posting_words:
        return 0.0
    return len(line_words & posting_words) / len(line_words | posting_words)


def _within(a: datetime.date, b: datetime.date, window_days: int) -> bool:
    return abs((a - b).days) <= window_days


def _score(lines: Sequence[Side], postings: Sequence[Side], window_days: int) -> float:
    days = max(abs((a.date - b.date).days) for a in lines for b in postings)
    closeness = 1 - days / (window_days + 1)
    text = max(similarity(a, b) for a in lines for b in postings)
    return round(0.5 * closeness + 0.5 * text, 4)


class _ByDate:
    """Sides sorted by date, to find those within a window by bisection (not a scan)."""

    def __init__(self, sides: Iterable[Side]) -> None:
        self.sides = sorted(sides, key=lambda s: (s.date, s.id))
        self.ordinals = [s.date.toordinal() for s in self.sides]

    def around(self, date: datetime.date, window_days: int) -> list[Side]:
        day = date.toordinal()
        low = bisect.bisect_left(self.ordinals, day - window_days)
        high = bisect.bisect_right(self.ordinals, day + window_days)
        return self.sides[low:high]


def _nearest(sides: list[Side], date: datetime.date, count: int) -> list[Side]:
    if len(sides) <= count:
        return sides
    return sorted(sides, key=lambda s: (abs((s.date - date).days), s.date, s.id))[:count]


def propose_matches(
    lines: Sequence[Side],
    postings: Sequence[Side],
    window_days: int = DATE_WINDOW_DAYS_DEFAULT,
    rejected: frozenset[tuple[int, int]] = frozenset(),
) -> list[Proposal]:
    """Proposals over unmatched lines and postings; each side is used at most once.

    One to one first (best score first: same amount, nearest date, most similar text), then
    one line to 2-3 postings, then 2-3 lines to one posting, both within the date window. A
    proposal containing a (line, posting) pair in `rejected` is never made again. Each item
    weighs at most `COMBINATION_CANDIDATES_MAX` candidates, the nearest in date, so the work
    grows with the number of items, not with its square.
    """
    assert 0 <= window_days <= DATE_WINDOW_DAYS_MAX
    proposer = _Proposer(window_days, rejected)
    for proposal in proposer.one_to_one(lines, postings):
        if proposer.free(proposal):
            proposer.take(proposal)
    proposer.combine(lines, postings, "one_line_to_many")
    proposer.combine(postings, lines, "many_lines_to_one")
    return proposer.chosen


class _Proposer:
    """The proposals chosen so far and the lines and postings they use."""

    def __init__(self, window_days: int, rejected: frozenset[tuple[int, int]]) -> None:
        self.window_days = window_days
        self.rejected = rejected
        self.chosen: list[Proposal] = []
        self.used_lines: set[int] = set()
        self.used_postings: set[int] = set()

    def allowed(self, lines: Sequence[Side], postings: Sequence[Side]) -> bool:
        return all((a.id, b.id) not in self.rejected for a in lines for b in postings)

    def free(self, proposal: Proposal) -> bool:
        return not self.used_lines & set(proposal.line_ids) and not self.used_postings & set(
            proposal.posting_ids
        )

    def take(self, proposal: Proposal) -> None:
        self.chosen.append(proposal)
        self.used_lines.update(proposal.line_ids)
        self.used_postings.update(proposal.posting_ids)

    def one_to_one(self, lines: Sequence[Side], postings: Sequence[Side]) -> list[Proposal]:
        """Every allowed pair of a line and a posting of its amount near its date, best
        score first."""
        grouped: dict[int, list[Side]] = {}
        for posting in postings:
            grouped.setdefault(posting.units, []).append(posting)
        by_units = {units: _ByDate(sides) for units, sides in grouped.items()}
        candidates: list[Proposal] = []
        for line in lines:
            same = by_units.get(line.units)
            if same is None:
                continue
            around = same.around(line.date, self.window_days)
            for posting in _nearest(around, line.date, COMBINATION_CANDIDATES_MAX):
                if self.allowed([line], [posting]):
                    score = _score([line], [posting], self.window_days)
                    candidates.append(Proposal((line.id,), (posting.id,), score, "one_to_one"))
        candidates.sort(key=lambda p: (-p.score, p.line_ids, p.posting_ids))
        return candidates

    def combine(self, one_side: Sequence[Side], many_side: Sequence[Side], kind: str) -> None:
        """Take each unused item of `one_side` with the first 2-3 unused items of
        `many_side` near its date that add up to it."""
        one_line = kind == "one_line_to_many"
        used_one = self.used_lines if one_line else self.used_postings
        used_many = self.used_postings if one_line else self.used_lines
        by_date = _ByDate(s for s in many_side if s.id not in used_many)
        for one in one_side:
            if one.id in used_one:
                continue
            near = [
                s
                for s in by_date.around(one.date, self.window_days)
                if s.id not in used_many and (s.units > 0) == (one.units > 0)
            ]
            found = _combination(one, _nearest(near, one.date, COMBINATION_CANDIDATES_MAX))
            if found is None:
                continue
            ls, ps = ([one], found) if one_line else (found, [one])
            if self.allowed(ls, ps):
                ids = (tuple(s.id for s in ls), tuple(s.id for s in ps))
                self.take(Proposal(*ids, _score(ls, ps, self.window_days), kind))


def _combination(one: Side, near: Sequence[Side]) -> list[Side] | None:
    """The first 2 or 3 of `near` (fewest first, in date order) summing to `one.units`."""
    ordered = sorted(near, key=lambda s: (s.date, s.id))
    for size in range(2, COMBINATION_SIZE_MAX + 1):
        for combo in itertools.combinations(ordered, size):
            if sum(s.units for s in combo) == one.units:
                return list(combo)
    return None


def match_error(lines: Sequence[Side], postings: Sequence[Side]) -> LedgerError | None:
    """Why these lines and postings cannot be one match, or None: both sides present and
    summing to the same amount."""
    if not lines or not postings:
        return invalid(
            "match_incomplete", "A match needs at least one line and one posting.", "line_ids"
        )
    if len(lines) > MATCH_SIDE_MAX or len(postings) > MATCH_SIDE_MAX:
        return invalid(
            "match_too_large", f"A match has at most {MATCH_SIDE_MAX} on each side.", "line_ids"
        )
    if len(lines) > 1 and len(postings) > 1:
        return invalid(
            "match_many_to_many",
            "Match one line to several postings or several lines to one posting.",
            "line_ids",
        )
    if sum(s.units for s in lines) != sum(s.units for s in postings):
        return invalid(
            "match_amounts_differ",
            "The lines and the postings of a match add up to the same amount.",
            "posting_ids",
        )
    return None


# -- closing ---------------------------------------------------------------------------------


def adjustment(
    date: datetime.date,
    account: str,
    counterpart: str,
    units: int,
    currency: str,
    narration: str,
    kind: str,
) -> Transaction:
    """The posting that explains a difference found at a reconciliation or a cash count:
    `units` into `account` (negative: out of it), against `counterpart` (bank charges,
    interest, a cash shortage). Tagged so an auditor finds every adjustment."""
    assert units != 0
    return Transaction(
        date=date,
        narration=narration,
        tags=("reconciliation-adjustment",),
        meta=(("reconciliation", kind),),
        postings=(Posting(account, units, currency), Posting(counterpart, -units, currency)),
    )
