"""The HTTP layer (Litestar only): app factory, error mapping, thin controllers, msgspec schemas.

It calls ledger services and holds no SQL and no business rules.
"""
