"""One amendment of the CTIP award, as donors approve them: USAID's modification moves
500.00 USD from the Poipet drop-in centre's supplies to transport home for returnees and
extends the award by six months at no cost. Finance proposes it; the director approves it
(maker-checker)."""

from __future__ import annotations

import datetime

from sqlalchemy import Connection

from ledger.demo.organisation import AWARD, FINANCE
from ledger.funds import amendments
from ledger.funds.amendments import AmendmentDraft, LineRevisionDraft

DIRECTOR = "chan.director"


def load_amendments(conn: Connection) -> list[str]:
    draft = AmendmentDraft(
        effective_date=datetime.date(2019, 6, 1),
        reason="USAID modification 2: 500.00 from drop-in centre supplies to transport home; "
        "no-cost extension to 31 December 2019",
        lines=(
            LineRevisionDraft("drop-in-centre", "1000.00"),
            LineRevisionDraft("transport", "2500.00"),
        ),
        end_date=datetime.date(2019, 12, 31),
    )
    proposed = amendments.propose_amendment(conn, AWARD, draft, FINANCE)
    amendments.approve_amendment(conn, AWARD, proposed.id, DIRECTOR)
    return [
        f"demo: award {AWARD} amended (500.00 USD between lines, extended to 2019-12-31), "
        f"approved by {DIRECTOR}"
    ]
