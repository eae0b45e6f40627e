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
    Index("ix_transactions_book_date_id", "book_id", "date", "id"),
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
    # Access tokens issued before this moment are void (a password change, a disabling).
    Column("credentials_changed_at", UTCDateTime(), nullable=True),
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
    Index("ix_audit_events_at", "at"),
    Index("ix_audit_events_user", "user_id", "at"),
    Index("ix_audit_events_book", "book", "at"),
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
    Index("ix_budget_spends_line", "budget_line_id"),
    CheckConstraint(
        "rate_method IN ('same_currency', 'average_exchange', 'explicit')", name="rate_method"
    ),
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

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", Integer, ForeignKey("books.id"), nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("award_id", Integer, ForeignKey("awards.id"), nullable=False),
    Column("budget_line_id", Integer, ForeignKey("budget_lines.id"), nullable=False),
    Column("business_type", String(40), nullable=False),
    Column("currency", String(24), nullable=False),  # the award's
    Column("approved_amount", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("purpose", Text, nullable=False, server_default=""),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", UTCDateTime(), nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", UTCDateTime(), nullable=True),
    Column("ended_by", String(64), nullable=True),  # who cancelled or closed it
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("end_reason", Text, nullable=True),
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
