"""Tamper evidence: the hash chains of the journal (one per book) and of the audit trail.

Every transaction stores `chain_hash`, the SHA-256 of its content and of the hash of the
transaction before it in its book (by id); the book's row keeps the last one (`chain_head`).
Every audit event stores the SHA-256 of its content and of the event before it (by id);
`audit_chain` keeps the last one. `ledger.verify` recomputes both chains and names the first
link that does not hold. See docs/SECURITY.md for what this does and does not promise.

The encoding (version 1), which anyone can recompute from an export of the tables: the hash is
`sha256(json)` in lowercase hex, where `json` is the compact JSON array (RFC 8259, no
whitespace, ASCII: every other character escaped as `\\uXXXX`, as Python's `json.dumps` with
`ensure_ascii=True, separators=(",", ":")` writes it) of

- a transaction: `["transaction/1", previous, book_id, date, payee, narration, reverses_id,
  created_at, created_by, postings, tags, links, meta]`, where each posting (in position
  order) is `[account name, commodity, units, price_commodity, price_per_unit, price_total,
  weight_commodity, weight]`, tags and links are each sorted by code point without
  repetition, and meta is `[[key, value], ...]` sorted by key;
- an audit event: `["audit/1", previous, at, user_id, username, token, request_id, method,
  path, action, outcome, book, object_type, object_id, detail]`;

`previous` is the previous hash (64 zeros before the first), dates are ISO 8601
(`2018-11-04`), timestamps ISO 8601 in UTC to the microsecond (`2018-11-04T09:30:00.000000+00:00`),
amounts integers in smallest units, a unit price its exact decimal text, absent values `null`.
Ids are not hashed (PostgreSQL assigns them after the hash is made); the order by id is
what the chain fixes.

Concurrency: the chain of a book follows the journal's order of writes in that book. SQLite
has one writer at a time; on PostgreSQL a post locks its book's row exclusively
(`ledger.store.journal.lock_rows`) before it reads the head, and moves the head in the same
database transaction, so two writers never chain onto the same previous hash. The audit
trail's head row is locked by the statement that moves it, sent with the write's COMMIT
(`chained_audit_insert`), so it is held only while the server runs them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    Table,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ledger.core.transaction import Posting, Transaction, weight
from ledger.store import driver
from ledger.store.tables import audit_chain, books

# PostgreSQL: the id of the transaction this session inserted last, for statements sent
# with a post's own (`ledger.store.journal_pipelined`) that refer to it.
NEW_TRANSACTION_ID = func.currval(func.pg_get_serial_sequence("transactions", "id"))
# The `previous` of the first link of every chain.
CHAIN_GENESIS = "0" * 64
TRANSACTION_VERSION = "transaction/1"
AUDIT_VERSION = "audit/1"
# The one row of `audit_chain`.
AUDIT_CHAIN_ID = 1

# Made once: `json.dumps` with arguments builds an encoder per call. For the audit trail.
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode

PostingFacts = tuple[str, str, int, str | None, str | None, int | None, str, int]
# What a transaction's link covers after the version and the previous hash, in that order:
# book id, date text, payee, narration, reverses id, created-at text, created by, postings,
# tags (sorted, once each), links (likewise), metadata pairs (sorted by key).
TransactionFields = tuple[
    int,
    str,
    str | None,
    str,
    int | None,
    str,
    str | None,
    Sequence[PostingFacts],
    Sequence[str],
    Sequence[str],
    Sequence[tuple[str, str]],
]


def timestamp_text(moment: datetime.datetime) -> str:
    """A timestamp as the chain encodes it: UTC, ISO 8601, to the microsecond."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def link_hash(content: Sequence[Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of `content` (version, previous hash, fields)."""
    return hashlib.sha256(_encode(content).encode("ascii")).hexdigest()


# -- transactions: the same JSON, written by hand ----------------------------------------------
#
# A post hashes every transaction it writes: `json.JSONEncoder` on the nested lists cost more
# than SQLite's own work for the rows. These functions write the very text it writes (strings
# through its own escaping function; a test compares them on hostile input).


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


def _strings(values: Sequence[str]) -> str:
    return "[" + ",".join(map(_quote, values)) + "]" if values else "[]"


