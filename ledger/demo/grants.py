"""The Long An cohort: 33 people repatriated from Vietnam through the Bavet transit centre on
4 November 2018, 25 of them children. Their eleven households are registered by case code
(no names), and small-business grants reach them in pigs, chickens and cash from the Bavet
cash box, under the CTIP award's livelihood-grants line."""

from __future__ import annotations

import datetime

from sqlalchemy import Connection

from ledger.demo.organisation import AWARD, CASH_BAVET, FINANCE
from ledger.grants import service as grants
from ledger.grants.service import DisbursementDraft, GrantDraft, ItemDraft, TrancheDraft
from ledger.households import service as households
from ledger.households.rules import HouseholdDraft

D = datetime.date
OFFICER = "dara.officer"
LINE = "livelihood-grants"
REGISTERED_ON = D(2018, 11, 4)

# (case, province, district, commune, village, sex, age band, members, children, category)
HOUSEHOLDS = (
    (
        "LA-001",
        "Svay Rieng",
        "Bavet",
        "Prasat",
        "Thlok",
        "female",
        "35-49",
        6,
        4,
        "repatriated_migrant",
    ),
    (
        "LA-002",
        "Svay Rieng",
        "Bavet",
        "Bavet",
        "Chambak",
        "female",
        "25-34",
        5,
        3,
        "trafficking_survivor",
    ),
    (
        "LA-003",
        "Svay Rieng",
        "Chantrea",
        "Samraong",
        "Kampong Chamlang",
        "male",
        "35-49",
        7,
        4,
        "trafficking_survivor",
    ),
    (
        "LA-004",
        "Svay Rieng",
        "Romeas Haek",
        "Ruessei Srok",
        "Tuol Sala",
        "female",
        "50-64",
        6,
        3,
        "repatriated_migrant",
    ),
    (
        "LA-005",
        "Prey Veng",
        "Kamchay Mear",
        "Kranhung",
        "Prey Kdouch",
        "female",
        "25-34",
        4,
        3,
        "trafficking_survivor",
    ),
    (
        "LA-006",
        "Prey Veng",
        "Peam Chor",
        "Kampong Popil",
        "Prek Tameak",
        "male",
        "35-49",
        6,
        2,
        "repatriated_migrant",
    ),
    (
        "LA-007",
        "Prey Veng",
        "Kanhchriech",
        "Kouk Kong",
        "Trapeang Veng",
        "female",
        "18-24",
        3,
        2,
        "trafficking_survivor",
    ),
    (
        "LA-008",
        "Kampong Speu",
        "Samraong Tong",
        "Roleang Chak",
        "Trapeang Kak",
        "female",
        "35-49",
        5,
        1,
        "at_risk_of_unsafe_migration",
    ),
    (
        "LA-009",
        "Svay Rieng",
        "Svay Teab",
        "Kokir Saom",
        "Kokir",
        "male",
        "25-34",
        4,
        1,
        "repatriated_migrant",
    ),
    (
        "LA-010",
        "Tboung Khmum",
        "Memot",
        "Chan Moul",
        "Sre Thom",
        "female",
        "35-49",
        5,
        2,
        "at_risk_of_unsafe_migration",
    ),
    (
        "DV-009",
        "Svay Rieng",
        "Svay Rieng",
        "Prey Chhlak",
        "Prey Chhlak",
        "female",
        "35-49",
        5,
        4,
        "other",
    ),
)
TWO_PIGS = (ItemDraft("PIG", 2, "300000", "KHR"),)
TEN_HENS = (ItemDraft("CHICKEN", 10, "25000", "KHR"),)
# (case, business, approved riel, tranches, disbursements: (date, method, riel or items)).
# The grants are approved in riel, what the households receive; each commits dollars on the
# budget line at approval and, once paid in full, completes with its commitment down to what
# it actually spent in dollars (docs/ACCOUNTING.md, "Grants to households").
GRANTS: tuple[
    tuple[
        str,
        str,
        str,
        tuple[tuple[datetime.date, str], ...],
        tuple[tuple[datetime.date, str, str | tuple[ItemDraft, ...]], ...],
    ],
    ...,
] = (
    (
        "LA-001",
        "pig_raising",
        "1200000",
        ((D(2018, 12, 5), "600000"), (D(2019, 2, 5), "600000")),
        ((D(2018, 12, 5), "in_kind", TWO_PIGS), (D(2019, 2, 5), "cash", "600000")),
    ),
    ("LA-002", "pig_raising", "600000", (), ((D(2018, 12, 5), "in_kind", TWO_PIGS),)),
    (
        "LA-003",
        "chicken_raising",
        "590000",
        (),
        ((D(2018, 12, 6), "in_kind", TEN_HENS), (D(2018, 12, 6), "cash", "340000")),
    ),
    ("LA-004", "grocery", "1025000", (), ((D(2018, 12, 10), "cash", "1025000"),)),
    ("LA-005", "chicken_raising", "250000", (), ((D(2018, 12, 12), "in_kind", TEN_HENS),)),
    ("LA-006", "pig_raising", "600000", (), ((D(2018, 12, 12), "in_kind", TWO_PIGS),)),
    ("LA-007", "tailoring", "820000", (), ((D(2018, 12, 14), "cash", "820000"),)),
    ("LA-008", "rice_trading", "1025000", (), ()),  # cancelled below: the family left again
    ("LA-009", "motorbike_repair", "1025000", (), ((D(2019, 1, 8), "cash", "1025000"),)),
    ("LA-010", "chicken_raising", "615000", (), ()),  # proposed, awaiting approval
    ("DV-009", "pig_raising", "600000", (), ((D(2019, 1, 15), "in_kind", TWO_PIGS),)),
)
GRANT_CURRENCY = "KHR"


