"""Thin controllers: parse, call a ledger service inside a unit of work, shape the answer."""
