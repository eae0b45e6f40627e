"""How to read the two sample bank exports in tests/data/ (invented data, a USD account):
for previews, the tests, the bench and the API's example.

- `statement-acleda-usd.csv`, ACLEDA-like: a preamble of five rows, then day-first dates,
  separate debit and credit columns and a running balance, commas between thousands.
- `statement-aba-usd.csv`, ABA-like: headings on the first row, `03-Dec-2018` dates, one
  signed amount with a `$` sign, a currency column and a running balance.
"""

from __future__ import annotations

import dataclasses

from ledger.reconcile.rules import ColumnMapping

ACLEDA_LIKE = ColumnMapping(
    header_row=5,
    date="Date",
    date_format="DD/MM/YYYY",
    description="Description",
    reference="Reference",
    debit="Debit",
    credit="Credit",
    balance="Balance",
)
ABA_LIKE = ColumnMapping(
    date="Transaction Date",
    date_format="DD-Mon-YYYY",
    description="Transaction Details",
    reference="Ref. No.",
    amount="Amount",
    currency="Ccy",
    balance="Balance",
)


def as_json(mapping: ColumnMapping) -> dict[str, object]:
    """The mapping as a request sends it: the fields it sets, without the unset ones."""
    return {k: v for k, v in dataclasses.asdict(mapping).items() if v is not None}
