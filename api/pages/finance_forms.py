"""The finance team's forms: what was typed, read into the API's request structs, or the
errors beside each field. Pure: no database, no money rules (the services check those).

Field names are the API's error fields (`date`, `postings[2].amount`, `from_account`), so an
error a service returns lands beside the input it names; what does not name a field of the
form is shown above it.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from api.pages.forms import IDEMPOTENCY_KEY_RE, new_idempotency_key
from api.schemas.grants import ExchangeCreate
from api.schemas.reconcile import CashCountCreate, PeriodClose, ReconciliationClose
from api.schemas.transactions import TransactionCreate
from ledger.core import limits
from ledger.core.errors import LedgerError, invalid

FIELD_TEXT_LENGTH_MAX = 500
# Posting rows offered on a blank transaction form; "Add a row" offers one more.
POSTING_ROWS_DEFAULT = 4
POSTING_ROWS_MAX = limits.POSTINGS_PER_TRANSACTION_MAX
_POSTING_FIELD_RE = re.compile(r"postings\[([0-9]{1,4})\](.*)")
_WORDS_RE = re.compile(r"[^\s,]+")
T = Any


@dataclass(frozen=True, slots=True)
class FormState:
    """A form as typed (to show again), its errors by field, errors that name no field of
    the form, and the Idempotency-Key made when it was opened."""

    values: dict[str, str]
    key: str
    errors: dict[str, LedgerError] = field(default_factory=dict)
    general: tuple[LedgerError, ...] = ()

    def refused(self, rejected: Iterable[LedgerError], fields: Iterable[str]) -> FormState:
        """The same form with a service's errors placed beside the fields they name."""
        known = set(fields)
        errors = dict(self.errors)
        general = list(self.general)
        for error in rejected:
            if error.field in known and error.field not in errors:
                errors[error.field] = error
            else:
                general.append(error)
        return FormState(self.values, self.key, errors, tuple(general))


def blank(values: Mapping[str, str] | None = None) -> FormState:
    """A form just opened: its Idempotency-Key is made now, and every send of it carries it."""
    return FormState(dict(values or {}), new_idempotency_key())


def typed(form: Mapping[str, object]) -> FormState:
    """The posted form's text fields (cut to a sane length) and its key (a new one if the
    posted key is malformed: then this send cannot replay an earlier one)."""
    values = {
        name: value[:FIELD_TEXT_LENGTH_MAX].strip()
        for name, value in form.items()
        if isinstance(value, str)
    }
    key = values.get("idempotency_key", "")
    return FormState(values, key if IDEMPOTENCY_KEY_RE.fullmatch(key) else new_idempotency_key())


def read_date(state: FormState, name: str, errors: dict[str, LedgerError]) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(state.values.get(name, ""))
    except ValueError:
        errors[name] = invalid("date_invalid", "Choose a date.", name)
        return None


def optional(state: FormState, name: str) -> str | None:
    return state.values.get(name) or None


def _amount_text(text: str) -> str:
    return text.replace(",", "").replace(" ", "")


def _convert(
    state: FormState, body: dict[str, object], kind: type[T], rename: Any = str
) -> tuple[FormState, T | None]:
    """`body` as the API's request struct; a length or shape the struct refuses is shown
    beside its field (`rename` turns the request's field path into the form's)."""
    try:
        return state, msgspec.convert(body, kind)
    except msgspec.ValidationError as error:
        message = str(error)
        path = message.rpartition("at `$.")[2].rstrip("`") if "at `$." in message else ""
        refused = invalid("text_too_long", "This text is too long.", rename(path))
        return state.refused([refused], state.values), None


def _finish(
    state: FormState,
    errors: dict[str, LedgerError],
    body: dict[str, object],
    kind: type[T],
    rename: Any = str,
) -> tuple[FormState, T | None]:
    if errors:
        return FormState(state.values, state.key, errors), None
    return _convert(state, body, kind, rename)


# -- a transaction with posting rows ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostingRows:
    """How many rows the form shows, the rows that carry a posting (by their row number,
    so errors find their row again), and the sum per currency of what was typed."""

    count: int
    used: tuple[int, ...]
    sums: tuple[tuple[str, Decimal], ...]

    def row_field(self, api_field: str) -> str:
        """`postings[1].amount` of the request -> the field of the row it came from."""
        found = _POSTING_FIELD_RE.fullmatch(api_field)
        if found is None or int(found.group(1)) >= len(self.used):
            return api_field
        return f"postings[{self.used[int(found.group(1))]}]{found.group(2)}"


