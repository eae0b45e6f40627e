"""The officer's forms: a household to register and a follow-up visit, read into the API's
`HouseholdCreate` and `FollowUpCreate`, or the errors beside each field. Pure: no database,
no rules of the books (the services check those, and their errors land beside the field
they name once `visit_field` has turned the API's field into the form's).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from api.pages.forms import IDEMPOTENCY_KEY_RE, new_idempotency_key
from api.schemas.grants import HouseholdCreate
from api.schemas.training import FollowUpCreate
from ledger.core.errors import LedgerError, invalid
from ledger.income.rules import SOURCES
from ledger.livestock.rules import SPECIES_PER_VISIT_MAX

FIELD_TEXT_LENGTH_MAX = 500
AMOUNT_RE = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")
HEAD_RE = re.compile(r"[0-9]{1,7}")
SEARCH_TEXT_LENGTH_MAX = 20
SEARCH_RE = re.compile(r"[A-Za-z0-9-]{1,20}")
SPECIES_FIELDS = ("births", "deaths[0].head", "sold", "sold_price", "counted", "reason")
_STRUCT_FIELD_RE = re.compile(r"at `\$\.([a-z_]+)")


@dataclass(frozen=True, slots=True)
class ReadForm:
    """The form as typed (to show again), its errors by field, the request when valid, the
    Idempotency-Key it carries, and how the request's fields map back to the form's."""

    values: dict[str, str]
    errors: dict[str, LedgerError]
    data: Any
    key: str
    fields: dict[str, str] = field(default_factory=dict)


def form_values(form: Mapping[str, object]) -> tuple[dict[str, str], str]:
    """The posted text fields (cut to a sane length) and the form's Idempotency-Key."""
    values = {
        name: value[:FIELD_TEXT_LENGTH_MAX]
        for name, value in form.items()
        if isinstance(value, str)
    }
    key = values.get("idempotency_key", "")
    return values, key if IDEMPOTENCY_KEY_RE.fullmatch(key) else new_idempotency_key()


def search_text(value: str | None) -> str | None:
    """A case-code search as typed, if it can be one (letters, digits, hyphens)."""
    text = (value or "").strip()
    return text if SEARCH_RE.fullmatch(text) else None


def _date(values: dict[str, str], name: str, errors: dict[str, LedgerError]) -> str:
    text = values.get(name, "").strip()
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        errors[name] = invalid("date_invalid", "Choose a date.", name)
        return ""


def _whole(values: dict[str, str], name: str, errors: dict[str, LedgerError]) -> int:
    text = values.get(name, "").strip() or "0"
    if not HEAD_RE.fullmatch(text):
        errors[name] = invalid("number_not_whole", "Write a whole number, like 2.", name)
        return 0
    return int(text)


def _money(values: dict[str, str], name: str, errors: dict[str, LedgerError]) -> str:
    text = values.get(name, "").strip().replace(",", "").replace(" ", "") or "0"
    if not AMOUNT_RE.fullmatch(text):
        errors[name] = invalid("amount_not_a_number", "Write an amount in digits, like 5000.", name)
    return text


def _converted(
    body: dict[str, Any], into: type[Any], errors: dict[str, LedgerError], fallback: str
) -> Any:
    """The body as the API's schema, or None with the refused field's error (a text too
    long: every other field was checked before)."""
    try:
        return msgspec.convert(body, into)
    except msgspec.ValidationError as refused:
        found = _STRUCT_FIELD_RE.search(str(refused))
        name = found.group(1) if found else fallback
        errors[name] = invalid("text_too_long", "This text is too long.", name)
        return None


def read_household_form(form: Mapping[str, object]) -> ReadForm:
    """A household to register: its case code, consent date, place and facts."""
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    body: dict[str, Any] = {
        name: values.get(name, "").strip()
        for name in (
            "case_code",
            "province",
            "district",
            "commune",
            "village",
            "head_sex",
            "head_age_band",
            "category",
            "referral_source",
        )
    }
    body["case_code"] = body["case_code"].upper()
    body["consent_date"] = _date(values, "consent_date", errors)
    body["members"] = _whole(values, "members", errors)
    body["children"] = _whole(values, "children", errors)
    if errors:
        return ReadForm(values, errors, None, key)
    data = _converted(body, HouseholdCreate, errors, "referral_source")
    return ReadForm(values, errors, data, key)


