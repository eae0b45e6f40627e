"""What an uploaded file is, read from its bytes: a JPEG, a PNG or a PDF, or refused.

The name a phone gives a file and the Content-Type it sends say nothing reliable, so the
type comes from the content's own signature and a structure check deep enough that a cut-off
file (a header alone) is refused too. Pure: no database.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, invalid

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
MEDIA_TYPES = (JPEG, PNG, PDF)
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A PNG is its signature, then a 13-byte IHDR chunk (4 length + 4 type + 13 + 4 CRC), then
# at least an IEND chunk: 8 + 25 + 12 bytes.
PNG_BYTES_MIN = 45
PDF_HEADER_RE = re.compile(rb"%PDF-[12]\.[0-9]")
# A PDF ends with `%%EOF` (and perhaps a line end or a few bytes of padding).
PDF_TAIL_BYTES = 1024
JPEG_BYTES_MIN = 128
FILE_NAME_BAD_RE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\"';<>]")

FIELD = "file"


def unsupported(message: str) -> LedgerError:
    return LedgerError("attachment_type_unsupported", message, FIELD, "unsupported")


def sniff_media_type(content: bytes) -> str | None:
    """JPEG, PNG or PDF from the bytes themselves; None for anything else or a cut-off file."""
    if content.startswith(PNG_SIGNATURE):
        whole = len(content) >= PNG_BYTES_MIN and content[12:16] == b"IHDR"
        return PNG if whole and content[-8:-4] == b"IEND" else None
    if content.startswith(b"\xff\xd8\xff"):
        # Start of image, then a marker; the end-of-image marker near the end.
        whole = len(content) >= JPEG_BYTES_MIN and b"\xff\xd9" in content[-64:]
        return JPEG if whole else None
    if PDF_HEADER_RE.match(content):
        return PDF if b"%%EOF" in content[-PDF_TAIL_BYTES:] else None
    return None


@dataclass(frozen=True, slots=True)
class CheckedFile:
    media_type: str
    sha256: str
    size: int
    file_name: str


def clean_file_name(name: str | None, media_type: str, sha256: str) -> str:
    """The name to show: what the uploader called it, without control characters or
    directories, and with the extension of what it really is."""
    base = FILE_NAME_BAD_RE.sub("", (name or "").strip())[: limits.ATTACHMENT_NAME_LENGTH_MAX - 5]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or sha256[:12]}.{EXTENSIONS[media_type]}"


def check_file(content: bytes, name: str | None) -> CheckedFile:
    """Refuse an empty, too large or unsupported file (nothing is written); else its facts."""
    if not content:
        raise LedgerRejected([invalid("attachment_empty", "The file is empty.", FIELD)])
    if len(content) > limits.ATTACHMENT_BYTES_MAX:
        too_large = LedgerError(
            "attachment_too_large",
            f"A file is at most {limits.ATTACHMENT_BYTES_MAX} bytes (10 MB).",
            FIELD,
            "too_large",
        )
        raise LedgerRejected([too_large])
    media_type = sniff_media_type(content)
    if media_type is None:
        raise LedgerRejected([unsupported("Attach a JPEG or PNG photo or a PDF scan.")])
    sha256 = hashlib.sha256(content).hexdigest()
    return CheckedFile(media_type, sha256, len(content), clean_file_name(name, media_type, sha256))