def posting_rows(values: Mapping[str, str], add: bool = False) -> PostingRows:
    try:
        count = int(values.get("rows", ""))
    except ValueError:
        count = POSTING_ROWS_DEFAULT
    count = max(2, min(POSTING_ROWS_MAX, count + (1 if add else 0)))
    used = []
    sums: dict[str, Decimal] = {}
    for row in range(count):
        account = values.get(f"postings[{row}].account", "")
        amount = _amount_text(values.get(f"postings[{row}].amount", ""))
        if not account and not amount:
            continue
        used.append(row)
        currency = values.get(f"postings[{row}].currency", "")
        with contextlib.suppress(InvalidOperation):
            sums[currency] = sums.get(currency, Decimal(0)) + Decimal(amount or "0")
    return PostingRows(count, tuple(used), tuple(sorted(sums.items())))


def read_transaction(
    state: FormState, rows: PostingRows
) -> tuple[FormState, TransactionCreate | None]:
    """The transaction form as the API's `TransactionCreate` (the journal checks the rest:
    accounts, precision, and that every currency balances)."""
    errors: dict[str, LedgerError] = {}
    date = read_date(state, "date", errors)
    values = state.values
    if not values.get("narration"):
        errors["narration"] = invalid("narration_missing", "Say what this is for.", "narration")
    postings = []
    for row in rows.used:
        prefix = f"postings[{row}]"
        posting = {
            "account": values.get(f"{prefix}.account", ""),
            "amount": _amount_text(values.get(f"{prefix}.amount", "")),
            "currency": values.get(f"{prefix}.currency", ""),
        }
        if not posting["amount"]:
            errors[f"{prefix}.amount"] = invalid(
                "amount_missing", "Write an amount.", f"{prefix}.amount"
            )
        postings.append(posting)
    body: dict[str, object] = {
        "date": date.isoformat() if date else "",
        "narration": values.get("narration", ""),
        "postings": postings,
        "payee": optional(state, "payee"),
        "tags": _WORDS_RE.findall(values.get("tags", "")),
        "links": _WORDS_RE.findall(values.get("links", "")),
    }
    return _finish(state, errors, body, TransactionCreate, rows.row_field)


# -- the other finance forms ---------------------------------------------------------------


def read_exchange(state: FormState, book: str) -> tuple[FormState, ExchangeCreate | None]:
    errors: dict[str, LedgerError] = {}
    date = read_date(state, "date", errors)
    body: dict[str, object] = {
        "book": book,
        "date": date.isoformat() if date else "",
        "from_account": state.values.get("from_account", ""),
        "to_account": state.values.get("to_account", ""),
        "narration": optional(state, "narration"),
    }
    for name in ("from_amount", "to_amount", "rate"):
        text = _amount_text(state.values.get(name, ""))
        body[name] = text or None
    return _finish(state, errors, body, ExchangeCreate)


def read_cash_count(state: FormState) -> tuple[FormState, CashCountCreate | None]:
    errors: dict[str, LedgerError] = {}
    date = read_date(state, "date", errors)
    amount = _amount_text(state.values.get("amount", ""))
    if not amount:
        errors["amount"] = invalid("amount_missing", "Write an amount.", "amount")
    body: dict[str, object] = {
        "date": date.isoformat() if date else "",
        "amount": amount,
        "adjustment_account": optional(state, "adjustment_account"),
        "adjustment_narration": optional(state, "adjustment_narration"),
    }
    return _finish(state, errors, body, CashCountCreate)


def read_statement_close(state: FormState) -> tuple[FormState, ReconciliationClose | None]:
    errors: dict[str, LedgerError] = {}
    date = read_date(state, "date", errors)
    balance = _amount_text(state.values.get("closing_balance", ""))
    body: dict[str, object] = {
        "date": date.isoformat() if date else "",
        "closing_balance": balance or None,
        "adjustment_account": optional(state, "adjustment_account"),
        "adjustment_narration": optional(state, "adjustment_narration"),
    }
    return _finish(state, errors, body, ReconciliationClose)


def read_period_close(state: FormState) -> tuple[FormState, PeriodClose | None]:
    errors: dict[str, LedgerError] = {}
    date = read_date(state, "date", errors)
    body: dict[str, object] = {"date": date.isoformat() if date else ""}
    return _finish(state, errors, body, PeriodClose)


def read_ids(text: str) -> list[int] | None:
    """`12,13` -> [12, 13]; None unless every part is a small whole number."""
    parts = text.split(",")
    if not text or len(parts) > limits.PAGE_SIZE_MAX:
        return None
    if not all(p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return [int(p) for p in parts]
