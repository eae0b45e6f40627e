"""View models for reports (registers as CSV rows; PDFs rendered with Jinja2 + WeasyPrint).

Reads through `ledger.store` and the areas' services; never writes."""
