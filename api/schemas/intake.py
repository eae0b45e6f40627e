"""Spreadsheet imports as the API takes and returns them. The file travels in JSON as base64
(`content_base64`), like a bank statement's CSV text travels in `csv`."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

import msgspec

from ledger.core import limits
from ledger.core.errors import LedgerRejected, invalid
from ledger.intake.service import Outcome

ImportKind = Literal[
    "households",
    "household-members",
    "savings-members",
    "training-participants",
    "opening-balances",
]
# Base64 of the largest file, with its padding.
CONTENT_BASE64_LENGTH_MAX = (limits.IMPORT_FILE_BYTES_MAX + 2) // 3 * 4
IMPORT_REQUEST_BYTES_MAX = CONTENT_BASE64_LENGTH_MAX + 4_096
EXAMPLE_IMPORT = {
    "file_name": "households.csv",
    "content_base64": base64.b64encode(
        b"case_code,province,district,commune,village,head_sex,head_age_band,members,children,"
        b"category,referral_source,consent_date\r\nDV-101,Svay Rieng,Chantrea,Chantrea,Thmei,"
        b"female,25-34,5,3,repatriated_migrant,,2018-11-04\r\n"
    ).decode(),
}


class ImportFile(msgspec.Struct, forbid_unknown_fields=True):
    """An XLSX or CSV file (UTF-8), its bytes in base64."""

    content_base64: Annotated[str, msgspec.Meta(max_length=CONTENT_BASE64_LENGTH_MAX)]
    file_name: Annotated[
        str,
        msgspec.Meta(
            max_length=limits.IMPORT_FILE_NAME_LENGTH_MAX, pattern="^[^\\x00-\\x1f\\x7f]*$"
        ),
    ] = ""

    def content(self) -> bytes:
        try:
            return base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise LedgerRejected(
                [invalid("content_not_base64", "content_base64 is not base64.", "content_base64")]
            ) from None


class ImportProblem(msgspec.Struct):
    row: int  # as the spreadsheet numbers it (the first header row is 1)
    column: str | None
    code: str
    message: str  # in the reader's language (Accept-Language)


class ImportPreview(msgspec.Struct):
    """What the import would do; nothing was recorded."""

    kind: str
    content_sha256: str
    rows: int
    would_add: int
    already_present: int  # rows recorded already (by case code, member number...)
    already_imported: bool  # this very file was imported: importing it adds nothing
    problems: list[ImportProblem]


class ImportResult(msgspec.Struct):
    id: int
    kind: str
    content_sha256: str
    rows: int
    added: int
    already_present: int
    already_imported: bool

    @classmethod
    def of(cls, o: Outcome) -> ImportResult:
        assert o.import_id is not None
        return cls(
            o.import_id,
            o.kind,
            o.content_sha256,
            o.rows,
            o.added,
            o.already_present,
            o.already_imported,
        )
