"""Transactions that only their area may reverse, and the check the generic reverse route
runs before it reverses anything.

Some areas post one event as several transactions and keep a record of their own beside
them: a grant disbursement is an expense in the organisation's book and a receipt in the
household's, sharing a link, and the grant's record says what it has paid. Reversing one of
those transactions alone would leave the other book and the area's record behind, so the
area reverses them together through its own route.

The area marks its transactions with a link it writes anyway; this table says which link
prefix belongs to which area and which error code refuses a reversal through the journal.
The store names the prefix, never imports the area: the area's rules build their links
from the same prefix, and a test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, select

from ledger.core.errors import LedgerRejected, conflict
from ledger.store.tables import books, transaction_links, transactions


@dataclass(frozen=True, slots=True)
class ReversalOwner:
    """An area that reverses its own transactions: those carrying a link that starts with
    `link_prefix` are refused by the generic route with `code`, and `route` says where to go."""

    area: str
    link_prefix: str
    code: str
    route: str


REVERSAL_OWNERS: tuple[ReversalOwner, ...] = (
    ReversalOwner(
        area="grants",
        link_prefix="disbursement-",
        code="reverse_through_grant",
        route="POST /api/grants/{grant_id}/disbursements/{disbursement_id}/reverse",
    ),
)


def owner_of_link(link: str) -> ReversalOwner | None:
    """The area that owns transactions carrying `link`, or None."""
    return next((o for o in REVERSAL_OWNERS if link.startswith(o.link_prefix)), None)


def check_reversible_alone(conn: Connection, book_code: str, transaction_id: int) -> None:
    """Refuse reversing, through the journal alone, a transaction of `book_code` that an
    area reverses itself (a reversal is left to the journal, which refuses it anyway)."""
    links = conn.execute(
        select(transaction_links.c.link)
        .join(transactions, transactions.c.id == transaction_links.c.transaction_id)
        .join(books, books.c.id == transactions.c.book_id)
        .where(
            and_(
                transaction_links.c.transaction_id == transaction_id,
                books.c.code == book_code,
                transactions.c.reverses_id.is_(None),
            )
        )
    ).scalars()
    for link in links:
        owner = owner_of_link(link)
        if owner is not None:
            raise LedgerRejected(
                [
                    conflict(
                        owner.code,
                        f"This transaction belongs to {owner.area} ({link}): reverse it "
                        f"there, with both books, by {owner.route}.",
                    )
                ]
            )
