"""Attachments as the API shows them (never their bytes: those are a separate download)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import msgspec

from api.schemas import next_id_cursor
from ledger.store.attachments import Attachment as StoredAttachment


class Attachment(msgspec.Struct):
    id: int
    record: str  # transaction, disbursement, statement or award
    record_id: int
    sha256: str
    media_type: str  # found from the content: image/jpeg, image/png or application/pdf
    size: int
    file_name: str
    created_at: datetime.datetime
    created_by: str | None

    @classmethod
    def of(cls, found: StoredAttachment) -> Attachment:
        return cls(
            id=found.id,
            record=found.record_kind,
            record_id=found.record_id,
            sha256=found.sha256,
            media_type=found.media_type,
            size=found.size,
            file_name=found.file_name,
            created_at=found.created_at,
            created_by=found.created_by,
        )


class AttachmentPage(msgspec.Struct):
    items: list[Attachment]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredAttachment], limit: int) -> AttachmentPage:
        return cls([Attachment.of(a) for a in found], next_id_cursor(found, limit))


class AttachmentUpload(msgspec.Struct):
    """What an upload's Idempotency-Key is bound to: the same key with another file is 409."""

    sha256: str
    file_name: str
