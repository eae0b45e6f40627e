"""The grant receipt a beneficiary signs: bilingual, one A4 page, case code and never a name.

Figures and English are read back from the PDF with pdftotext; Khmer is asserted on the HTML
(pdftotext reorders Khmer clusters) and was checked by eye on a rendered page.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from ledger.core import limits
from ledger.core.limits import DISBURSEMENT_ITEMS_MAX
from ledger.demo.receipts import cash_receipt, in_kind_receipt, receipt_at_limits
from ledger.grants import rules as grants
from ledger.reports.pdf import lay_out, render_html
from ledger.reports.receipt import (
    BUSINESS_TYPES,
    METHODS,
    ReceiptItem,
    ReceiptView,
    receipt_html,
    render_receipt,
)
from tests.pdf import pdf_page_count, pdf_page_png, pdf_text

CASH = cash_receipt()


def _with_items(items: tuple[ReceiptItem, ...], **changes: object) -> ReceiptView:
    total = sum((item.value for item in items), Decimal(0))
    fields: dict[str, object] = {"items": items, "total_value": total, **changes}
    return dataclasses.replace(in_kind_receipt(), **fields)  # type: ignore[arg-type]


def test_cash_receipt_states_the_amount_in_figures_and_words() -> None:
    pdf = render_receipt(CASH)
    text = pdf_text(pdf)
    assert pdf_page_count(pdf) == 1
    for expected in (
        "CCPCR Livelihood Programme",
        "Grant receipt",
        "ORG-2018-0007",
        "DV-009",
        "4 November 2018",
        "410,000 KHR",
        "Four hundred ten thousand riel",
        "CTIP-2018",
        "USAID through Winrock International",
        "Livelihood grants",
        "Cash box, Bavet (KHR)",
        "sokha.officer",
        "Recipient's signature or thumbprint",
        "Officer",
        "Witness",
    ):
        assert expected in text, expected


def test_paid_from_is_the_accounts_human_name_not_its_ledger_name() -> None:
    text = pdf_text(render_receipt(CASH))
    assert "Cash box, Bavet (KHR)" in text
    assert "Assets:" not in text
    assert "ប្រអប់សាច់ប្រាក់ Bavet (KHR)</span> / Cash box, Bavet (KHR)" in receipt_html(CASH)
    bank = dataclasses.replace(
        CASH,
        paid_from="Assets:Bank:Phnom-Penh-Operating-USD",
        currency="USD",
        amount=Decimal("120.50"),
        total_value=Decimal("120.50"),
    )
    assert "Bank account, Phnom Penh Operating (USD)" in pdf_text(render_receipt(bank))
    odd = dataclasses.replace(CASH, paid_from="Assets:Petty")
    assert "Account, Petty (KHR)" in pdf_text(render_receipt(odd))


def test_khmer_is_on_every_label_and_in_the_words() -> None:
    html = receipt_html(CASH)
    for expected in (
        "បង្កាន់ដៃទទួលជំនួយ</span> / Grant receipt",
        "លេខកូដករណី</span> / Case code",
        "ថ្ងៃទី៤ ខែវិច្ឆិកា ឆ្នាំ២០១៨",
        "បួនសែនមួយម៉ឺនរៀល",
        "ស្នាមមេដៃ",
        "សាក្សី",
        "ចិញ្ចឹមជ្រូក</span> / Pig raising",
        "សាច់ប្រាក់</span> / Cash",
        "ជំនួយចិញ្ចឹមជ្រូក, first of two tranches",
    ):
        assert expected in html, expected


def test_dollars_and_cents_in_words() -> None:
    view = dataclasses.replace(
        CASH, currency="USD", amount=Decimal("120.50"), total_value=Decimal("120.50")
    )
    text = pdf_text(render_receipt(view))
    assert "120.50 USD" in text
    assert "One hundred twenty dollars and 50 cents" in text
    assert "មួយរយម្ភៃដុល្លារ និង ហាសិបសេន" in receipt_html(view)


def test_in_kind_receipt_lists_head_counts_and_value() -> None:
    view = _with_items(
        (
            ReceiptItem("PIG", 2, Decimal("600000"), "KHR"),
            ReceiptItem("CHICKEN", 10, Decimal("25000"), "KHR"),
        )
    )
    text = pdf_text(render_receipt(view))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert any("pigs 2" in line and "head 600,000 1,200,000" in line for line in lines), text
    assert any("chickens 10" in line and "head 25,000 250,000" in line for line in lines), text
    assert "1,450,000 KHR" in text
    assert "One million four hundred fifty thousand riel" in text
    html = receipt_html(view)
    assert "ជ្រូក</span> / pigs" in html
    assert "មាន់</span> / chickens" in html
    assert "មួយលានបួនសែនប្រាំម៉ឺនរៀល" in html


def test_every_livestock_has_its_khmer_name() -> None:
    html = receipt_html(in_kind_receipt(6, quantity=1))
    for khmer, english in (
        ("ជ្រូក", "pig"),
        ("មាន់", "chickens"),
        ("ទា", "ducks"),
        ("គោ", "cows"),
        ("ក្របី", "buffaloes"),
        ("ពពែ", "goats"),
    ):
        assert f"{khmer}</span> / {english}<" in html


def test_the_most_items_fit_one_page() -> None:
    view = in_kind_receipt(DISBURSEMENT_ITEMS_MAX)
    # Ordinary texts need no compact type, even beside the most items.
    assert len(lay_out("receipt.html", {"receipt": view, "compact": False}).pages) == 1
    pdf = render_receipt(view)
    assert pdf_page_count(pdf) == 1
    text = pdf_text(pdf)
    assert view.receipt_number in text
    assert view.case_code in text
    assert "Witness" in text  # the signature boxes are on the same page
    for item in view.items:
        assert f"{item.value:,f}" in text


def test_every_field_at_its_limit_still_fits_one_page(tmp_path: Path) -> None:
    view = receipt_at_limits()
    assert len(view.items) == DISBURSEMENT_ITEMS_MAX
    pdf = render_receipt(view)
    assert pdf_page_count(pdf) == 1
    text = pdf_text(pdf)
    assert "Witness" in text
    assert f"{view.total_value:,f} KHR" in text
    assert pdf_page_png(pdf, tmp_path).stat().st_size > 0


def test_a_page_can_be_looked_at(tmp_path: Path) -> None:
    png = pdf_page_png(render_receipt(CASH), tmp_path)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    # A4 (210 x 297 mm) at 60 dpi, portrait: 496 x 702 pixels, give or take poppler's rounding.
    assert abs(width - 496) <= 1
    assert abs(height - 702) <= 1


def test_every_business_type_and_method_of_a_grant_has_khmer_and_english() -> None:
    assert set(BUSINESS_TYPES) == set(grants.BUSINESS_TYPES)
    assert set(METHODS) == set(grants.METHODS)
    for view in (dataclasses.replace(CASH, business_type=b) for b in grants.BUSINESS_TYPES):
        assert view.business_type_km
        assert view.business_type_en


def test_no_field_can_hold_personal_data() -> None:
    personal = ("name", "phone", "address", "village", "birth", "age", "sex", "contact")
    names = [f.name for f in dataclasses.fields(ReceiptView)]
    names += [f.name for f in dataclasses.fields(ReceiptItem)]
    assert [n for n in names if any(p in n for p in personal)] == []
    assert "case_code" in names


def test_text_is_escaped_not_interpreted() -> None:
    view = dataclasses.replace(CASH, narration='<script>alert("x")</script> & <b>')
    html = receipt_html(view)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp; &lt;b&gt;" in html


def test_a_missing_value_fails_the_render() -> None:
    with pytest.raises(UndefinedError):
        render_html("receipt.html", {"compact": False})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "cheque"}, "method"),
        ({"currency": "EUR"}, "riel, dollars or baht"),
        ({"amount": Decimal("0"), "total_value": Decimal("0")}, "positive"),
        ({"amount": Decimal("410000"), "total_value": Decimal("1")}, "total value"),
        ({"amount": None}, "has an amount"),
        ({"items": in_kind_receipt(1).items}, "has an amount"),
        ({"case_code": "D" * 17}, "case_code has at most 16"),
        ({"narration": "x" * (limits.NARRATION_LENGTH_MAX + 1)}, "narration"),
        ({"amount": Decimal(10**12), "total_value": Decimal(10**12)}, "at most"),
    ],
)
def test_an_inconsistent_money_receipt_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(CASH, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("items", "changes", "message"),
    [
        (in_kind_receipt(20).items * 2, {}, "at most 20 items"),
        ((), {}, "lists items"),
        (in_kind_receipt(2).items, {"amount": Decimal("1")}, "lists items"),
        (in_kind_receipt(2).items, {"total_value": Decimal("1")}, "sum of the items"),
        ((ReceiptItem("PIG", 1, Decimal("100"), "USD"),), {}, "receipt's currency"),
        ((ReceiptItem("PIG", 0, Decimal("100"), "KHR"),), {}, "positive quantity"),
        ((ReceiptItem("PIG", 1, Decimal("-1"), "KHR"),), {}, "positive quantity"),
    ],
)
def test_an_inconsistent_in_kind_receipt_is_refused(
    items: tuple[ReceiptItem, ...], changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _with_items(items, **changes)
