"""The livelihood officer's forms (a grant proposal, a disbursement, a training's participant,
attendance and cost item): what was typed, read into the API's request structs, or the
errors beside each field. Pure: no database, no money rules (the services check those).

Field names are the API's error fields (`approved_amount`, `items[0].unit_cost`,
`present[2].people`), so an error a service returns lands beside the input it names.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from api.pages.forms import (
    AMOUNT_RE,
    FIELD_TEXT_LENGTH_MAX,
    IDEMPOTENCY_KEY_RE,
    new_idempotency_key,
)
from api.schemas.grants import DisbursementCreate, GrantApprove, GrantCreate
from api.schemas.training import AttendanceCreate, ParticipantCreate, TrainingCostCreate
from ledger.core.errors import LedgerError, invalid

RequestT = TypeVar("RequestT", bound=msgspec.Struct)
# Rows of items a disbursement form offers (the API takes more; a page keeps it short).
ITEM_ROWS = 3
PEOPLE_RE = re.compile(r"[0-9]{1,3}")
# `award` and `budget_line` are chosen together in one list: their errors show beside it.
GRANT_FIELD_ALIASES = {"award": "line", "budget_line": "line"}


@dataclass(frozen=True, slots=True)
class ReadForm(Generic[RequestT]):
    """The form as typed (to show again), its errors by field, the request when valid, and the
    Idempotency-Key made when the form was opened."""

    values: dict[str, str]
    errors: dict[str, LedgerError]
    request: RequestT | None
    key: str


def blank_form(values: Mapping[str, str] | None = None) -> ReadForm[Any]:
    """A form just opened: its Idempotency-Key is made now, and every send carries it."""
    return ReadForm(dict(values or {}), {}, None, new_idempotency_key())


def form_values(form: Mapping[str, object]) -> tuple[dict[str, str], str]:
    """The posted text fields (each cut to a bounded length) and the form's key."""
    values = {
        name: value[:FIELD_TEXT_LENGTH_MAX]
        for name, value in form.items()
        if isinstance(value, str)
    }
    key = values.get("idempotency_key", "")
    return values, key if IDEMPOTENCY_KEY_RE.fullmatch(key) else new_idempotency_key()


def place_errors(
    rejected: Iterable[LedgerError],
    fields: Iterable[str],
    aliases: Mapping[str, str] | None = None,
) -> tuple[dict[str, LedgerError], list[LedgerError]]:
    """A service's errors beside the form's fields they name; the rest for the page's top."""
    shown = set(fields)
    beside: dict[str, LedgerError] = {}
    general: list[LedgerError] = []
    for error in rejected:
        field = (aliases or {}).get(error.field or "", error.field or "")
        if field in shown and field not in beside:
            beside[field] = error
        else:
            general.append(error)
    return beside, general


def _amount(
    values: dict[str, str], field: str, errors: dict[str, LedgerError], *, required: bool = True
) -> str | None:
    text = values.get(field, "").strip().replace(",", "").replace(" ", "")
    if not text:
        if required:
            errors[field] = invalid("amount_missing", "Write the amount.", field)
        return None
    if not AMOUNT_RE.fullmatch(text):
        errors[field] = invalid(
            "amount_not_a_number", "Write an amount in digits, like 5000.", field
        )
        return None
    return text


def _date(values: dict[str, str], field: str, errors: dict[str, LedgerError]) -> str | None:
    text = values.get(field, "").strip()
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        errors[field] = invalid("date_invalid", "Choose a date.", field)
        return None


def _whole(values: dict[str, str], field: str, errors: dict[str, LedgerError]) -> int:
    text = values.get(field, "").strip() or "1"
    if not PEOPLE_RE.fullmatch(text):
        errors[field] = invalid("number_not_whole", "Write a whole number, like 2.", field)
        return 0
    return int(text)


def _convert(
    values: dict[str, str],
    errors: dict[str, LedgerError],
    key: str,
    body: dict[str, Any],
    kind: type[RequestT],
    too_long: Callable[[str], str],
) -> ReadForm[RequestT]:
    """The request when every field was read; the decoder refuses only over-long texts now."""
    if errors:
        return ReadForm(values, errors, None, key)
    try:
        return ReadForm(values, errors, msgspec.convert(body, kind), key)
    except msgspec.ValidationError as error:
        field = too_long(str(error))
        errors[field] = invalid("text_too_long", "This text is too long.", field)
        return ReadForm(values, errors, None, key)


def _field_named(message: str, fields: Iterable[str], default: str) -> str:
    """The field a decoder's message names (`... at `$.purpose``), else `default`."""
    return next((f for f in fields if f"$.{f}" in message), default)


def read_grant_form(form: Mapping[str, object]) -> ReadForm[GrantCreate]:
    """A grant proposal: household, award and budget line (one choice, `AWARD/line`),
    business type, amount and purpose."""
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    case_code = values.get("case_code", "").strip()
    if not case_code:
        errors["case_code"] = invalid("case_code_missing", "Write the case code.", "case_code")
    award, _, line = values.get("line", "").partition("/")
    if not award or not line:
        errors["line"] = invalid("budget_line_missing", "Choose the budget line.", "line")
    amount = _amount(values, "approved_amount", errors)
    body: dict[str, Any] = {
        "case_code": case_code,
        "award": award,
        "budget_line": line,
        "business_type": values.get("business_type", ""),
        "approved_amount": amount,
        "purpose": values.get("purpose", "").strip(),
    }
    if values.get("currency"):
        body["currency"] = values["currency"]
    fields = ("case_code", "purpose", "business_type", "currency")
    return _convert(
        values, errors, key, body, GrantCreate, lambda m: _field_named(m, fields, "purpose")
    )


