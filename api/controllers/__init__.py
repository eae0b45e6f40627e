"""Thin controllers: parse, call a ledger service (in a read, or in the `work` given to the
writer), shape the answer."""
