"""Who may do what: users, roles, scopes, sign-in tokens and the audit trail.

`policy` is pure (roles x actions x scopes). `users` and `audit` keep their state through
`ledger.store`. The web layer only asks `decide()` and maps its answer to 401/403/404.
"""
