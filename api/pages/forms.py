"""The meeting form: what the treasurer typed, read into the API's `MeetingCreate`, or the
errors beside each field. Pure: no database, no money rules (the service checks those).

Field names are the API's error fields (`entries[3].loan_repaid`, `cash_counted`), so an
error the service returns lands beside the input it names.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from api.schemas.savings import MeetingCreate
from ledger.core.errors import LedgerError, invalid
from ledger.savings import rules

AMOUNT_RE = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")
SMALL_INT_RE = re.compile(r"[0-9]{1,4}")
IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9-]{8,64}")
FIELD_TEXT_LENGTH_MAX = 500
AMOUNT_FIELDS = ("social_fund_paid", "fines_paid", "loan_repaid", "grant_received")
ATTENDANCES = rules.ATTENDANCES


@dataclass(frozen=True, slots=True)
class ReadMeeting:
    """The form as typed (to show again), its errors by field, and the request when valid."""

    values: dict[str, str]
    errors: dict[str, LedgerError]
    meeting: MeetingCreate | None
    key: str


def new_idempotency_key() -> str:
    """Made when the treasurer opens the form: every send of this meeting carries it."""
    return str(uuid.uuid4())


def entry_field(index: int, name: str) -> str:
    return f"entries[{index}].{name}"


def _amount(values: dict[str, str], field: str, errors: dict[str, LedgerError]) -> str:
    text = values.get(field, "").strip().replace(",", "").replace(" ", "") or "0"
    if not AMOUNT_RE.fullmatch(text):
        errors[field] = invalid(
            "amount_not_a_number", "Write an amount in digits, like 5000.", field
        )
    return text


def _small_int(values: dict[str, str], field: str, errors: dict[str, LedgerError]) -> int:
    text = values.get(field, "").strip() or "0"
    if not SMALL_INT_RE.fullmatch(text):
        errors[field] = invalid("number_not_whole", "Write a whole number, like 2.", field)
        return 0
    return int(text)


def _entry(
    index: int, member: str, values: dict[str, str], errors: dict[str, LedgerError]
) -> dict[str, object]:
    attendance_field = entry_field(index, "attendance")
    attendance = values.get(attendance_field, "present")
    if attendance not in ATTENDANCES:
        errors[attendance_field] = invalid(
            "attendance_invalid", "Choose present, absent or represented.", attendance_field
        )
    entry: dict[str, object] = {
        "member": member,
        "attendance": attendance,
        "shares": _small_int(values, entry_field(index, "shares"), errors),
    }
    for name in AMOUNT_FIELDS:
        entry[name] = _amount(values, entry_field(index, name), errors)
    loan = _amount(values, entry_field(index, "loan_taken.amount"), errors)
    if AMOUNT_RE.fullmatch(loan) and Decimal(loan) > 0:
        term_field = entry_field(index, "loan_taken.term_months")
        term = _small_int(values, term_field, errors)
        if term_field not in errors and not 1 <= term <= rules.LOAN_TERM_MONTHS_MAX:
            errors[term_field] = invalid(
                "loan_term_invalid",
                f"A loan lasts 1 to {rules.LOAN_TERM_MONTHS_MAX} months.",
                term_field,
            )
        entry["loan_taken"] = {"amount": loan, "term_months": term}
    return entry


def read_meeting_form(form: Mapping[str, object], members: tuple[str, ...]) -> ReadMeeting:
    """Read the posted form for a meeting of `members` (the group's active members, in order).

    Only the fields of those members are read: a row the page did not offer is ignored."""
    values = {
        name: value[:FIELD_TEXT_LENGTH_MAX]
        for name, value in form.items()
        if isinstance(value, str)
    }
    key = values.get("idempotency_key", "")
    if not IDEMPOTENCY_KEY_RE.fullmatch(key):
        key = new_idempotency_key()
    errors: dict[str, LedgerError] = {}
    try:
        date = datetime.date.fromisoformat(values.get("date", ""))
    except ValueError:
        errors["date"] = invalid("date_invalid", "Choose the meeting's date.", "date")
        date = None
    entries = [_entry(i, member, values, errors) for i, member in enumerate(members)]
    counted = _amount(values, "cash_counted", errors)
    if not values.get("cash_counted", "").strip():
        errors["cash_counted"] = invalid(
            "cash_count_missing", "Count the cash box and write the total.", "cash_counted"
        )
    reason = values.get("cash_difference_reason", "").strip() or None
    if errors or date is None:
        return ReadMeeting(values, errors, None, key)
    body = {"date": date.isoformat(), "entries": entries, "cash_counted": counted}
    if reason is not None:
        body["cash_difference_reason"] = reason
    try:
        meeting = msgspec.convert(body, MeetingCreate)
    except msgspec.ValidationError:
        # Every field was checked above; only an over-long reason can still be refused here.
        field = "cash_difference_reason"
        errors[field] = invalid("text_too_long", "This text is too long.", field)
        return ReadMeeting(values, errors, None, key)
    return ReadMeeting(values, errors, meeting, key)
