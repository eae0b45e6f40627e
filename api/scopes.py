"""Is this record in the caller's scope? One home for the checks controllers make before
they read or write a household, a grant or a training.

A record outside the caller's provinces answers the same 404 as one that does not exist, so
that an officer cannot learn which case codes or ids exist elsewhere; a role that may never
do the action gets a 403.
"""

from __future__ import annotations

from sqlalchemy import Connection

from api.auth import ensure_allowed
from ledger.access.policy import Action, Principal, Target
from ledger.core.errors import LedgerError, LedgerRejected, forbidden
from ledger.grants import service as grants
from ledger.grants.service import GRANT_NOT_FOUND
from ledger.households import service as households
from ledger.households.service import HOUSEHOLD_NOT_FOUND, Household
from ledger.training import service as trainings
from ledger.training.rules import Training
from ledger.training.service import TRAINING_NOT_FOUND

PROVINCE_NOT_IN_SCOPE = forbidden(
    "province_not_in_scope", "This province is outside your scope.", "province"
)


def ensure_found_in_scope(
    principal: Principal, action: Action, province: str | None, missing: LedgerError
) -> None:
    """Raise `missing` (a 404) for a record that does not exist (`province` None) or lies
    outside the caller's provinces; 403 when the role may never do `action`."""
    if province is None:
        raise LedgerRejected([missing])
    ensure_allowed(principal, action, Target(province=province), missing)


def province_in_scope(principal: Principal, action: Action, province: str) -> None:
    """403 for a new record (a household, a training) placed outside the caller's provinces."""
    ensure_allowed(principal, action, Target(province=province), PROVINCE_NOT_IN_SCOPE)


def household_in_scope(
    conn: Connection, principal: Principal, action: Action, case_code: str
) -> None:
    """404 for a household that does not exist or lies outside the caller's provinces."""
    province = households.province_of_household(conn, case_code)
    ensure_found_in_scope(principal, action, province, HOUSEHOLD_NOT_FOUND)


def scoped_household(
    conn: Connection, principal: Principal, action: Action, case_code: str
) -> Household:
    """The household, once `household_in_scope` lets the caller see it."""
    household_in_scope(conn, principal, action, case_code)
    return households.get_household(conn, case_code)


def grant_in_scope(conn: Connection, principal: Principal, action: Action, grant_id: int) -> None:
    """404 for a grant that does not exist or whose household is outside the caller's scope."""
    ensure_found_in_scope(principal, action, grants.grant_province(conn, grant_id), GRANT_NOT_FOUND)


def training_in_scope(
    conn: Connection, principal: Principal, action: Action, training_id: int
) -> None:
    """404 for a training that does not exist or was held outside the caller's provinces."""
    province = trainings.training_province(conn, training_id)
    ensure_found_in_scope(principal, action, province, TRAINING_NOT_FOUND)


def scoped_training(
    conn: Connection, principal: Principal, action: Action, training_id: int
) -> Training:
    """The training, once `training_in_scope` lets the caller see it."""
    training_in_scope(conn, principal, action, training_id)
    return trainings.get_training(conn, training_id)
