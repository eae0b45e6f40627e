"""Savings groups, the write side: validate each request against what is stored, then hand the
posting rules' transactions to the journal and keep the group's own records beside them.

Every function takes the caller's open `Connection` (the caller's `work` is one transaction:
a meeting lands whole or not at all), raises `LedgerRejected` with every problem found, as
data, and returns what it wrote as a read would show it. One module per concept: `groups`
(groups and members), `meetings`, `loans` (new loans and write-offs) and `share_out`.
"""

from __future__ import annotations

from ledger.savings.service.groups import (
    CASH_UNIT_DEFAULT,
    ConstitutionDraft,
    GroupDraft,
    add_member,
    create_group,
    describe_member,
    lock_group,
    member_leaves,
)
from ledger.savings.service.loans import NewLoan, write_off_loan
from ledger.savings.service.meetings import EntryDraft, LoanDraft, MeetingDraft, record_meeting
from ledger.savings.service.share_out import execute_share_out

__all__ = [
    "CASH_UNIT_DEFAULT",
    "ConstitutionDraft",
    "EntryDraft",
    "GroupDraft",
    "LoanDraft",
    "MeetingDraft",
    "NewLoan",
    "add_member",
    "create_group",
    "describe_member",
    "execute_share_out",
    "lock_group",
    "member_leaves",
    "record_meeting",
    "write_off_loan",
]
