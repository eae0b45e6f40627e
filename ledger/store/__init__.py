"""Persistence: SQLAlchemy 2 Core tables, the database handle, and the journal.

`ledger.store.journal` is the only code that writes transactions, postings and balances.
"""