def _facts_text(facts: PostingFacts) -> str:
    account, commodity, units, price_commodity, per_unit, total, weight_commodity, weighed = facts
    return (
        f"[{_quote(account)},{_quote(commodity)},{units},{_text(price_commodity)},"
        f"{_text(per_unit)},{_number(total)},{_quote(weight_commodity)},{weighed}]"
    )


# Every link's JSON starts with its version and then the previous hash.
TRANSACTION_START = f'["{TRANSACTION_VERSION}","'


def _transaction_after(head: TransactionFields, postings_text: str) -> str:
    """A transaction's JSON after its previous hash (from the quote that closes that hash),
    its postings already written out as JSON."""
    book_id, day, payee, narration, reverses_id, at, created_by, _, tags, links, meta = head
    pairs = ",".join(f"[{_quote(key)},{_quote(value)}]" for key, value in meta)
    # Dates and timestamps need no escaping.
    return (
        f'",{book_id},"{day}",{_text(payee)},'
        f'{_quote(narration)},{_number(reverses_id)},"{at}",{_text(created_by)},'
        f"[{postings_text}],{_strings(tags)},{_strings(links)},[{pairs}]]"
    )


def _linked(previous: str, after: str) -> str:
    """The hash of the link whose JSON after `previous` is `after`."""
    return hashlib.sha256(f"{TRANSACTION_START}{previous}{after}".encode("ascii")).hexdigest()


def transaction_hash(previous: str, fields: TransactionFields) -> str:
    """`link_hash([TRANSACTION_VERSION, previous, *fields])`, faster."""
    return _linked(previous, _transaction_after(fields, ",".join(map(_facts_text, fields[7]))))


def _posting_text(posting: Posting, precisions: Mapping[str, int]) -> str:
    """A posting as the journal stores it (the weight as it computes it), as JSON."""
    price = posting.price
    if price is None:
        commodity = _quote(posting.commodity)
        units = posting.units
        return f"[{_quote(posting.account)},{commodity},{units},null,null,null,{commodity},{units}]"
    weighed = weight(posting, precisions)
    assert weighed is not None, "a posted unit price does not round"
    per_unit = None if price.per_unit is None else format(price.per_unit, "f")
    facts = (posting.account, posting.commodity, posting.units, price.commodity, per_unit)
    return _facts_text((*facts, price.total, *weighed))


def chain_transactions(previous: str | None, texts: Iterable[str]) -> list[str]:
    """The hashes of the transactions whose `texts_after_previous` are `texts`, posted in
    this order after the book's head `previous` (None: the book has no transaction yet)."""
    link = previous or CHAIN_GENESIS
    hashes: list[str] = []
    for after in texts:
        link = _linked(link, after)
        hashes.append(link)
    return hashes


def texts_after_previous(
    book_id: int,
    txns: Iterable[Transaction],
    precisions: Mapping[str, int],
    reverses_id: int | None,
    created_at: datetime.datetime,
    created_by: str | None,
) -> list[str]:
    """Each transaction's JSON after its previous hash, which is all a link needs besides
    that hash: `chain_transactions` hashes them in Python, `transaction_insert_statement`
    on the server."""
    at = timestamp_text(created_at)
    # A bulk import's usual transaction (no payee, labels or metadata; unpriced postings) is
    # written in one f-string, with what the call's transactions share written once.
    shared = f',{_number(reverses_id)},"{at}",{_text(created_by)},['
    quoted: dict[str, str] = {}  # account names and commodities, quoted once per call
    texts: list[str] = []
    for txn in txns:
        if txn.payee is None and not (txn.tags or txn.links or txn.meta):
            postings_text = _plain_postings_text(txn, precisions, quoted)
            narration = _quote(txn.narration)
            day = txn.date.isoformat()
            texts.append(f'",{book_id},"{day}",null,{narration}{shared}{postings_text}],[],[],[]]')
        else:
            fields: TransactionFields = (
                book_id,
                txn.date.isoformat(),
                txn.payee,
                txn.narration,
                reverses_id,
                at,
                created_by,
                (),
                sorted(set(txn.tags)) if txn.tags else (),
                sorted(set(txn.links)) if txn.links else (),
                sorted(dict(txn.meta).items()) if txn.meta else (),
            )
            postings_text = ",".join([_posting_text(p, precisions) for p in txn.postings])
            texts.append(_transaction_after(fields, postings_text))
    return texts


