"""Livelihood ledger: the domain. Never imports the web framework (see docs/ARCHITECTURE.md)."""
