"""The ledger's tables (SQLAlchemy Core). Alembic migrations create them; tests compare both.

Money columns are BigInteger counts of a commodity's smallest unit. `book_id` is on every
ledger table: it is the sharding key. Transactions, postings and their labels are append-only
(database triggers enforce it, see migrations/versions/0001_spine.py).
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so a naive value read back is UTC by construction (we only write
    UTC); PostgreSQL's timestamptz comes back aware already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

commodities = Table(
    "commodities",
    metadata,
    Column("code", String(24), primary_key=True),
    Column("precision", SmallInteger, nullable=False),
    Column("name", String(100), nullable=False, server_default=""),
    CheckConstraint("precision >= 0 AND precision <= 8", name="precision_range"),
)

books = Table(
    "books",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("operating_currency", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("lock_date", Date, nullable=True),
    # Where the book's people live (savings groups, household books): officers' scope.
    Column("province", String(100), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # The hash of the book's last transaction (ledger.store.chain); NULL before the first.
    Column("chain_head", String(64), nullable=True),
    CheckConstraint("kind IN ('organisation', 'savings_group', 'household')", name="kind"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("open_date", Date, nullable=False),
    Column("close_date", Date, nullable=True),
    # Space-separated commodity codes the account may hold; empty means any.
    Column("currencies", String(250), nullable=False, server_default=""),
    Column("non_negative", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("book_id", "name", name="uq_accounts_book_name"),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("payee", String(200), nullable=True),
    Column("narration", Text, nullable=False),
    # A reversal points at its original; UNIQUE makes "reversible once" a database fact.
    Column("reverses_id", Integer, ForeignKey("transactions.id"), nullable=True, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    # SHA-256 of the content and of the book's previous transaction's hash (ledger.store.chain).
    # Never NULL once written; nullable only so the column could be added to existing rows.
    Column("chain_hash", String(64), nullable=True),
    Index("ix_transactions_book_date_id", "book_id", "date", "id"),
    # The reversals alone, by date (partial: an ordinary post writes nothing here): a budget
    # line's use walks the reversals up to a date (`ledger.funds.line_weeks`).
    Index(
        "ix_transactions_reversals",
        "date",
        "reverses_id",
        sqlite_where=text("reverses_id IS NOT NULL"),
        postgresql_where=text("reverses_id IS NOT NULL"),
    ),
)

transaction_tags = Table(
    "transaction_tags",
    metadata,
    Column("transaction_id", Integer, ForeignKey("transactions.id"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Column("book_id", Integer, nullable=False),
    Index("ix_transaction_tags_book_tag", "book_id", "tag"),
)

transaction_links = Table(
    "transaction_links",
    metadata,
    Column("transaction_id", Integer, ForeignKey("transactions.id"), primary_key=True),
    Column("link", String(64), primary_key=True),
    Column("book_id", Integer, nullable=False),
    Index("ix_transaction_links_book_link", "book_id", "link"),
)

transaction_meta = Table(
    "transaction_meta",
    metadata,
    Column("transaction_id", Integer, ForeignKey("transactions.id"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("book_id", Integer, nullable=False),
    Index("ix_transaction_meta_book_key", "book_id", "key"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("transaction_id", Integer, ForeignKey("transactions.id"), nullable=False),
    Column("book_id", Integer, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("date", Date, nullable=False),  # the transaction's, copied for as-of queries
    Column("position", SmallInteger, nullable=False),
    Column("commodity", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("price_commodity", String(24), nullable=True),
    Column("price_per_unit", String(40), nullable=True),  # exact decimal text
    Column("price_total", BigInteger, nullable=True),  # smallest units of price_commodity
    Column("weight_commodity", String(24), nullable=False),
    Column("weight", BigInteger, nullable=False),
    Index("ix_postings_transaction", "transaction_id"),
    Index("ix_postings_account_commodity_date", "account_id", "commodity", "date"),
    Index("ix_postings_book_date", "book_id", "date"),
)

# Current balance per (account, commodity), maintained in the same database transaction as
# the postings. `verify` recomputes it from the postings.
balances = Table(
    "balances",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("commodity", String(24), primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("units", BigInteger, nullable=False),
    Index("ix_balances_book", "book_id"),
)

# Each (account, commodity)'s balance at the end of every week it was posted in (ISO weeks,
# keyed by their Monday), kept by `ledger.store.checkpoints` in the same database
# transaction as the postings: a balance as of any date is the last checkpoint before its
# week plus that week's postings up to the date. `units` is the balance at the week's end
# (every posting up to then, back-dated ones included); `net_units` the week's own change.
# `verify` recomputes both from the postings. Rows exist exactly for weeks with postings.
balance_checkpoints = Table(
    "balance_checkpoints",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("commodity", String(24), primary_key=True),
    Column("week", Date, primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("net_units", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # the primary key is the table: one B-tree to write and seek
)

# A balance the ledger has checked (a cash count, a bank statement): exported as a
# Beancount `balance` directive. `date` is the end of the day checked.
balance_assertions = Table(
    "balance_assertions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("commodity", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("date", Date, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("account_id", "commodity", "date", name="uq_balance_assertions_point"),
    Index("ix_balance_assertions_book_date", "book_id", "date"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(300), primary_key=True),  # method and path
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the request
    Column("status_code", SmallInteger, nullable=False),
    Column("response_body", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # Keys are kept for a while (ledger.store.idempotency.KEY_RETENTION_DAYS), then purged.
    Index("ix_idempotency_keys_created_at", "created_at"),
)

# -- access: users, their scopes, API tokens, the audit trail, personal data -----------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime(), nullable=True),
    # Consecutive failed sign-ins, and the moment a lock-out ends.
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime(), nullable=True),
    # When the password last changed (or the user was disabled); informational.
    Column("credentials_changed_at", UTCDateTime(), nullable=True),
    # Counts password changes and disablings: a credential issued at another version is void.
    Column("credential_version", Integer, nullable=False, server_default="0"),
    CheckConstraint("role IN ('admin', 'finance', 'officer', 'treasurer', 'auditor')", name="role"),
)

user_scopes = Table(
    "user_scopes",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),  # 'book' or 'province'
    Column("value", String(100), primary_key=True),
    CheckConstraint("kind IN ('book', 'province')", name="kind"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the secret
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    # The user's credential version when the token was made: a later change voids it.
    Column("credential_version", Integer, nullable=False, server_default="0"),
    Index("ix_api_tokens_user", "user_id"),
)

# Append-only (a trigger refuses UPDATE and DELETE). Never holds personal data: objects are
# named by id or case code.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("username", String(64), nullable=True),
    Column("token", String(80), nullable=True),  # "api:<id>" or "jwt:<jti>"
    Column("request_id", String(64), nullable=True),
    Column("method", String(10), nullable=False),
    Column("path", String(300), nullable=False),
    Column("action", String(60), nullable=False),
    Column("outcome", String(20), nullable=False),  # 'ok', 'refused' (sign-in)
    Column("book", String(40), nullable=True),
    Column("object_type", String(40), nullable=True),
    Column("object_id", String(80), nullable=True),
    Column("detail", Text, nullable=False, server_default=""),
    # SHA-256 of the content and of the previous event's hash (ledger.store.chain).
    Column("chain_hash", String(64), nullable=True),
    Index("ix_audit_events_at", "at"),
    Index("ix_audit_events_user", "user_id", "at"),
    Index("ix_audit_events_book", "book", "at"),
)

# The audit trail's last hash (ledger.store.chain): one row, id 1, created with the first event.
audit_chain = Table(
    "audit_chain",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
)

# The one place for names, phone numbers and exact addresses of household members.
# Everything else identifies a household by its case code (e.g. DV-009).
contacts = Table(
    "contacts",
    metadata,
    Column("case_code", String(20), primary_key=True),
    Column("province", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("phone", String(40), nullable=False, server_default=""),
    Column("address", Text, nullable=False, server_default=""),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(64), nullable=True),
    Index("ix_contacts_province", "province"),
)

# -- donor funds, households and grants ------------------------------------------------------

# Rates the ledger has observed (a currency exchange): exported as Beancount `price`
# directives. `rate` is exact decimal text: units of `quote` for one unit of `commodity`.
prices = Table(
    "prices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("commodity", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("quote", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("rate", String(40), nullable=False),
    UniqueConstraint("book_id", "date", "commodity", "quote", name="uq_prices_point"),
)

# A donor award in the organisation's book; amounts in the award's currency.
awards = Table(
    "awards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("code", String(40), nullable=False, unique=True),
    Column("donor", String(200), nullable=False),
    Column("currency", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    # Grants approved above this amount need a second person (maker-checker).
    Column("approval_threshold", BigInteger, nullable=False),
    Column("income_account", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("end_date >= start_date", name="dates_ordered"),
)

budget_lines = Table(
    "budget_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("award_id", Integer, ForeignKey("awards.id"), nullable=False),
    Column("book_id", Integer, nullable=False),
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("expense_account", String(200), nullable=False),
    UniqueConstraint("award_id", "code", name="uq_budget_lines_award_code"),
    CheckConstraint("amount > 0", name="amount_positive"),
)

# Amendments of an award (issue 17): budget revisions between lines, a new total, a later
# end date (a no-cost extension). Append-only: a proposal is one row (and its lines, with
# the amounts before and after); its approval by a second person is another row, and only
# then are the award's amounts and end date changed.
award_amendments = Table(
    "award_amendments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("award_id", Integer, ForeignKey("awards.id"), nullable=False),
    Column("book_id", Integer, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("amount_before", BigInteger, nullable=False),
    Column("amount_after", BigInteger, nullable=False),
    Column("end_date_before", Date, nullable=False),
    Column("end_date_after", Date, nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", UTCDateTime(), nullable=False),
    Index("ix_award_amendments_award", "award_id"),
    CheckConstraint("amount_after > 0", name="amount_positive"),
)

award_amendment_lines = Table(
    "award_amendment_lines",
    metadata,
    Column("amendment_id", Integer, ForeignKey("award_amendments.id"), primary_key=True),
    Column("budget_line_id", Integer, ForeignKey("budget_lines.id"), primary_key=True),
    Column("amount_before", BigInteger, nullable=False),
    Column("amount_after", BigInteger, nullable=False),
    CheckConstraint("amount_after > 0", name="amount_positive"),
)

award_amendment_approvals = Table(
    "award_amendment_approvals",
    metadata,
    Column("amendment_id", Integer, ForeignKey("award_amendments.id"), primary_key=True),
    Column("approved_by", String(64), nullable=False),
    Column("approved_at", UTCDateTime(), nullable=False),
)

# Every transaction that spends a budget line, measured in the award's currency by the
# method named in `rate_method`. Append-only; a spend whose transaction has been reversed
# no longer counts (the reversal is the journal's fact, not repeated here).
budget_spends = Table(
    "budget_spends",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("award_id", Integer, ForeignKey("awards.id"), nullable=False),
    Column("budget_line_id", Integer, ForeignKey("budget_lines.id"), nullable=False),
    Column("transaction_id", Integer, ForeignKey("transactions.id"), nullable=False, unique=True),
    Column("date", Date, nullable=False),
    Column("kind", String(20), nullable=False),  # 'grant', 'expense'
    Column("currency", String(24), nullable=False),
    Column("units", BigInteger, nullable=False),  # what was paid, in `currency`
    Column("award_units", BigInteger, nullable=False),  # the same in the award's currency
    Column("rate", String(40), nullable=True),  # `currency` per award unit; NULL if the same
    Column("rate_method", String(20), nullable=False),
    # A line's spends by date: its use as of a date reads the days of the date's week here.
    Index("ix_budget_spends_line_date", "budget_line_id", "date"),
    CheckConstraint(
        "rate_method IN ('same_currency', 'average_exchange', 'explicit')", name="rate_method"
    ),
)

# Each budget line's spends summed per ISO week (keyed by its Monday, as the balance
# checkpoints): `award_units` is the sum of the `budget_spends.award_units` of the line dated
# in that week, reversed or not. `ledger.funds.line_weeks` writes it in the same database
# transaction as each `budget_spends` row, so a line's use as of a date reads one row per week
# instead of every spend; `verify` recomputes it from `budget_spends`. Rows exist exactly for
# weeks with spends.
budget_line_weeks = Table(
    "budget_line_weeks",
    metadata,
    Column("budget_line_id", Integer, ForeignKey("budget_lines.id"), primary_key=True),
    Column("week", Date, primary_key=True),
    Column("award_units", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # the primary key is the table: one B-tree to write and seek
)

# A currency exchange (bank dollars into riel or baht cash), posted with a total price.
exchanges = Table(
    "exchanges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("transaction_id", Integer, ForeignKey("transactions.id"), nullable=False, unique=True),
    Column("date", Date, nullable=False),
    Column("from_account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("from_commodity", String(24), nullable=False),
    Column("from_units", BigInteger, nullable=False),
    Column("to_account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("to_commodity", String(24), nullable=False),
    Column("to_units", BigInteger, nullable=False),
    Index("ix_exchanges_to_account_date", "to_account_id", "date"),
    CheckConstraint("from_units > 0 AND to_units > 0", name="units_positive"),
)

# A household served by the programme, identified by its case code only. Its names and
# phone numbers live in `contacts`. Each household has a tracking book of its own.
households = Table(
    "households",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_code", String(20), nullable=False, unique=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False, unique=True),
    Column("province", String(100), nullable=False),
    Column("district", String(100), nullable=False),
    Column("commune", String(100), nullable=False),
    Column("village", String(100), nullable=False),
    Column("head_sex", String(10), nullable=False),
    Column("head_age_band", String(10), nullable=False),
    Column("members", SmallInteger, nullable=False),
    Column("children", SmallInteger, nullable=False),
    Column("category", String(40), nullable=False),
    Column("referral_source", String(200), nullable=False, server_default=""),
    Column("consent_date", Date, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_households_province", "province"),
    CheckConstraint("children >= 0 AND children <= members", name="children_within_members"),
)

# The people of a household (0015), numbered 1, 2, ... under its case code: a role, a sex and
# a birth year, or an age band when the year is unknown. No names (those are contacts).
household_members = Table(
    "household_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("number", SmallInteger, nullable=False),
    Column("role", String(20), nullable=False),
    Column("sex", String(10), nullable=False),
    Column("birth_year", SmallInteger, nullable=True),
    Column("age_band", String(10), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    UniqueConstraint("household_id", "number", name="uq_household_members_household_number"),
    CheckConstraint("(birth_year IS NULL) <> (age_band IS NULL)", name="birth_year_or_age_band"),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("award_id", Integer, ForeignKey("awards.id"), nullable=False),
    Column("budget_line_id", Integer, ForeignKey("budget_lines.id"), nullable=False),
    Column("business_type", String(40), nullable=False),
    Column("currency", String(24), nullable=False),  # the grant's: what the household receives
    Column("approved_amount", BigInteger, nullable=False),  # in `currency`
    Column("status", String(20), nullable=False),
    Column("purpose", Text, nullable=False, server_default=""),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", UTCDateTime(), nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", UTCDateTime(), nullable=True),
    Column("ended_by", String(64), nullable=True),  # who cancelled or closed it
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("end_reason", Text, nullable=True),
    # What approval committed of the award's currency (and at which rate); once the grant is
    # paid in full, what it actually spent in the award's currency.
    Column("committed_amount", BigInteger, nullable=True),
    Column("commitment_rate", String(40), nullable=True),
    Column("commitment_rate_method", String(20), nullable=True),
    Index("ix_grants_award_status", "award_id", "status"),
    Index("ix_grants_household", "household_id"),
    CheckConstraint(
        "status IN ('proposed', 'approved', 'disbursing', 'fully_disbursed', 'closed', "
        "'cancelled')",
        name="status",
    ),
    CheckConstraint("approved_amount > 0", name="amount_positive"),
)

grant_tranches = Table(
    "grant_tranches",
    metadata,
    Column("grant_id", Integer, ForeignKey("grants.id"), primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("planned_date", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),
)

disbursements = Table(
    "disbursements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("grant_id", Integer, ForeignKey("grants.id"), nullable=False),
    Column("book_id", Integer, nullable=False),
    Column("receipt_number", String(40), nullable=False, unique=True),
    Column("date", Date, nullable=False),
    Column("method", String(20), nullable=False),
    Column("paid_from_account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("currency", String(24), nullable=False),
    Column("units", BigInteger, nullable=False),  # the total value given, in `currency`
    Column("award_units", BigInteger, nullable=False),
    Column("org_transaction_id", Integer, ForeignKey("transactions.id"), nullable=False),
    Column("household_transaction_id", Integer, ForeignKey("transactions.id"), nullable=False),
    Column("reversed_at", UTCDateTime(), nullable=True),
    Column("reversed_by", String(64), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_disbursements_grant", "grant_id"),
    CheckConstraint(
        "method IN ('cash', 'bank_transfer', 'mobile_money', 'in_kind')", name="method"
    ),
)

disbursement_items = Table(
    "disbursement_items",
    metadata,
    Column("disbursement_id", Integer, ForeignKey("disbursements.id"), primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("commodity", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_cost", BigInteger, nullable=False),  # smallest units of the disbursement's
)

# The last receipt number handed out per book and year: receipts are numbered without gaps.
receipt_sequences = Table(
    "receipt_sequences",
    metadata,
    Column("book_id", Integer, ForeignKey("books.id"), primary_key=True),
    Column("year", SmallInteger, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

# -- savings groups: each group's own records beside its book (ledger/savings/) ---------------
# A group IS a book of kind savings_group: `book_id` is its key and every row's sharding key.
# Money in smallest units of the book's operating currency. The journal holds the money; these
# tables hold what the journal cannot say: the constitution, who the members are, shares
# bought, attendance, each loan's terms and payments, and each share-out's figures.

savings_groups = Table(
    "savings_groups",
    metadata,
    Column("book_id", Integer, ForeignKey("books.id"), primary_key=True),
    Column("village", String(100), nullable=False),
    Column("commune", String(100), nullable=False),
    Column("formed_on", Date, nullable=False),
    Column("meeting_frequency", String(12), nullable=False),
    Column("share_price", BigInteger, nullable=False),
    Column("shares_per_meeting_min", SmallInteger, nullable=False),
    Column("shares_per_meeting_max", SmallInteger, nullable=False),
    Column("social_fund_per_meeting", BigInteger, nullable=False),
    Column("interest_rate_monthly_percent", String(12), nullable=False),  # exact decimal text
    Column("interest_method", String(10), nullable=False),
    Column("loan_savings_multiple", SmallInteger, nullable=False),
    Column("loan_term_months_max", SmallInteger, nullable=False),
    Column("fine_late", BigInteger, nullable=False),
    Column("fine_absent", BigInteger, nullable=False),
    Column("fine_other", BigInteger, nullable=False),
    Column("cash_unit", BigInteger, nullable=False),
    Column("lend_to_members_in_arrears", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("interest_method IN ('flat', 'declining')", name="interest_method"),
)

savings_members = Table(
    "savings_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("savings_groups.book_id"), nullable=False),
    Column("number", String(16), nullable=False),
    Column("case_code", String(20), nullable=True),  # a household's case code, never a name
    Column("role", String(12), nullable=False),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # Sex and birth year, or an age band (0015): counted in reports, never listed in exports.
    Column("sex", String(10), nullable=True),
    Column("birth_year", SmallInteger, nullable=True),
    Column("age_band", String(10), nullable=True),
    UniqueConstraint("book_id", "number", name="uq_savings_members_book_number"),
)

savings_cycles = Table(
    "savings_cycles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("savings_groups.book_id"), nullable=False),
    Column("number", SmallInteger, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("planned_end_date", Date, nullable=False),
    Column("status", String(12), nullable=False),
    Column("shared_out_on", Date, nullable=True),
    UniqueConstraint("book_id", "number", name="uq_savings_cycles_book_number"),
    CheckConstraint("status IN ('open', 'shared_out')", name="status"),
)

savings_meetings = Table(
    "savings_meetings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("savings_groups.book_id"), nullable=False),
    Column("cycle_id", Integer, ForeignKey("savings_cycles.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("cash_counted", BigInteger, nullable=False),
    # Counted less booked, posted to Expenses:Cash-Differences with the reason; 0 if none.
    Column("cash_difference", BigInteger, nullable=False, server_default="0"),
    Column("cash_difference_reason", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    # The entries' attendance counted once, when the meeting is recorded (0016): the
    # programme's attendance rate (ledger/savings/savix.py) sums meetings, not entries.
    Column("attended", SmallInteger, nullable=False, server_default="0"),  # present, represented
    Column("attendance_records", SmallInteger, nullable=False, server_default="0"),
    UniqueConstraint("book_id", "date", name="uq_savings_meetings_book_date"),
)

savings_meeting_entries = Table(
    "savings_meeting_entries",
    metadata,
    Column("meeting_id", Integer, ForeignKey("savings_meetings.id"), primary_key=True),
    Column("member_id", Integer, ForeignKey("savings_members.id"), primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("attendance", String(12), nullable=False),
    Column("shares", SmallInteger, nullable=False),
    Column("social_fund_paid", BigInteger, nullable=False),
    Column("fines_paid", BigInteger, nullable=False),
    Column("interest_paid", BigInteger, nullable=False),
    Column("principal_repaid", BigInteger, nullable=False),
    Column("loan_taken", BigInteger, nullable=False),
    Column("grant_received", BigInteger, nullable=False),
    Index("ix_savings_meeting_entries_member", "member_id"),
)

savings_loans = Table(
    "savings_loans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("savings_groups.book_id"), nullable=False),
    Column("cycle_id", Integer, ForeignKey("savings_cycles.id"), nullable=False),
    Column("member_id", Integer, ForeignKey("savings_members.id"), nullable=False),
    Column("meeting_id", Integer, ForeignKey("savings_meetings.id"), nullable=True),
    Column("disbursed_on", Date, nullable=False),
    Column("principal", BigInteger, nullable=False),
    Column("interest_rate_monthly_percent", String(12), nullable=False),
    Column("interest_method", String(10), nullable=False),
    Column("term_months", SmallInteger, nullable=False),
    # active -> repaid | written_off | rolled_over (what a share-out left became a new loan)
    Column("status", String(12), nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("rolled_from_id", Integer, ForeignKey("savings_loans.id"), nullable=True),
    CheckConstraint("status IN ('active', 'repaid', 'written_off', 'rolled_over')", name="status"),
    Index("ix_savings_loans_book_member", "book_id", "member_id"),
)

savings_loan_payments = Table(
    "savings_loan_payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("loan_id", Integer, ForeignKey("savings_loans.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("kind", String(12), nullable=False),  # repayment, share_out, write_off
    Column("interest", BigInteger, nullable=False),
    Column("principal", BigInteger, nullable=False),
    Column("meeting_id", Integer, ForeignKey("savings_meetings.id"), nullable=True),
    CheckConstraint("kind IN ('repayment', 'share_out', 'write_off')", name="kind"),
    Index("ix_savings_loan_payments_loan", "loan_id"),
)

savings_share_outs = Table(
    "savings_share_outs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("savings_groups.book_id"), nullable=False),
    Column("cycle_id", Integer, ForeignKey("savings_cycles.id"), nullable=False, unique=True),
    Column("date", Date, nullable=False),
    Column("total_shares", Integer, nullable=False),
    Column("cash_available", BigInteger, nullable=False),
    Column("value_per_share", String(80), nullable=False),  # exact fraction "n/d"
    Column("social_fund", BigInteger, nullable=False),
    Column("carried_forward", BigInteger, nullable=False),
    Column("loans_carried_forward", BigInteger, nullable=False),
    # The cycle's results as the share-out closed them (income positive, expenses positive).
    Column("interest_income", BigInteger, nullable=False),
    Column("fines_income", BigInteger, nullable=False),
    Column("write_offs", BigInteger, nullable=False),
    Column("cash_differences", BigInteger, nullable=False),
    Column("carried_in", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
)

savings_share_out_lines = Table(
    "savings_share_out_lines",
    metadata,
    Column("share_out_id", Integer, ForeignKey("savings_share_outs.id"), primary_key=True),
    Column("member_id", Integer, ForeignKey("savings_members.id"), primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("shares", Integer, nullable=False),
    Column("savings", BigInteger, nullable=False),
    Column("interest_due", BigInteger, nullable=False),
    Column("share_value", BigInteger, nullable=False),
    Column("profit", BigInteger, nullable=False),
    Column("interest_deducted", BigInteger, nullable=False),
    Column("principal_deducted", BigInteger, nullable=False),
    Column("payout", BigInteger, nullable=False),
    Column("loan_carried", BigInteger, nullable=False),
)


# -- training and outcomes (0005) -------------------------------------------------------------

# A livestock (or vegetable) training paid from an award's budget line. `topics` holds one or
# more topic codes separated by spaces; a participant completes it on attending at least
# `completion_days_min` of its days.
trainings = Table(
    "trainings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("topics", String(200), nullable=False),
    Column("title", String(200), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("province", String(100), nullable=False),
    Column("place", String(200), nullable=False),
    Column("trainer", String(200), nullable=False),
    Column("award_id", Integer, ForeignKey("awards.id"), nullable=False),
    Column("budget_line_id", Integer, ForeignKey("budget_lines.id"), nullable=False),
    Column("completion_days_min", SmallInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_trainings_province", "province"),
    CheckConstraint("end_date >= start_date", name="dates_ordered"),
    CheckConstraint("completion_days_min >= 1", name="completion_days_positive"),
)

# A cost item of a training, posted through the budget line (its `budget_spends` row measures
# it in the award's currency). Append-only.
training_costs = Table(
    "training_costs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("training_id", Integer, ForeignKey("trainings.id"), nullable=False),
    Column("transaction_id", Integer, ForeignKey("transactions.id"), nullable=False, unique=True),
    Column("item", String(20), nullable=False),
    Column("date", Date, nullable=False),
    Column("currency", String(24), nullable=False),
    Column("units", BigInteger, nullable=False),
    Index("ix_training_costs_training", "training_id"),
    CheckConstraint("units > 0", name="units_positive"),
)

training_participants = Table(
    "training_participants",
    metadata,
    Column("training_id", Integer, ForeignKey("trainings.id"), primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), primary_key=True),
    Column("people", SmallInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_training_participants_household", "household_id"),
    CheckConstraint("people >= 1", name="people_positive"),
)

# Which people of a participating household are its trainees (0015). A participant recorded
# before then (or without naming them) has its `people` count only.
training_trainees = Table(
    "training_trainees",
    metadata,
    Column("training_id", Integer, ForeignKey("trainings.id"), primary_key=True),
    Column("member_id", Integer, ForeignKey("household_members.id"), primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Index("ix_training_trainees_household", "household_id"),
)

# How many people of a participating household attended on one day. Append-only.
training_attendance = Table(
    "training_attendance",
    metadata,
    Column("training_id", Integer, ForeignKey("trainings.id"), primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("people", SmallInteger, nullable=False),
    CheckConstraint("people >= 1", name="people_positive"),
)

# A follow-up visit to a household: what the officer counted, per species, and the feed and
# vet costs, in `currency`. Its movements are posted in the household's book. Append-only.
livestock_visits = Table(
    "livestock_visits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("officer", String(64), nullable=False),
    Column("currency", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("feed_cost", BigInteger, nullable=False),
    Column("vet_cost", BigInteger, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_livestock_visits_household_date", "household_id", "date"),
    CheckConstraint("feed_cost >= 0 AND vet_cost >= 0", name="costs_not_negative"),
)

# One species at one visit, in head. `expected` is what the book held after the movements;
# `counted - expected` was posted as an adjustment with its reason. Append-only.
livestock_visit_lines = Table(
    "livestock_visit_lines",
    metadata,
    Column("visit_id", Integer, ForeignKey("livestock_visits.id"), primary_key=True),
    Column("species", String(24), ForeignKey("commodities.code"), primary_key=True),
    Column("counted", BigInteger, nullable=False),
    Column("births", BigInteger, nullable=False),
    Column("deaths", BigInteger, nullable=False),
    Column("bought", BigInteger, nullable=False),
    Column("bought_price", BigInteger, nullable=False),  # total, in the visit's currency
    Column("sold", BigInteger, nullable=False),
    Column("sold_price", BigInteger, nullable=False),  # total, in the visit's currency
    Column("eaten", BigInteger, nullable=False),
    Column("passed_on", BigInteger, nullable=False),
    Column("expected", BigInteger, nullable=False),
    Column("adjustment_reason", Text, nullable=True),
    Column("transaction_id", Integer, ForeignKey("transactions.id"), nullable=True),
    CheckConstraint(
        "counted >= 0 AND births >= 0 AND deaths >= 0 AND bought >= 0 AND sold >= 0 "
        "AND eaten >= 0 AND passed_on >= 0 AND bought_price >= 0 AND sold_price >= 0",
        name="head_not_negative",
    ),
)

# Deaths of one species at one visit by cause. Append-only.
livestock_deaths = Table(
    "livestock_deaths",
    metadata,
    Column("visit_id", Integer, ForeignKey("livestock_visits.id"), primary_key=True),
    Column("species", String(24), ForeignKey("commodities.code"), primary_key=True),
    Column("cause", String(20), primary_key=True),
    Column("head", BigInteger, nullable=False),
    CheckConstraint("head > 0", name="head_positive"),
)

# A household's income for one month from one source. `baseline_month` repeats `month` for
# the baseline before support, NULL otherwise: one baseline per household and month is a
# database fact (NULLs never collide). Append-only.
household_income = Table(
    "household_income",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("month", Date, nullable=False),  # the first day of the month
    Column("source", String(20), nullable=False),
    Column("currency", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("baseline", Boolean, nullable=False),
    Column("baseline_month", Date, nullable=True),
    Column("transaction_id", Integer, ForeignKey("transactions.id"), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_household_income_household_month", "household_id", "month"),
    UniqueConstraint("household_id", "baseline_month", name="uq_household_income_baseline"),
    CheckConstraint("units > 0", name="units_positive"),
    CheckConstraint(
        "source IN ('livestock', 'crops', 'small_business', 'wages', 'remittances', 'other')",
        name="source",
    ),
)


# -- reconciliation: bank statements, matches, reconciliations and cash counts --------------

# One import of a bank statement file into an account. Its lines are kept in
# `statement_lines`; a line already stored (by fingerprint) is not stored again.
statement_imports = Table(
    "statement_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("currency", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("file_name", String(200), nullable=False, server_default=""),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
    Column("lines_read", Integer, nullable=False),
    Column("lines_added", Integer, nullable=False),
    Column("closing_balance", BigInteger, nullable=True),  # the file's last running balance
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_statement_imports_account", "account_id"),
)

statement_lines = Table(
    "statement_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("import_id", Integer, ForeignKey("statement_imports.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("description", String(500), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("currency", String(24), nullable=False),
    Column("units", BigInteger, nullable=False),  # in: +, out: -
    Column("balance", BigInteger, nullable=True),  # the bank's running balance after it
    Column("fingerprint", String(64), nullable=False),
    UniqueConstraint("account_id", "fingerprint", name="uq_statement_lines_fingerprint"),
    Index("ix_statement_lines_account_date", "account_id", "date"),
)

# An accepted match: statement lines and postings of one account that are the same money.
# A line or a posting belongs to at most one match (UNIQUE below).
reconciliation_matches = Table(
    "reconciliation_matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("how", String(20), nullable=False),  # 'proposed' (accepted), 'manual', 'adjustment'
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    Index("ix_reconciliation_matches_account", "account_id"),
    CheckConstraint("how IN ('proposed', 'manual', 'adjustment')", name="how"),
)

matched_lines = Table(
    "matched_lines",
    metadata,
    Column("statement_line_id", Integer, ForeignKey("statement_lines.id"), primary_key=True),
    Column("match_id", Integer, ForeignKey("reconciliation_matches.id"), nullable=False),
    Index("ix_matched_lines_match", "match_id"),
)

matched_postings = Table(
    "matched_postings",
    metadata,
    Column("posting_id", Integer, ForeignKey("postings.id"), primary_key=True),
    Column("match_id", Integer, ForeignKey("reconciliation_matches.id"), nullable=False),
    Index("ix_matched_postings_match", "match_id"),
)

# A proposal someone rejected: this line and this posting are not proposed together again.
rejected_pairs = Table(
    "rejected_pairs",
    metadata,
    Column("statement_line_id", Integer, ForeignKey("statement_lines.id"), primary_key=True),
    Column("posting_id", Integer, ForeignKey("postings.id"), primary_key=True),
    Column("book_id", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
)

# A closed reconciliation (a bank statement's closing balance) or a cash count: the balance
# found at the end of `date`, recorded in the journal as a balance assertion.
reconciliations = Table(
    "reconciliations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # 'statement', 'cash_count'
    Column("date", Date, nullable=False),
    Column("currency", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("counted_units", BigInteger, nullable=False),  # the statement's or the count's
    Column("ledger_units", BigInteger, nullable=False),  # the ledger's before any adjustment
    Column("adjustment_transaction_id", Integer, ForeignKey("transactions.id"), nullable=True),
    Column("balance_assertion_id", Integer, ForeignKey("balance_assertions.id"), nullable=False),
    Column("lines_unmatched", Integer, nullable=False),  # statement lines on or before `date`
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    UniqueConstraint("account_id", "currency", "date", name="uq_reconciliations_point"),
    Index("ix_reconciliations_book_date", "book_id", "date"),
    CheckConstraint("kind IN ('statement', 'cash_count')", name="kind"),
)

# -- attachments: scans and photos of the paper behind a record ------------------------------

# Each distinct file once, by its SHA-256: an identical upload adds a link, not a copy. In the
# database (not a directory) so one backup and one transaction hold the files and the books.
attachment_files = Table(
    "attachment_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(40), nullable=False),  # found from the content, never the name
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint(
        "media_type IN ('image/jpeg', 'image/png', 'application/pdf')", name="media_type"
    ),
)

# A file attached to a record: a transaction, a disbursement, a bank statement import or an
# award. `personal` (a disbursement's thumbprinted receipt) is never shown to auditors nor
# exported.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("record_kind", String(20), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("sha256", String(64), ForeignKey("attachment_files.sha256"), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("personal", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    UniqueConstraint("record_kind", "record_id", "sha256", name="uq_attachments_record_file"),
    Index("ix_attachments_book", "book_id"),
    CheckConstraint(
        "record_kind IN ('transaction', 'disbursement', 'statement', 'award')",
        name="record_kind",
    ),
)

# -- spreadsheet imports (0016) ----------------------------------------------------------------

# One file imported (ledger/intake): its content's SHA-256 names it, so the same file imported
# again adds nothing (UNIQUE below); rows already recorded are recognised by their natural
# keys and counted in `already_present`.
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("file_name", String(200), nullable=False, server_default=""),
    Column("rows", Integer, nullable=False),
    Column("added", Integer, nullable=False),
    Column("already_present", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(64), nullable=True),
    UniqueConstraint("kind", "content_sha256", name="uq_imports_kind_content"),
)
