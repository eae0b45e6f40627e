"""`livelihood-ledger demo`: a small, realistic data set that each area extends.

Drawn from the field reports the project started from: CCPCR's CTIP programme funded by
USAID through Winrock International, the Bavet transit centre on the Vietnam border, the
three-day chicken and pig raising training of 26-28 August 2018 for 33 trainees, and the
33 returnees received from Long An on 4 November 2018, their households and their grants,
and two savings groups in Kampong Thom with their weekly meetings, loans and a share-out.
"""

from __future__ import annotations

from ledger.demo.grants import load_grants
from ledger.demo.organisation import ORG_BOOK, load_organisation, lock_organisation
from ledger.demo.people import load_people
from ledger.demo.savings import load_savings_groups
from ledger.demo.training import load_training
from ledger.store import books
from ledger.store.database import Database


def load_demo(db: Database) -> list[str]:
    """Load every demo book that is not there yet. Returns one line per thing done."""
    with db.read() as conn:
        present = {b.code for b in books.list_books(conn)}
    if ORG_BOOK in present:
        return [f"demo: book {ORG_BOOK!r} exists already; nothing loaded"]
    return db.write(
        lambda conn: (
            load_organisation(conn)
            + load_grants(conn)
            + load_people(conn)
            + load_training(conn)
            + lock_organisation(conn)
            + load_savings_groups(conn)
        )
    )