def load_grants(conn: Connection) -> list[str]:
    """Register the cohort's households, propose, approve and pay their grants."""
    _register_households(conn)
    paid = sum(_grant_and_pay(conn, *grant) for grant in GRANTS)
    return [
        f"demo: {len(HOUSEHOLDS)} households (the Long An cohort and DV-009), each with a book",
        f"demo: {len(GRANTS)} grants, {paid} disbursements in pigs, chickens and riel "
        "(one grant cancelled, one awaiting approval)",
    ]


def _register_households(conn: Connection) -> None:
    for (
        case,
        province,
        district,
        commune,
        village,
        sex,
        age,
        members,
        children,
        category,
    ) in HOUSEHOLDS:
        referral = (
            "Bavet transit centre (returned from Long An, 4 Nov 2018)"
            if case.startswith("LA-")
            else "Phnom Penh shelter"
        )
        draft = HouseholdDraft(
            case_code=case,
            province=province,
            district=district,
            commune=commune,
            village=village,
            head_sex=sex,
            head_age_band=age,
            members=members,
            children=children,
            category=category,
            referral_source=referral,
            consent_date=REGISTERED_ON,
        )
        households.register_household(conn, draft, REGISTERED_ON, OFFICER)


def _grant_and_pay(
    conn: Connection,
    case: str,
    business: str,
    amount: str,
    tranches: tuple[tuple[datetime.date, str], ...],
    payments: tuple[tuple[datetime.date, str, str | tuple[ItemDraft, ...]], ...],
) -> int:
    """Propose one household's grant and take it as far as the story goes; the number of
    disbursements made."""
    proposal = GrantDraft(
        case_code=case,
        award_code=AWARD,
        budget_line=LINE,
        business_type=business,
        approved_amount=amount,
        tranches=tuple(TrancheDraft(date, part) for date, part in tranches),
        purpose=f"{business.replace('_', ' ').capitalize()} at home after return",
        currency=GRANT_CURRENCY,
    )
    grant = grants.propose_grant(conn, proposal, OFFICER)
    if case == "LA-010":
        return 0
    # Above the award's 250.00 USD threshold the proposer may not approve: finance does.
    grants.approve_grant(conn, grant.id, FINANCE)
    for date, method, given in payments:
        draft = DisbursementDraft(
            date=date,
            method=method,
            paid_from=CASH_BAVET,
            amount=None if isinstance(given, tuple) else given,
            items=given if isinstance(given, tuple) else (),
            exchange_rate=None,
            narration=None,
        )
        grants.disburse(conn, grant.id, draft, OFFICER)
    if case == "LA-008":
        grants.end_grant(
            conn, grant.id, "cancelled", "The family migrated to Thailand again", OFFICER
        )
    return len(payments)