def species_field(row: int, name: str) -> str:
    return f"species[{row}].{name}"


def _species_row(
    values: dict[str, str], row: int, errors: dict[str, LedgerError]
) -> dict[str, Any] | None:
    """One species row as the API's `SpeciesIn`, or None when the officer left it blank."""
    species = values.get(species_field(row, "species"), "").strip()
    typed = any(values.get(species_field(row, n), "").strip() for n in SPECIES_FIELDS)
    if not species or not typed:
        return None
    counted_field = species_field(row, "counted")
    if not values.get(counted_field, "").strip():
        errors[counted_field] = invalid(
            "head_count_missing", "Count the animals there are now.", counted_field
        )
    line: dict[str, Any] = {"species": species}
    for name in ("births", "sold", "counted"):
        line[name] = _whole(values, species_field(row, name), errors)
    died = _whole(values, species_field(row, "deaths[0].head"), errors)
    if died:
        cause = values.get(species_field(row, "deaths[0].cause"), "") or "unknown"
        line["deaths"] = [{"cause": cause, "head": died}]
    if line["sold"] or values.get(species_field(row, "sold_price"), "").strip():
        line["sold_price"] = _money(values, species_field(row, "sold_price"), errors)
    reason = values.get(species_field(row, "reason"), "").strip()
    if reason:
        line["reason"] = reason
    return line


def _income(
    values: dict[str, str], date: str, errors: dict[str, LedgerError], fields: dict[str, str]
) -> dict[str, Any] | None:
    lines: list[dict[str, str]] = []
    for source in SOURCES:
        name = f"income.{source}"
        if values.get(name, "").strip():
            fields[f"income.lines[{len(lines)}]"] = name
            lines.append({"source": source, "amount": _money(values, name, errors)})
    if not lines:
        return None
    month = values.get("income.month", "").strip() or date[:7]
    return {"month": month, "lines": lines, "baseline": values.get("income.baseline") == "on"}


def read_visit_form(form: Mapping[str, object], officer: str) -> ReadForm:
    """A follow-up visit: the rows of species the officer filled in, the costs, and the
    month's income by source; `fields` maps the request's fields to the form's."""
    values, key = form_values(form)
    errors: dict[str, LedgerError] = {}
    fields: dict[str, str] = {}
    date = _date(values, "date", errors)
    species: list[dict[str, Any]] = []
    for row in range(SPECIES_PER_VISIT_MAX):
        line = _species_row(values, row, errors)
        if line is not None:
            fields[f"species[{len(species)}]"] = f"species[{row}]"
            species.append(line)
    body: dict[str, Any] = {
        "date": date,
        "officer": officer,
        "species": species,
        "currency": values.get("currency", "KHR"),
        "feed_cost": _money(values, "feed_cost", errors),
        "vet_cost": _money(values, "vet_cost", errors),
        "note": values.get("note", "").strip(),
        "income": _income(values, date, errors, fields),
    }
    if errors:
        return ReadForm(values, errors, None, key, fields)
    data = _converted(body, FollowUpCreate, errors, "note")
    return ReadForm(values, errors, data, key, fields)


def form_field(api_field: str | None, fields: Mapping[str, str]) -> str | None:
    """The form's name for a field the API named: `species[0].counted` -> the row it came
    from, `income.lines[1].amount` -> `income.crops`."""
    if api_field is None:
        return None
    for prefix, name in fields.items():
        if api_field == prefix or api_field.startswith(prefix + "."):
            if prefix.startswith("income.lines["):
                return name
            return name + api_field[len(prefix) :]
    if api_field in ("income", "income.month"):
        return "income.month"
    return api_field