def read_approval_form(form: Mapping[str, object]) -> ReadForm[GrantApprove]:
    """An approval, with the rate of its commitment when the approver gives one."""
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    rate = _amount(values, "exchange_rate", errors, required=False)
    body = {"exchange_rate": rate}
    return _convert(values, errors, key, body, GrantApprove, lambda _m: "exchange_rate")


def item_field(index: int, name: str) -> str:
    return f"items[{index}].{name}"


def _items(values: dict[str, str], errors: dict[str, LedgerError]) -> list[dict[str, Any]]:
    """The filled rows of items given in kind (a row with no commodity is left out)."""
    items: list[dict[str, Any]] = []
    for index in range(ITEM_ROWS):
        commodity = values.get(item_field(index, "commodity"), "").strip()
        if not commodity:
            continue
        quantity_field = item_field(index, "quantity")
        quantity = values.get(quantity_field, "").strip()
        if not quantity.isdigit() or len(quantity) > 6:
            errors[quantity_field] = invalid(
                "number_not_whole", "Write a whole number, like 2.", quantity_field
            )
        cost = _amount(values, item_field(index, "unit_cost"), errors)
        if quantity_field not in errors and cost is not None:
            items.append({"commodity": commodity, "quantity": int(quantity), "unit_cost": cost})
    return items


def read_disbursement_form(form: Mapping[str, object]) -> ReadForm[DisbursementCreate]:
    """A disbursement: the date, how it is paid and from which account, and either an amount
    (cash, transfer, mobile money) or the items given in kind."""
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    date = _date(values, "date", errors)
    method = values.get("method", "")
    paid_from = values.get("paid_from", "")
    if not paid_from:
        errors["paid_from"] = invalid("paid_from_missing", "Choose the account.", "paid_from")
    body: dict[str, Any] = {"date": date, "method": method, "paid_from": paid_from}
    if method == "in_kind":
        body["items"] = _items(values, errors)
        if not body["items"] and item_field(0, "commodity") not in errors:
            field = item_field(0, "commodity")
            errors[field] = invalid("in_kind_needs_items", "In kind, give items.", field)
    else:
        body["amount"] = _amount(values, "amount", errors)
    rate = _amount(values, "exchange_rate", errors, required=False)
    if rate is not None:
        body["exchange_rate"] = rate
    narration = values.get("narration", "").strip()
    if narration:
        body["narration"] = narration
    return _convert(values, errors, key, body, DisbursementCreate, lambda _m: "narration")


def read_participant_form(form: Mapping[str, object]) -> ReadForm[ParticipantCreate]:
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    case_code = values.get("case_code", "").strip()
    if not case_code:
        errors["case_code"] = invalid("case_code_missing", "Write the case code.", "case_code")
    body = {"case_code": case_code, "people": _whole(values, "people", errors)}
    return _convert(values, errors, key, body, ParticipantCreate, lambda _m: "case_code")


def read_attendance_form(
    form: Mapping[str, object], participants: tuple[str, ...]
) -> ReadForm[AttendanceCreate]:
    """One day's register: a box ticked per household present (`present[i].case_code`) and
    how many of its people came (`present[i].people`), for the training's participants."""
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    date = _date(values, "date", errors)
    present = []
    for index in attendance_rows(values, participants):
        people = _whole(values, f"present[{index}].people", errors)
        present.append({"case_code": participants[index], "people": people})
    if not present:
        errors["present"] = invalid(
            "present_invalid", "List the households present (one or more).", "present"
        )
    body = {"date": date, "present": present}
    return _convert(values, errors, key, body, AttendanceCreate, lambda _m: "present")


def attendance_rows(values: Mapping[str, str], participants: tuple[str, ...]) -> tuple[int, ...]:
    """The form's row of each household in the request's `present` list, in its order."""
    return tuple(
        index
        for index, case_code in enumerate(participants)
        if values.get(f"present[{index}].case_code") == case_code
    )


PRESENT_FIELD_RE = re.compile(r"present\[([0-9]+)\]")


def present_row(field: str, rows: tuple[int, ...]) -> str | None:
    """`present[k].people` of the request is the form's `present[<row of k>]`; None for
    another field."""
    found = PRESENT_FIELD_RE.match(field)
    if found is None or int(found.group(1)) >= len(rows):
        return None
    return f"present[{rows[int(found.group(1))]}]"


def read_cost_form(form: Mapping[str, object]) -> ReadForm[TrainingCostCreate]:
    """A training's cost item: what, when, paid from which account, how much."""
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    date = _date(values, "date", errors)
    paid_from = values.get("paid_from", "")
    if not paid_from:
        errors["paid_from"] = invalid("paid_from_missing", "Choose the account.", "paid_from")
    body: dict[str, Any] = {
        "item": values.get("item", ""),
        "date": date,
        "paid_from": paid_from,
        "amount": _amount(values, "amount", errors),
    }
    for name in ("payee", "narration"):
        text = values.get(name, "").strip()
        if text:
            body[name] = text
    fields = ("payee", "narration")
    return _convert(
        values, errors, key, body, TrainingCostCreate, lambda m: _field_named(m, fields, "item")
    )
