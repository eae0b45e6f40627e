"""View models for reports: registers as CSV rows, and printed documents (PDFs) rendered with
Jinja2 + WeasyPrint.

Each document has a frozen view model (what is printed, already read from the ledger) and a
template in the repository's `templates/`. Reports read through `ledger.store` and the areas'
services and never write; households appear by case code only (names live in `ledger.people`).
"""