def _plain_postings_text(
    txn: Transaction, precisions: Mapping[str, int], quoted: dict[str, str]
) -> str:
    """`txn`'s postings as JSON, names quoted through `quoted` (filled as it goes)."""
    parts = []
    for posting in txn.postings:
        if posting.price is not None:
            parts.append(_posting_text(posting, precisions))
            continue
        account = quoted.get(posting.account)
        if account is None:
            account = quoted[posting.account] = _quote(posting.account)
        commodity = quoted.get(posting.commodity)
        if commodity is None:
            commodity = quoted[posting.commodity] = _quote(posting.commodity)
        units = posting.units
        parts.append(f"[{account},{commodity},{units},null,null,null,{commodity},{units}]")
    return ",".join(parts)


_MOVE_BOOK_HEAD = (
    update(books).where(books.c.id == bindparam("book_id")).values(chain_head=bindparam("head"))
)


def move_book_head(conn: Connection, book_id: int, head: str) -> None:
    """Record `head` as the book's last hash (in the post's database transaction)."""
    driver.fetch_all(conn, _MOVE_BOOK_HEAD, {"book_id": book_id, "head": head})


def transaction_insert_statement(table: Table, columns: Sequence[str]) -> Any:
    """PostgreSQL: the INSERT of one transaction into `table` (the transactions) of
    `columns` (the last: its hash), chained on the server. The book's row (bind `book_id`)
    moves its head to the transaction's hash, which PostgreSQL computes from the previous
    head and the binds `before` (`TRANSACTION_START`) and `after` (`texts_after_previous`),
    and the transaction is stored with it. Returns the transaction's id. The caller holds the
    book's row lock (`ledger.store.journal.lock_rows`): no other post chains in between."""
    previous = func.coalesce(books.c.chain_head, literal_column(f"'{CHAIN_GENESIS}'"))
    head = (
        update(books)
        .where(books.c.id == bindparam("book_id"))
        .values(chain_head=_server_link(previous))
        .returning(books.c.chain_head.label("link"))
        .cte("head")
    )
    return _insert_linked(table, columns, head)


def _insert_linked(
    table: Table, columns: Sequence[str], head: Any, server_values: Mapping[str, Any] = {}
) -> Any:
    """INSERT into `table` of `columns`: binds of their names (or SQL of `server_values`),
    and the last (the row's hash) the `link` of the CTE `head`, which moved a chain's head to
    it. Returns the row's id."""
    values = [server_values.get(c, bindparam(c, type_=table.c[c].type)) for c in columns[:-1]]
    return (
        insert(table)
        .from_select(list(columns), select(*values, head.c.link))
        .returning(table.c.id)
        .add_cte(head)
    )


# -- the audit trail ---------------------------------------------------------------------------

AUDIT_FIELDS = (
    "user_id",
    "username",
    "token",
    "request_id",
    "method",
    "path",
    "action",
    "outcome",
    "book",
    "object_type",
    "object_id",
    "detail",
)


def audit_content(previous: str, at: datetime.datetime, values: Mapping[str, Any]) -> list[Any]:
    """What an audit event's link hashes: its time, then `AUDIT_FIELDS` in that order."""
    return [AUDIT_VERSION, previous, timestamp_text(at), *(values[f] for f in AUDIT_FIELDS)]


_AUDIT_HEAD = select(audit_chain.c.head_hash).where(audit_chain.c.id == AUDIT_CHAIN_ID)
_MOVE_AUDIT_HEAD = (
    update(audit_chain)
    .where(audit_chain.c.id == AUDIT_CHAIN_ID)
    .values(head_hash=bindparam("head"))
)
_ADD_AUDIT_HEAD = insert(audit_chain).values(id=AUDIT_CHAIN_ID, head_hash=bindparam("head"))


def audit_head(conn: Connection) -> str | None:
    """SQLite: the audit trail's last hash (its one writer needs no lock). None when the trail
    has no head row yet (no event, or a database emptied by hand): then `move_audit_head`
    creates it. PostgreSQL chains its events on the server: `chained_audit_insert`."""
    assert conn.dialect.name == "sqlite"
    rows = driver.fetch_all(conn, _AUDIT_HEAD)
    return str(rows[0][0]) if rows else None


