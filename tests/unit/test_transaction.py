"""Building and validating transactions in pure code, before any database sees them.

The scenarios: the finance team changes dollars into riel at the Bavet office, a livelihood
officer hands a household two pigs in kind, a grant is paid out in cash. Every problem comes
back as data with a stable code and the field to fix.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core import limits
from ledger.core.errors import LedgerError
from ledger.core.transaction import (
    Posting,
    PostingDraft,
    Price,
    PriceDraft,
    Transaction,
    TransactionDraft,
    build_transaction,
    find_errors,
    is_plainly_valid,
    residuals,
    reversal_of,
    validate_transaction,
)

D = datetime.date
PRECISIONS = {"KHR": 0, "USD": 2, "THB": 2, "PIG": 0, "CHICKEN": 0, "GOAT": 0}
DAY = D(2018, 11, 4)

BANK = "Assets:Bank:Operating-USD"
BAVET = "Assets:Cash:Bavet-KHR"
GRANTS = "Expenses:Grants:Cash:CTIP-2018"
IN_KIND = "Expenses:Grants:InKind:CTIP-2018"
PIGS = "Assets:Livestock:Pigs"


def draft(*postings: PostingDraft, **fields: object) -> TransactionDraft:
    values: dict[str, object] = {"date": DAY, "narration": "Grant payment", "postings": postings}
    values.update(fields)
    return TransactionDraft(**values)  # type: ignore[arg-type]


def grant_paid(amount: str = "400000", **fields: object) -> TransactionDraft:
    """A cash grant of riel paid out of the Bavet cash box."""
    return draft(
        PostingDraft(GRANTS, amount, "KHR"), PostingDraft(BAVET, f"-{amount}", "KHR"), **fields
    )


def built(d: TransactionDraft) -> Transaction:
    result = build_transaction(d, PRECISIONS)
    assert isinstance(result, Transaction), result
    return result


def codes(d: TransactionDraft) -> list[str]:
    result = build_transaction(d, PRECISIONS)
    assert isinstance(result, tuple), f"expected errors, got {result!r}"
    return [e.code for e in result]


def errors_of(d: TransactionDraft) -> tuple[LedgerError, ...]:
    result = build_transaction(d, PRECISIONS)
    assert isinstance(result, tuple), f"expected errors, got {result!r}"
    return result


def simple(*postings: Posting, **fields: object) -> Transaction:
    values: dict[str, object] = {"date": DAY, "narration": "Grant payment", "postings": postings}
    values.update(fields)
    return Transaction(**values)  # type: ignore[arg-type]


# -- balanced transactions -------------------------------------------------------------------


def test_a_cash_grant_in_riel_balances() -> None:
    txn = built(grant_paid("400000"))
    assert txn.postings == (
        Posting(GRANTS, 400_000, "KHR"),
        Posting(BAVET, -400_000, "KHR"),
    )
    assert residuals(txn, PRECISIONS) == {}


def test_exchange_at_bavet_balances_with_a_total_price() -> None:
    # 100 dollars bought 410,000 riel: "@@ 100.00 USD" balances exactly whatever the rate.
    txn = built(
        draft(
            PostingDraft(BANK, "-100.00", "USD"),
            PostingDraft(BAVET, "410000", "KHR", total_price=PriceDraft("100.00", "USD")),
            narration="Exchange for cash disbursements",
        )
    )
    assert txn.postings[1].price == Price("USD", total=10_000)
    assert residuals(txn, PRECISIONS) == {}


def test_exchange_at_bavet_balances_with_a_unit_price() -> None:
    # -100.00 USD @ 4100 KHR weighs -410,000 riel.
    txn = built(
        draft(
            PostingDraft(BANK, "-100.00", "USD", price=PriceDraft("4100", "KHR")),
            PostingDraft(BAVET, "410000", "KHR"),
        )
    )
    assert txn.postings[0].price == Price("KHR", per_unit=Decimal(4100))


def test_two_pigs_in_kind_at_cost_balance_against_riel() -> None:
    txn = built(
        draft(
            PostingDraft(PIGS, "2", "PIG", price=PriceDraft("650000", "KHR")),
            PostingDraft(BAVET, "-1300000", "KHR"),
            narration="Two piglets for household DV-009",
        )
    )
    assert txn.postings[0].units == 2


def test_a_transaction_may_use_the_maximum_number_of_postings() -> None:
    # A savings-group meeting: 63 members' shares into one cash box.
    shares = tuple(
        PostingDraft(f"Liabilities:Members:M{n:02d}", "-5000", "KHR")
        for n in range(limits.POSTINGS_PER_TRANSACTION_MAX - 1)
    )
    total = str(5000 * len(shares))
    txn = built(draft(*shares, PostingDraft(BAVET, total, "KHR")))
    assert len(txn.postings) == limits.POSTINGS_PER_TRANSACTION_MAX


# -- unbalanced and malformed postings -------------------------------------------------------


def test_one_posting_is_too_few() -> None:
    assert codes(draft(PostingDraft(GRANTS, "400000", "KHR"))) == ["too_few_postings"]
    assert codes(draft()) == ["too_few_postings"]


def test_unbalanced_postings_are_refused_with_the_difference() -> None:
    errors = errors_of(
        draft(PostingDraft(GRANTS, "400000", "KHR"), PostingDraft(BAVET, "-399000", "KHR"))
    )
    assert [e.code for e in errors] == ["transaction_not_balanced"]
    assert errors[0].field == "postings"
    assert "KHR off by 1000" in errors[0].message


def test_a_total_price_that_does_not_match_is_unbalanced() -> None:
    assert codes(
        draft(
            PostingDraft(BANK, "-100.00", "USD"),
            PostingDraft(BAVET, "410000", "KHR", total_price=PriceDraft("99.99", "USD")),
        )
    ) == ["transaction_not_balanced"]


def test_each_commodity_balances_on_its_own() -> None:
    # Riel in and dollars out without a price is two unbalanced commodities, not an exchange.
    errors = errors_of(
        draft(PostingDraft(BANK, "-100.00", "USD"), PostingDraft(BAVET, "410000", "KHR"))
    )
    assert [e.code for e in errors] == ["transaction_not_balanced"]
    assert "KHR off by 410000" in errors[0].message
    assert "USD off by -10000" in errors[0].message


def test_too_many_postings_are_refused_before_anything_else() -> None:
    postings = tuple(
        PostingDraft(BAVET, "1", "KHR") for _ in range(limits.POSTINGS_PER_TRANSACTION_MAX + 1)
    )
    assert codes(draft(*postings)) == ["too_many_postings"]
    txn = simple(*(Posting(BAVET, 1, "KHR") for _ in range(65)))
    assert [e.code for e in validate_transaction(txn, PRECISIONS)] == ["too_many_postings"]


def test_a_zero_amount_is_refused() -> None:
    errors = errors_of(draft(PostingDraft(GRANTS, "0", "KHR"), PostingDraft(BAVET, "0", "KHR")))
    assert [(e.code, e.field) for e in errors] == [
        ("amount_zero", "postings[0].amount"),
        ("amount_zero", "postings[1].amount"),
    ]


def test_an_unknown_commodity_is_refused() -> None:
    errors = errors_of(draft(PostingDraft(GRANTS, "5", "XAU"), PostingDraft(BAVET, "-5", "XAU")))
    assert [(e.code, e.field) for e in errors] == [
        ("commodity_unknown", "postings[0].currency"),
        ("commodity_unknown", "postings[1].currency"),
    ]


def test_every_bad_amount_is_reported_at_once() -> None:
    errors = errors_of(draft(PostingDraft(GRANTS, "1.5", "KHR"), PostingDraft(BANK, "1e5", "USD")))
    assert [(e.code, e.field) for e in errors] == [
        ("amount_precision_exceeded", "postings[0].amount"),
        ("amount_invalid", "postings[1].amount"),
    ]


def test_an_invalid_account_name_is_refused() -> None:
    errors = errors_of(
        draft(PostingDraft("Assets:Cash Box", "5", "KHR"), PostingDraft(BAVET, "-5", "KHR"))
    )
    assert [(e.code, e.field) for e in errors] == [("account_name_invalid", "postings[0].account")]


# -- prices ----------------------------------------------------------------------------------


def test_a_price_in_the_same_commodity_is_refused() -> None:
    assert codes(
        draft(
            PostingDraft(BAVET, "410000", "KHR", price=PriceDraft("1", "KHR")),
            PostingDraft(GRANTS, "-410000", "KHR"),
        )
    ) == ["price_same_commodity"]


def test_price_and_total_price_together_are_refused() -> None:
    assert codes(
        draft(
            PostingDraft(BANK, "-100.00", "USD"),
            PostingDraft(
                BAVET,
                "410000",
                "KHR",
                price=PriceDraft("0.000245", "USD"),
                total_price=PriceDraft("100.00", "USD"),
            ),
        )
    ) == ["price_conflict"]


def test_a_unit_price_that_would_round_asks_for_a_total_price() -> None:
    errors = errors_of(
        draft(
            PostingDraft(BANK, "-100.45", "USD"),
            PostingDraft(BAVET, "410001", "KHR", price=PriceDraft("0.000245", "USD")),
        )
    )
    assert [(e.code, e.field) for e in errors] == [("price_weight_inexact", "postings[1].price")]


@pytest.mark.parametrize("amount", ["0.00", "-100.00"])
def test_a_total_price_is_positive(amount: str) -> None:
    assert codes(
        draft(
            PostingDraft(BANK, "-100.00", "USD"),
            PostingDraft(BAVET, "410000", "KHR", total_price=PriceDraft(amount, "USD")),
        )
    ) == ["price_invalid"]


def test_a_price_in_an_unknown_commodity_is_refused() -> None:
    assert codes(
        draft(
            PostingDraft(BANK, "-100.00", "USD"),
            PostingDraft(BAVET, "410000", "KHR", total_price=PriceDraft("100.00", "EUR")),
        )
    ) == ["commodity_unknown"]
    assert codes(
        draft(
            PostingDraft(BANK, "-100.00", "USD"),
            PostingDraft(BAVET, "410000", "KHR", price=PriceDraft("0.000245", "EUR")),
        )
    ) == ["commodity_unknown"]


def test_a_bad_price_text_is_price_invalid() -> None:
    assert codes(
        draft(
            PostingDraft(PIGS, "2", "PIG", price=PriceDraft("-650000", "KHR")),
            PostingDraft(BAVET, "-1300000", "KHR"),
        )
    ) == ["price_invalid"]


def test_a_unit_price_built_in_code_must_be_positive() -> None:
    # Posting rules build Transactions directly; validation must not trust them more than text.
    # A negative price makes the pigs "weigh" minus 1,300,000 riel and the entry look balanced.
    txn = simple(
        Posting(PIGS, 2, "PIG", Price("KHR", per_unit=Decimal(-650_000))),
        Posting(BAVET, 1_300_000, "KHR"),
    )
    assert [e.code for e in validate_transaction(txn, PRECISIONS)] == ["price_invalid"]
    for per_unit in (Decimal(0), Decimal("NaN"), Decimal("Infinity"), Decimal(10**12)):
        txn = simple(
            Posting(PIGS, 2, "PIG", Price("KHR", per_unit=per_unit)),
            Posting(BAVET, -2, "KHR"),
        )
        assert [e.code for e in validate_transaction(txn, PRECISIONS)] == ["price_invalid"]


def test_a_unit_price_with_too_many_digits_built_in_code_is_refused() -> None:
    per_unit = Decimal("1." + "0" * 30)  # 31 significant digits: more than a price may hold
    txn = simple(
        Posting(PIGS, 2, "PIG", Price("KHR", per_unit=per_unit)),
        Posting(BAVET, -2, "KHR"),
    )
    assert [e.code for e in validate_transaction(txn, PRECISIONS)] == ["price_invalid"]


def test_a_balanced_swap_whose_weight_exceeds_the_ledger_is_refused_not_crashed() -> None:
    # Each side is within the posting limit, but at an absurd price the weights (10^26 riel)
    # would not fit a 64-bit column: the database would crash instead of saying why.
    price = Price("KHR", per_unit=Decimal(10**11))
    txn = simple(
        Posting(PIGS, limits.POSTING_UNITS_ABS_MAX, "PIG", price),
        Posting("Assets:Livestock:Goats", -limits.POSTING_UNITS_ABS_MAX, "GOAT", price),
    )
    errors = validate_transaction(txn, PRECISIONS)
    assert [(e.code, e.field) for e in errors] == [
        ("amount_too_large", "postings[0].price"),
        ("amount_too_large", "postings[1].price"),
    ]


def test_a_total_price_beyond_the_limit_is_refused() -> None:
    txn = simple(
        Posting(PIGS, 2, "PIG", Price("KHR", total=limits.POSTING_UNITS_ABS_MAX + 1)),
        Posting(BAVET, -(limits.POSTING_UNITS_ABS_MAX + 1), "KHR"),
    )
    assert "price_invalid" in [e.code for e in validate_transaction(txn, PRECISIONS)]


# -- text, tags, links and metadata ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'Grant to household DV-009 "poultry" batch',
        "Path C:\\receipts\\2018",
        "First line\nsecond line",
        "Windows line\r\nending",
        "Column\tseparated",
        "ប្រាក់ឧបត្ថម្ភសម្រាប់ចិញ្ចឹមជ្រូក",  # a grant for raising pigs
        "",
    ],
)
def test_quotes_backslashes_newlines_tabs_and_khmer_are_accepted(text: str) -> None:
    txn = built(grant_paid(narration=text, payee=text or None, meta=(("note", text),)))
    assert txn.narration == text


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9b"],
)
def test_control_characters_are_refused_wherever_text_goes(char: str) -> None:
    text = f"Grant{char}payment"
    errors = errors_of(grant_paid(narration=text, payee=text, meta=(("note", text),)))
    assert [(e.code, e.field) for e in errors] == [
        ("text_control_character", "narration"),
        ("text_control_character", "payee"),
        ("text_control_character", "meta.note"),
    ]


def test_text_lengths_have_limits() -> None:
    assert built(grant_paid(narration="n" * limits.NARRATION_LENGTH_MAX))
    assert built(grant_paid(payee="p" * limits.PAYEE_LENGTH_MAX))
    errors = errors_of(
        grant_paid(
            narration="n" * (limits.NARRATION_LENGTH_MAX + 1),
            payee="p" * (limits.PAYEE_LENGTH_MAX + 1),
            meta=(("note", "v" * (limits.META_VALUE_LENGTH_MAX + 1)),),
        )
    )
    assert [(e.code, e.field) for e in errors] == [
        ("text_too_long", "narration"),
        ("text_too_long", "payee"),
        ("text_too_long", "meta.note"),
    ]


def test_tags_and_links_in_beancount_syntax_are_accepted() -> None:
    txn = built(grant_paid(tags=("CTIP-2018", "grant/cash", "q4.2018_bavet"), links=("DV-009",)))
    assert txn.tags == ("CTIP-2018", "grant/cash", "q4.2018_bavet")


@pytest.mark.parametrize("label", ["", "two words", "#CTIP", "^DV-009", "ជ្រូក", "x" * 65, "a,b"])
def test_invalid_tags_and_links_are_refused(label: str) -> None:
    errors = errors_of(grant_paid(tags=("ok", label), links=(label,)))
    assert [(e.code, e.field) for e in errors] == [
        ("tag_invalid", "tags[1]"),
        ("link_invalid", "links[0]"),
    ]


def test_tags_and_links_have_a_count_limit() -> None:
    tags = tuple(f"t{n}" for n in range(limits.TAGS_PER_TRANSACTION_MAX + 1))
    links = tuple(f"l{n}" for n in range(limits.LINKS_PER_TRANSACTION_MAX + 1))
    assert codes(grant_paid(tags=tags, links=links)) == ["too_many_tags", "too_many_links"]


@pytest.mark.parametrize("key", ["case", "caseCode", "case_code", "case-code", "k" * 64])
def test_metadata_keys_start_with_a_lowercase_letter(key: str) -> None:
    assert built(grant_paid(meta=((key, "DV-009"),)))


@pytest.mark.parametrize(
    "key", ["Case", "1case", "", "case code", "ករណី", "k" * 65, "case:code", "_case"]
)
def test_invalid_metadata_keys_are_refused(key: str) -> None:
    assert codes(grant_paid(meta=((key, "DV-009"),))) == ["meta_key_invalid"]


@pytest.mark.parametrize("key", ["id", "reverses", "filename", "lineno", "created-by"])
def test_reserved_metadata_keys_are_refused(key: str) -> None:
    errors = errors_of(grant_paid(meta=((key, "7"),)))
    assert [(e.code, e.field) for e in errors] == [("meta_key_invalid", f"meta.{key}")]


def test_a_metadata_key_given_twice_is_refused() -> None:
    # Stored metadata is one value per key: the second would silently replace the first.
    errors = errors_of(grant_paid(meta=(("case", "DV-009"), ("case", "DV-010"))))
    assert [(e.code, e.field) for e in errors] == [("meta_key_repeated", "meta.case")]


def test_metadata_has_a_count_limit() -> None:
    meta = tuple((f"k{n}", "v") for n in range(limits.META_ENTRIES_PER_TRANSACTION_MAX + 1))
    assert codes(grant_paid(meta=meta)) == ["too_many_meta"]


# -- reversals -------------------------------------------------------------------------------


def test_a_reversal_undoes_every_posting_and_keeps_the_labels() -> None:
    original = built(
        draft(
            PostingDraft(BANK, "-100.00", "USD"),
            PostingDraft(BAVET, "410000", "KHR", total_price=PriceDraft("100.00", "USD")),
            narration="Exchange",
            payee="ACLEDA Bank",
            tags=("exchange",),
            links=("EX-2018-11",),
            meta=(("receipt", "R-17"),),
        )
    )
    reversal = reversal_of(original, D(2018, 11, 5), "Wrong rate, reversed")
    assert reversal.date == D(2018, 11, 5)
    assert reversal.narration == "Wrong rate, reversed"
    assert (reversal.payee, reversal.tags, reversal.links, reversal.meta) == (
        original.payee,
        original.tags,
        original.links,
        original.meta,
    )
    assert [(p.account, p.units, p.commodity, p.price) for p in reversal.postings] == [
        (BANK, 10_000, "USD", None),
        (BAVET, -410_000, "KHR", Price("USD", total=10_000)),
    ]
    assert validate_transaction(reversal, PRECISIONS) == ()
    # Together, original and reversal leave every account where it was.
    net: dict[tuple[str, str], int] = {}
    for p in original.postings + reversal.postings:
        net[(p.account, p.commodity)] = net.get((p.account, p.commodity), 0) + p.units
    assert set(net.values()) == {0}


def test_a_reversal_of_a_unit_price_posting_balances() -> None:
    original = built(
        draft(
            PostingDraft(PIGS, "2", "PIG", price=PriceDraft("650000", "KHR")),
            PostingDraft(BAVET, "-1300000", "KHR"),
        )
    )
    reversal = reversal_of(original, DAY, "Pigs returned")
    assert validate_transaction(reversal, PRECISIONS) == ()
    assert reversal.postings[0].units == -2


# -- the fast path of validate_transaction ----------------------------------------------------

# Near the edges of every rule the fast path checks: names, commodities, amounts, counts, text.
_accounts = st.sampled_from(
    [BANK, BAVET, GRANTS, "Assets:cash", "Income", "Expenses:Ok:" + "A" * 200]
)
_commodities = st.sampled_from(["KHR", "USD", "PIG", "XAU"])
_units = st.sampled_from(
    [0, 1, -1, 400_000, -400_000, limits.POSTING_UNITS_ABS_MAX, -limits.POSTING_UNITS_ABS_MAX - 1]
)
_texts = st.sampled_from(["Grant payment", "", "x" * 1_001, "NUL \x00", 'ក្រុម "q" \\ \n'])


@st.composite
def _transactions(draw: st.DrawFn) -> Transaction:
    postings = draw(
        st.lists(
            st.builds(
                Posting,
                _accounts,
                _units,
                _commodities,
                st.none() | st.just(Price("USD", total=100)),
            ),
            max_size=limits.POSTINGS_PER_TRANSACTION_MAX + 1,
        )
    )
    # Often balanced: mirror the postings so that each commodity sums to zero.
    if draw(st.booleans()):
        postings += [Posting(p.account, -p.units, p.commodity) for p in postings]
    return Transaction(
        date=DAY,
        narration=draw(_texts),
        payee=draw(st.none() | _texts),
        postings=tuple(postings),
        tags=draw(st.sampled_from([(), ("ctip",), ("bad tag",)])),
    )


@settings(max_examples=400, deadline=None)
@given(_transactions())
def test_the_fast_path_never_accepts_what_the_full_checks_refuse(txn: Transaction) -> None:
    if is_plainly_valid(txn, PRECISIONS):
        assert find_errors(txn, PRECISIONS) == ()
    assert validate_transaction(txn, PRECISIONS) == find_errors(txn, PRECISIONS)


def test_the_fast_path_takes_a_plain_balanced_transaction() -> None:
    txn = simple(Posting(GRANTS, 400_000, "KHR"), Posting(BAVET, -400_000, "KHR"), payee="Pich")
    assert is_plainly_valid(txn, PRECISIONS)
    assert validate_transaction(txn, PRECISIONS) == ()
