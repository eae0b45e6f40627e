"""Exports of the ledger: Beancount text, a pure printer over the stored rows, streamed."""
