"""The pure double-entry model: standard library only.

Amounts are integers in a commodity's smallest unit inside the core; `Decimal` only at the edges.
Problems are returned as `LedgerError` values with a stable `code` (errors as data).
"""
