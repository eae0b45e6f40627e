"""The chain's encoding is the one docs and `ledger/store/chain.py` describe: SHA-256 of the
compact ASCII JSON array, whatever the text (Khmer, quotes, backslashes, control characters,
lone surrogates). The post path writes that JSON by hand for speed; these properties hold it
to `json.dumps`, so anyone can recompute a chain without our code."""

from __future__ import annotations

import datetime
import hashlib
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger.core.transaction import Posting, Price, Transaction
from ledger.store.chain import (
    CHAIN_GENESIS,
    TRANSACTION_VERSION,
    PostingFacts,
    TransactionFields,
    chain_transactions,
    texts_after_previous,
    timestamp_text,
    transaction_hash,
)

texts = st.text(max_size=12) | st.sampled_from(('"', "\\", "\n", "ក្រុមសន្សំប្រាក់", "\ud800"))
optional_texts = st.none() | texts
ints = st.integers(-(2**63), 2**63 - 1)
facts = st.tuples(texts, texts, ints, optional_texts, optional_texts, st.none() | ints, texts, ints)


def reference(previous: str, fields: tuple[object, ...]) -> str:
    text = json.dumps([TRANSACTION_VERSION, previous, *fields], separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@given(
    book_id=st.integers(1, 2**31),
    payee=optional_texts,
    narration=texts,
    reverses_id=st.none() | st.integers(1, 2**31),
    created_by=optional_texts,
    postings=st.lists(facts, max_size=4),
    tags=st.lists(texts, max_size=3),
    links=st.lists(texts, max_size=3),
    meta=st.lists(st.tuples(texts, texts), max_size=3),
)
def test_the_hand_written_json_is_json_dumps(
    book_id: int,
    payee: str | None,
    narration: str,
    reverses_id: int | None,
    created_by: str | None,
    postings: list[PostingFacts],
    tags: list[str],
    links: list[str],
    meta: list[tuple[str, str]],
) -> None:
    at = timestamp_text(datetime.datetime(2018, 11, 4, 9, 30, tzinfo=datetime.UTC))
    fields: TransactionFields = (
        book_id,
        "2018-11-04",
        payee,
        narration,
        reverses_id,
        at,
        created_by,
        postings,
        tags,
        links,
        meta,
    )
    assert transaction_hash(CHAIN_GENESIS, fields) == reference(CHAIN_GENESIS, fields)


def test_a_post_hashes_what_is_stored_in_the_documented_shape() -> None:
    """Riel bought with dollars at a total price, tagged, with metadata given twice (the last
    value is the one stored), posted by `finance` as the book's second transaction."""
    txn = Transaction(
        date=datetime.date(2018, 11, 4),
        narration='Exchange at "Sok"',
        postings=(
            Posting("Assets:Bank:Operating-USD", -10000, "USD"),
            Posting("Assets:Cash:Bavet-KHR", 410000, "KHR", Price("USD", total=10000)),
        ),
        tags=("ctip", "cash", "ctip"),
        meta=(("receipt", "R-1"), ("receipt", "R-2")),
    )
    moment = datetime.datetime(
        2018, 11, 4, 16, 30, 5, 250, tzinfo=datetime.timezone(datetime.timedelta(hours=7))
    )
    previous = "ab" * 32
    [link] = chain_transactions(
        previous, texts_after_previous(3, [txn], {"USD": 2, "KHR": 0}, None, moment, "finance")
    )
    postings = [
        ["Assets:Bank:Operating-USD", "USD", -10000, None, None, None, "USD", -10000],
        ["Assets:Cash:Bavet-KHR", "KHR", 410000, "USD", None, 10000, "USD", 10000],
    ]
    fields: tuple[object, ...] = (
        3,
        "2018-11-04",
        None,
        'Exchange at "Sok"',
        None,
        "2018-11-04T09:30:05.000250+00:00",
        "finance",
        postings,
        ["cash", "ctip"],
        [],
        [["receipt", "R-2"]],
    )
    assert link == reference(previous, fields)


def test_a_unit_price_is_hashed_as_its_exact_decimal_text() -> None:
    txn = Transaction(
        date=datetime.date(2018, 11, 4),
        narration="Ten pigs at 25.50 USD",
        postings=(
            Posting("Assets:Livestock:Pigs", 10, "PIG", Price("USD", per_unit=Decimal("25.50"))),
            Posting("Assets:Bank:Operating-USD", -25500, "USD"),
        ),
    )
    moment = datetime.datetime(2018, 11, 4, tzinfo=datetime.UTC)
    [link] = chain_transactions(
        None, texts_after_previous(1, [txn], {"USD": 2, "PIG": 0}, None, moment, None)
    )
    fields: tuple[object, ...] = (
        1,
        "2018-11-04",
        None,
        "Ten pigs at 25.50 USD",
        None,
        "2018-11-04T00:00:00.000000+00:00",
        None,
        [
            ["Assets:Livestock:Pigs", "PIG", 10, "USD", "25.50", None, "USD", 25500],
            ["Assets:Bank:Operating-USD", "USD", -25500, None, None, None, "USD", -25500],
        ],
        [],
        [],
        [],
    )
    assert link == reference(CHAIN_GENESIS, fields)


unpriced = st.builds(Posting, texts, ints, texts)
transactions = st.builds(
    Transaction,
    date=st.dates(),
    narration=texts,
    postings=st.lists(unpriced, min_size=1, max_size=3).map(tuple),
    payee=st.none() | st.none() | texts,
    tags=st.lists(texts, max_size=2).map(tuple) | st.just(()),
    links=st.lists(texts, max_size=2).map(tuple) | st.just(()),
    meta=st.lists(st.tuples(texts, texts), max_size=2).map(tuple) | st.just(()),
)


@given(txns=st.lists(transactions, min_size=1, max_size=3), created_by=optional_texts)
def test_a_post_chains_what_json_dumps_would_hash(
    txns: list[Transaction], created_by: str | None
) -> None:
    """The post path's shortcut for plain transactions and its general path both write the
    documented JSON, each link over the one before."""
    moment = datetime.datetime(2018, 11, 4, 9, 30, tzinfo=datetime.UTC)
    links = chain_transactions(None, texts_after_previous(7, txns, {}, 12, moment, created_by))
    previous = CHAIN_GENESIS
    for txn, link in zip(txns, links, strict=True):
        fields = (
            7,
            txn.date.isoformat(),
            txn.payee,
            txn.narration,
            12,
            "2018-11-04T09:30:00.000000+00:00",
            created_by,
            [
                [p.account, p.commodity, p.units, None, None, None, p.commodity, p.units]
                for p in txn.postings
            ],
            sorted(set(txn.tags)),
            sorted(set(txn.links)),
            sorted(dict(txn.meta).items()),
        )
        assert link == reference(previous, fields)
        previous = link
