"""WeasyPrint never writes the document's text into the log.

The probe found ".notdef glyph rendered for ..." lines in the server log quoting what a
receipt said. A receipt whose narration holds characters no installed font has (an Egyptian
hieroglyph, an Adlam letter) is rendered; WeasyPrint still says what happened, without the
text.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest

from ledger.demo.receipts import cash_receipt
from ledger.reports.pdf_log import redact_template
from ledger.reports.receipt import render_receipt
from tests.pdf import pdf_text

UNSHAPEABLE = "\U00013000\U0001e900"
SECRET = "Sok Dara"


def test_a_receipt_with_an_unshapeable_character_logs_no_document_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receipt = dataclasses.replace(cash_receipt(), narration=f"Grant to {SECRET} {UNSHAPEABLE}")
    caplog.set_level(logging.DEBUG)
    pdf = render_receipt(receipt)
    assert "DV-009" in pdf_text(pdf)  # it was rendered
    weasyprint = [r for r in caplog.records if r.name.startswith("weasyprint")]
    assert any(".notdef" in r.getMessage() for r in weasyprint), "nothing to redact was logged"
    for record in caplog.records:
        message = record.getMessage()
        for text in (*UNSHAPEABLE, SECRET, "U+13000", "13000", "1E900"):
            assert text not in message, (record.name, message)
    assert SECRET not in caplog.text
    assert not any(c in caplog.text for c in UNSHAPEABLE)


def test_the_redacted_message_keeps_what_happened() -> None:
    assert redact_template('unsupported by fonts: "%s" (U+%04X)') == (
        'unsupported by fonts: "…" (U+…)'
    )
    assert redact_template("Ignored %r at %d:%d, 100%% sure") == "Ignored … at …:…, 100% sure"