def chained_audit_insert(
    conn: Connection,
    insert_event: Any,
    at: datetime.datetime,
    values: Mapping[str, Any],
    *,
    object_is_new_transaction: bool = False,
) -> None:
    """PostgreSQL: insert an audit event chained to the trail's head in one statement, sent
    with the write's COMMIT (`driver.send_at_commit`; `insert_event`:
    `audit_insert_statement`'s statement; `values`: its binds but `at`). The server moves the
    head to the event's hash, computed with its own SHA-256 from the event's canonical JSON
    (`audit_content`) cut around the previous hash, and stores the event with it: the same
    hash as `link_hash`. The head's row is locked from then to COMMIT (the upsert), and made
    with the first event's hash when the trail has none yet.

    With `object_is_new_transaction` (`insert_event` built with `NEW_TRANSACTION_ID`), the
    event's object id is the id of the transaction the write posts, which the server fills
    in: the event is queued before the post, whose round trip then carries it.
    """
    content = audit_content("", at, values)
    text = _encode(content)
    before = f'["{AUDIT_VERSION}","'
    assert text.startswith(before + '"'), "the previous hash comes right after the version"
    statement = driver.compiled(conn.dialect, insert_event)
    parameters = {**values, "at": at, "before": before, "after": text[len(before) :]}
    if object_is_new_transaction:
        # The JSON cut around the object id (the last field but one): `after`, the id, then
        # `after_id`, as `_server_link` joins them.
        up_to_id = _encode(content[:-2])[:-1] + ',"'
        after_id = '",' + _encode(content[-1:])[1:]
        assert _encode([*content[:-2], "7", content[-1]]) == f"{up_to_id}7{after_id}"
        parameters.update(after=up_to_id[len(before) :], after_id=after_id)
    driver.send_at_commit(conn, statement.sql, statement.parameters(parameters))


def _server_link(previous: Any, object_id: Any = None) -> Any:
    """SQL: the hash of the link whose JSON, cut around `previous`, is the binds `before`
    and `after` (`chained_audit_insert`, `transaction_insert_statement`): PostgreSQL's own
    SHA-256 of the same text, so the same hash as in Python. With `object_id` (SQL text), the
    JSON goes on with it and the bind `after_id`."""
    text = bindparam("before", type_=String()) + previous + bindparam("after", type_=String())
    if object_id is not None:
        text = text + object_id + bindparam("after_id", type_=String())
    return func.encode(
        func.sha256(func.convert_to(text, literal_column("'UTF8'"))), literal_column("'hex'")
    )


def audit_insert_statement(
    table: Table, columns: Sequence[str], *, object_is_new_transaction: bool = False
) -> Any:
    """`chained_audit_insert`'s INSERT into `table` (the audit events) of `columns` (the
    last: the hash), built once by the caller: the head moved by the server (or made, for
    the trail's first event), then the event stored with the new head as its hash. With
    `object_is_new_transaction`, the event's `object_id` is `NEW_TRANSACTION_ID`."""
    object_id = cast(NEW_TRANSACTION_ID, String()) if object_is_new_transaction else None
    genesis: Any = literal_column(f"'{CHAIN_GENESIS}'")
    new_head = pg_insert(audit_chain).values(
        id=AUDIT_CHAIN_ID, head_hash=_server_link(genesis, object_id)
    )
    head = (
        new_head.on_conflict_do_update(
            index_elements=[audit_chain.c.id],
            set_={"head_hash": _server_link(audit_chain.c.head_hash, object_id)},
        )
        .returning(audit_chain.c.head_hash.label("link"))
        .cte("head")
    )
    server_values = {} if object_id is None else {"object_id": object_id}
    return _insert_linked(table, columns, head, server_values)


def move_audit_head(conn: Connection, previous: str | None, head: str) -> None:
    """Record `head` as the audit trail's last hash (`previous` as `audit_head` returned
    it)."""
    statement = _ADD_AUDIT_HEAD if previous is None else _MOVE_AUDIT_HEAD
    driver.fetch_all(conn, statement, {"head": head})
